//! Pre-authorized codes of credential offers and the access tokens they are redeemed for.
use super::schema::{credential_offers, credential_tokens};
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_offers)]
pub struct CredentialOfferRow {
    pub code_hash: String,
    pub licence_id: String,
    pub tx_code_hash: String,
    pub failed_attempts: i64,
    pub expires_at: i64,
    pub spent_at: Option<i64>,
    pub created_at: i64,
}

impl Store {
    pub fn insert_credential_offer(&self, row: &CredentialOfferRow) -> StoreResult<()> {
        diesel::insert_into(credential_offers::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn credential_offer(&self, code_hash: &str) -> StoreResult<Option<CredentialOfferRow>> {
        Ok(credential_offers::table
            .find(code_hash)
            .select(CredentialOfferRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Counts a wrong transaction code; at `burn_at` failures the code is spent for good.
    /// Returns the failures counted so far (0 if the offer was already spent).
    pub fn fail_credential_offer(
        &self,
        code_hash: &str,
        burn_at: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let conn = &mut *self.conn()?;
        conn.transaction(|conn| {
            let n = diesel::update(
                credential_offers::table
                    .find(code_hash)
                    .filter(credential_offers::spent_at.is_null()),
            )
            .set(credential_offers::failed_attempts.eq(credential_offers::failed_attempts + 1))
            .execute(conn)?;
            if n == 0 {
                return Ok(0);
            }
            let failed: i64 = credential_offers::table
                .find(code_hash)
                .select(credential_offers::failed_attempts)
                .first(conn)?;
            if failed >= burn_at {
                diesel::update(credential_offers::table.find(code_hash))
                    .set(credential_offers::spent_at.eq(now))
                    .execute(conn)?;
            }
            Ok(failed)
        })
    }

    /// Spends the code once: true for the one caller that did.
    pub fn spend_credential_offer(&self, code_hash: &str, now: i64) -> StoreResult<bool> {
        let n = diesel::update(
            credential_offers::table
                .find(code_hash)
                .filter(credential_offers::spent_at.is_null())
                .filter(credential_offers::expires_at.gt(now)),
        )
        .set(credential_offers::spent_at.eq(now))
        .execute(&mut *self.conn()?)?;
        Ok(n == 1)
    }

    pub fn insert_credential_token(
        &self,
        token_hash: &str,
        licence_id: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        diesel::insert_into(credential_tokens::table)
            .values((
                credential_tokens::token_hash.eq(token_hash),
                credential_tokens::licence_id.eq(licence_id),
                credential_tokens::expires_at.eq(expires_at),
                credential_tokens::created_at.eq(now),
            ))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    /// The licence a live credential token is for.
    pub fn credential_token_licence(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        Ok(credential_tokens::table
            .find(token_hash)
            .filter(credential_tokens::expires_at.gt(now))
            .select(credential_tokens::licence_id)
            .first(&mut *self.conn()?)
            .optional()?)
    }
}
