use super::schema::{grants, refresh_tokens};
use super::{Store, StoreResult};
use diesel::prelude::*;

/// One authorization: created with its code; its refresh tokens and access tokens hang off it,
/// so revoking the grant revokes them all.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = grants)]
pub struct GrantRow {
    pub id: String,
    pub code_hash: Option<String>,
    pub client_id: String,
    pub sub: String,
    pub sid: Option<String>,
    pub scope: String,
    pub claims: Option<String>,
    pub nonce: Option<String>,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub acr: String,
    pub amr: String,
    pub created_at: i64,
    pub code_expires_at: i64,
    pub code_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The DPoP key a public client's refresh tokens are bound to.
    pub dpop_jkt: Option<String>,
}

impl Store {
    /// Binds a grant's refresh tokens to a DPoP key (at the code exchange).
    pub fn bind_grant_dpop(&self, grant_id: &str, jkt: &str) -> StoreResult<()> {
        diesel::update(grants::table.find(grant_id))
            .set(grants::dpop_jkt.eq(jkt))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }
}

impl GrantRow {
    pub fn amr_list(&self) -> Vec<String> {
        self.amr
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// What happened when a code was presented.
#[derive(Debug)]
pub enum CodeRedemption {
    /// First use: the code is now spent.
    Redeemed(GrantRow),
    /// The code was spent before: an attack or a bug; the caller revokes the grant.
    Replayed(GrantRow),
    /// The code belongs to another client.
    OtherClient,
    Unknown,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshRow {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug)]
pub enum RefreshUse {
    /// First use: rotated; the grant is returned.
    Rotated(Box<GrantRow>),
    /// Used before: reuse of a rotated token (RFC 9700 4.14.2).
    Reused(RefreshRow),
    Unknown,
}

impl Store {
    pub fn insert_grant(&self, row: &GrantRow) -> StoreResult<()> {
        diesel::insert_into(grants::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn grant(&self, id: &str) -> StoreResult<Option<GrantRow>> {
        Ok(grants::table
            .find(id)
            .select(GrantRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Spends a code atomically: of two concurrent redemptions exactly one wins. A code
    /// presented by another client than its own is not spent (`Redeemed` is never returned then).
    pub fn redeem_code(
        &self,
        code_hash: &str,
        client_id: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        let mut conn = self.conn()?;
        let won = diesel::update(
            grants::table
                .filter(grants::code_hash.eq(code_hash))
                .filter(grants::client_id.eq(client_id))
                .filter(grants::code_used_at.is_null()),
        )
        .set(grants::code_used_at.eq(now))
        .execute(&mut *conn)?
            == 1;
        let row = grants::table
            .filter(grants::code_hash.eq(code_hash))
            .select(GrantRow::as_select())
            .first(&mut *conn)
            .optional()?;
        Ok(match (row, won) {
            (Some(row), _) if row.client_id != client_id => CodeRedemption::OtherClient,
            (Some(row), true) => CodeRedemption::Redeemed(row),
            (Some(row), false) => CodeRedemption::Replayed(row),
            (None, _) => CodeRedemption::Unknown,
        })
    }

    /// Revokes a grant and every refresh token of it. Returns true if it was active.
    pub fn revoke_grant(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let n = super::connection::write_transaction(&mut conn, |conn| {
            let n = diesel::update(grants::table.find(id).filter(grants::revoked_at.is_null()))
                .set(grants::revoked_at.eq(now))
                .execute(conn)?;
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::grant_id.eq(id))
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
            Ok::<_, diesel::result::Error>(n)
        })?;
        Ok(n == 1)
    }

    /// Grants of a browser session that are still active (for back-channel logout).
    pub fn grants_of_session(&self, sid: &str) -> StoreResult<Vec<GrantRow>> {
        Ok(grants::table
            .filter(grants::sid.eq(sid))
            .filter(grants::revoked_at.is_null())
            .select(GrantRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// A citizen's active grants bound to a device key (their bound apps), oldest first.
    pub fn device_grants_of(&self, sub: &str) -> StoreResult<Vec<GrantRow>> {
        Ok(grants::table
            .filter(grants::sub.eq(sub))
            .filter(grants::dpop_jkt.is_not_null())
            .filter(grants::revoked_at.is_null())
            .order(grants::created_at.asc())
            .select(GrantRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    pub fn is_grant_active(&self, id: &str) -> StoreResult<bool> {
        let revoked: Option<Option<i64>> = grants::table
            .find(id)
            .select(grants::revoked_at)
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(matches!(revoked, Some(None)))
    }

    pub fn insert_refresh(&self, row: &RefreshRow) -> StoreResult<()> {
        diesel::insert_into(refresh_tokens::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRow>> {
        Ok(refresh_tokens::table
            .find(token_hash)
            .select(RefreshRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Rotates a refresh token: marks it used and inserts its successor, atomically.
    /// A token that was already used reports `Reused` and nothing changes here.
    pub fn rotate_refresh(
        &self,
        token_hash: &str,
        successor: &RefreshRow,
        now: i64,
    ) -> StoreResult<RefreshUse> {
        let mut conn = self.conn()?;
        let outcome = super::connection::write_transaction(&mut conn, |conn| {
            let Some(row) = refresh_tokens::table
                .find(token_hash)
                .select(RefreshRow::as_select())
                .first(conn)
                .optional()?
            else {
                return Ok::<_, diesel::result::Error>(RefreshUse::Unknown);
            };
            let won = diesel::update(
                refresh_tokens::table
                    .find(token_hash)
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?
                == 1;
            if !won {
                return Ok(RefreshUse::Reused(row));
            }
            let Some(grant) = grants::table
                .find(&row.grant_id)
                .filter(grants::revoked_at.is_null())
                .select(GrantRow::as_select())
                .first(conn)
                .optional()?
            else {
                return Ok(RefreshUse::Unknown);
            };
            diesel::insert_into(refresh_tokens::table)
                .values(successor)
                .execute(conn)?;
            Ok(RefreshUse::Rotated(Box::new(grant)))
        })?;
        Ok(outcome)
    }
}
