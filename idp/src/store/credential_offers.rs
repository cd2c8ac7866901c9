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
    pub attempts: i64,
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

    /// Counts one redemption attempt before its transaction code is compared, so concurrent
    /// guesses each use up one of the `max`: false when the offer is unknown, spent, expired or
    /// out of attempts.
    pub fn reserve_offer_attempt(&self, code_hash: &str, max: i64, now: i64) -> StoreResult<bool> {
        let n = diesel::update(
            credential_offers::table
                .find(code_hash)
                .filter(credential_offers::spent_at.is_null())
                .filter(credential_offers::expires_at.gt(now))
                .filter(credential_offers::attempts.lt(max)),
        )
        .set(credential_offers::attempts.eq(credential_offers::attempts + 1))
        .execute(&mut *self.conn()?)?;
        Ok(n == 1)
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

    /// Offers and credential tokens past their expiry (kept a day, for the audit's sake).
    pub fn purge_credential_offers(&self, now: i64) -> StoreResult<usize> {
        let conn = &mut *self.conn()?;
        let mut n = diesel::delete(
            credential_offers::table.filter(credential_offers::expires_at.lt(now - 86_400)),
        )
        .execute(conn)?;
        n += diesel::delete(
            credential_tokens::table.filter(credential_tokens::expires_at.lt(now - 86_400)),
        )
        .execute(conn)?;
        Ok(n)
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
