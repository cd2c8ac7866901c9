use super::schema::{revoked_tokens, used_jtis};
use super::{Store, StoreError, StoreResult};
use diesel::prelude::*;

impl Store {
    /// Records a revoked access token until it would have expired anyway.
    pub fn revoke_jti(&self, jti: &str, expires_at: i64) -> StoreResult<()> {
        match diesel::insert_into(revoked_tokens::table)
            .values((
                revoked_tokens::jti.eq(jti),
                revoked_tokens::expires_at.eq(expires_at),
            ))
            .execute(&mut *self.conn()?)
        {
            Ok(_) => Ok(()),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict => Ok(()),
                other => Err(other),
            },
        }
    }

    pub fn is_jti_revoked(&self, jti: &str) -> StoreResult<bool> {
        let found: Option<String> = revoked_tokens::table
            .find(jti)
            .select(revoked_tokens::jti)
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(found.is_some())
    }

    /// Remembers a one-time jti; false when it was seen before (a replay).
    pub fn use_jti_once(&self, jti: &str, expires_at: i64) -> StoreResult<bool> {
        match diesel::insert_into(used_jtis::table)
            .values((used_jtis::jti.eq(jti), used_jtis::expires_at.eq(expires_at)))
            .execute(&mut *self.conn()?)
        {
            Ok(_) => Ok(true),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Deletes what has expired everywhere. Run periodically by one task per replica.
    pub fn purge_expired(&self, now: i64) -> StoreResult<usize> {
        use super::schema::{auth_requests, grants, refresh_tokens, sessions, throttle};
        let mut conn = self.conn()?;
        let mut n =
            diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(now)))
                .execute(&mut *conn)?;
        n += diesel::delete(
            throttle::table
                .filter(throttle::window_start.lt(now - 86_400))
                .filter(
                    throttle::locked_until
                        .is_null()
                        .or(throttle::locked_until.lt(now)),
                ),
        )
        .execute(&mut *conn)?;
        n += diesel::delete(used_jtis::table.filter(used_jtis::expires_at.lt(now)))
            .execute(&mut *conn)?;
        n += diesel::delete(auth_requests::table.filter(auth_requests::expires_at.lt(now)))
            .execute(&mut *conn)?;
        n += diesel::delete(sessions::table.filter(sessions::expires_at.lt(now)))
            .execute(&mut *conn)?;
        n += diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(now)))
            .execute(&mut *conn)?;
        // A grant whose code was never redeemed is dead once the code expired (keep a day for replay detection).
        n += diesel::delete(
            grants::table
                .filter(grants::code_used_at.is_null())
                .filter(grants::code_expires_at.lt(now - 86_400)),
        )
        .execute(&mut *conn)?;
        // These take a connection of their own: this one goes back first, so that a pool of
        // one (or a pool whose other connections are all busy) cannot wait on itself.
        drop(conn);
        n += self.purge_ceremonies(now)?;
        n += self.purge_device_codes(now)?;
        n += self.purge_qr_logins(now)?;
        n += self.purge_credential_offers(now)?;
        Ok(n)
    }
}
