use super::connection::{write_transaction, AnyConnection};
use super::schema::{consents, grants, refresh_tokens, sessions};
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

impl GrantRow {
    pub fn amr_list(&self) -> Vec<String> {
        self.amr
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// What happened when a sealed code was presented.
#[derive(Debug)]
pub enum CodeRedemption {
    /// First use: the grant is stored, spent. Its `revoked_at` is set when what authorized the
    /// code no longer stands (the session ended, the consent was withdrawn).
    Redeemed(GrantRow),
    /// Spent before: an attack or a bug; the caller revokes the grant it gave.
    Replayed(GrantRow),
}

/// What still stands, at redemption, of what authorized a code.
#[derive(Debug)]
pub struct Standing {
    /// The browser session the code was issued in has not ended (nor been erased).
    pub session_open: bool,
    /// The scopes the citizen consents to for the client now.
    pub consent: Option<String>,
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

    /// [`redeem_sealed_code`] in a transaction of its own.
    pub fn redeem_sealed_code(
        &self,
        row: GrantRow,
        still_authorized: impl FnOnce(&Standing) -> bool,
    ) -> StoreResult<CodeRedemption> {
        let mut conn = self.conn()?;
        Ok(write_transaction(&mut conn, |conn| {
            redeem_sealed_code(conn, row, still_authorized)
        })?)
    }

    /// Revokes a grant and every refresh token of it. Returns true if it was active.
    pub fn revoke_grant(&self, id: &str, now: i64) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let n = write_transaction(&mut conn, |conn| {
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
        Ok(insert_refresh(&mut *self.conn()?, row)?)
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
        let outcome = write_transaction(&mut conn, |conn| {
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

/// A session's `ended_at` (`None` when there is no such session), locked on PostgreSQL until the
/// transaction ends (SQLite's write transaction already shuts out every other writer).
fn session_ended_at(conn: &mut AnyConnection, sid: &str) -> QueryResult<Option<Option<i64>>> {
    let query = sessions::table
        .filter(sessions::sid.eq(sid))
        .select(sessions::ended_at);
    if let AnyConnection::Postgresql(pg) = conn {
        return query.for_update().first(pg).optional();
    }
    query.first(conn).optional()
}

/// Redeems a sealed code inside the caller's write transaction: stores its grant (`row`,
/// spent) unless a grant of the same code exists, in which case that one is returned as
/// replayed. The code's session and the citizen's consent are read in the same transaction and
/// handed to `still_authorized`; a grant it refuses is stored revoked, so the code is spent
/// either way. On PostgreSQL the session row is locked first: a logout (which lists the
/// session's grants for back-channel notices) waits for this grant, and a second redemption of
/// the code waits and then sees it.
pub fn redeem_sealed_code(
    conn: &mut AnyConnection,
    mut row: GrantRow,
    still_authorized: impl FnOnce(&Standing) -> bool,
) -> QueryResult<CodeRedemption> {
    let sid = row.sid.clone().unwrap_or_default();
    let session_open = session_ended_at(conn, &sid)?.is_some_and(|ended| ended.is_none());
    let code_hash = row.code_hash.clone().unwrap_or_default();
    if let Some(spent) = grants::table
        .filter(grants::code_hash.eq(&code_hash))
        .select(GrantRow::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(CodeRedemption::Replayed(spent));
    }
    let consent = consents::table
        .find((&row.sub, &row.client_id))
        .select(consents::scope)
        .first(conn)
        .optional()?;
    if row.revoked_at.is_none()
        && !still_authorized(&Standing {
            session_open,
            consent,
        })
    {
        row.revoked_at = row.code_used_at;
    }
    diesel::insert_into(grants::table)
        .values(&row)
        .execute(conn)?;
    Ok(CodeRedemption::Redeemed(row))
}

/// The audit writer's companion (see `store::audit::Companion`) that redeems a sealed code and,
/// when the code wins, stores its first refresh token: the entry is written only then. What
/// happened is sent on `told`; `None` when another redemption of the code was stored at the
/// same moment (PostgreSQL replicas, for a code whose session is gone and so locks nothing).
pub fn code_redemption(
    row: GrantRow,
    refresh: Option<RefreshRow>,
    still_authorized: impl FnOnce(&Standing) -> bool + Send + 'static,
    told: std::sync::mpsc::SyncSender<Option<CodeRedemption>>,
) -> super::audit::Companion {
    Box::new(move |conn| {
        let redemption = match redeem_sealed_code(conn, row, still_authorized) {
            Ok(r) => r,
            Err(e) => {
                if matches!(
                    e,
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _
                    )
                ) {
                    let _ = told.send(None);
                }
                return Err(e);
            }
        };
        let won = matches!(&redemption, CodeRedemption::Redeemed(g) if g.revoked_at.is_none());
        if let (true, Some(refresh)) = (won, &refresh) {
            insert_refresh(conn, refresh)?;
        }
        let _ = told.send(Some(redemption));
        Ok(won)
    })
}

/// Stores a refresh token inside the caller's transaction.
pub fn insert_refresh(conn: &mut AnyConnection, row: &RefreshRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}
