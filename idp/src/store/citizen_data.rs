//! Everything stored about one citizen, read for their own view and export, revoked per app,
//! and erased on request.
use super::schema::{
    audit_log, auth_requests, consents, corrections, device_codes, federated_identities, grants,
    operator_roles, passkeys, qr_logins, ratings, refresh_tokens, session_upstreams, sessions,
    throttle, users, webauthn_ceremonies,
};
use super::sessions::SessionRow;
use super::{Store, StoreResult};
use crate::domain::audit::AuditEntry;
use diesel::prelude::*;

/// One app a citizen has let read their data.
#[derive(Debug, Clone, Queryable)]
pub struct ConsentRow {
    pub client_id: String,
    pub scope: String,
    pub granted_at: i64,
}

impl Store {
    pub fn consents_of(&self, sub: &str) -> StoreResult<Vec<ConsentRow>> {
        Ok(consents::table
            .filter(consents::sub.eq(sub))
            .order(consents::granted_at.desc())
            .select((consents::client_id, consents::scope, consents::granted_at))
            .load(&mut *self.conn()?)?)
    }

    /// Withdraws a citizen's consent for one app and revokes every authorization the app holds
    /// for them (its refresh tokens are spent, its access tokens fail the grant check). Returns
    /// the ids of the grants it ended; `None` when the app had neither consent nor grant.
    pub fn revoke_app(
        &self,
        sub: &str,
        client_id: &str,
        now: i64,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut conn = self.conn()?;
        Ok(super::connection::write_transaction(&mut conn, |conn| {
            let consents = diesel::delete(consents::table.find((sub, client_id))).execute(conn)?;
            let ended: Vec<String> = grants::table
                .filter(grants::sub.eq(sub))
                .filter(grants::client_id.eq(client_id))
                .filter(grants::revoked_at.is_null())
                .select(grants::id)
                .load(conn)?;
            diesel::update(grants::table.filter(grants::id.eq_any(&ended)))
                .set(grants::revoked_at.eq(now))
                .execute(conn)?;
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::grant_id.eq_any(&ended))
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)?;
            Ok::<_, diesel::result::Error>((consents > 0 || !ended.is_empty()).then_some(ended))
        })?)
    }

    /// Sessions that are still open, newest first.
    pub fn open_sessions_of(&self, sub: &str, now: i64) -> StoreResult<Vec<SessionRow>> {
        Ok(sessions::table
            .filter(sessions::sub.eq(sub))
            .filter(sessions::ended_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .order(sessions::created_at.desc())
            .select(SessionRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// The audit entries a citizen is the actor of, newest first, of the given kinds.
    pub fn audit_of_actor(
        &self,
        actor: &str,
        kinds: &[&str],
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<super::audit::AuditRow> = audit_log::table
            .filter(audit_log::actor.eq(actor))
            .filter(audit_log::kind.eq_any(kinds))
            .order(audit_log::seq.desc())
            .limit(limit)
            .select(super::audit::AuditRow::as_select())
            .load(&mut *self.conn()?)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The upstream providers a citizen's account is linked to: (upstream code, linked at).
    pub fn federated_links_of(&self, sub: &str) -> StoreResult<Vec<(String, i64)>> {
        Ok(federated_identities::table
            .filter(federated_identities::sub.eq(sub))
            .select((
                federated_identities::upstream_code,
                federated_identities::created_at,
            ))
            .load(&mut *self.conn()?)?)
    }

    /// Erases an account and everything keyed by it, in one transaction: its authorizations
    /// (and with them every token), consents, sessions, passkeys, ceremonies, pending logins
    /// and federation links. The audit log keeps its entries: their actor is the account's
    /// random subject, which after this names no one. False when there is no such account.
    pub fn erase_citizen(&self, sub: &str) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        Ok(super::connection::write_transaction(&mut conn, |conn| {
            let exists = users::table
                .find(sub)
                .select(users::sub)
                .first::<String>(conn)
                .optional()?;
            if exists.is_none() {
                return Ok(false);
            }
            let their_grants: Vec<String> = grants::table
                .filter(grants::sub.eq(sub))
                .select(grants::id)
                .load(conn)?;
            diesel::delete(
                refresh_tokens::table.filter(refresh_tokens::grant_id.eq_any(&their_grants)),
            )
            .execute(conn)?;
            diesel::delete(grants::table.filter(grants::sub.eq(sub))).execute(conn)?;
            diesel::delete(consents::table.filter(consents::sub.eq(sub))).execute(conn)?;
            let sids: Vec<String> = sessions::table
                .filter(sessions::sub.eq(sub))
                .select(sessions::sid)
                .load(conn)?;
            diesel::delete(session_upstreams::table.filter(session_upstreams::sid.eq_any(&sids)))
                .execute(conn)?;
            diesel::delete(sessions::table.filter(sessions::sub.eq(sub))).execute(conn)?;
            diesel::delete(auth_requests::table.filter(auth_requests::consent_sub.eq(sub)))
                .execute(conn)?;
            diesel::delete(passkeys::table.filter(passkeys::sub.eq(sub))).execute(conn)?;
            diesel::delete(webauthn_ceremonies::table.filter(webauthn_ceremonies::sub.eq(sub)))
                .execute(conn)?;
            diesel::delete(device_codes::table.filter(device_codes::sub.eq(sub))).execute(conn)?;
            diesel::delete(qr_logins::table.filter(qr_logins::sub.eq(sub))).execute(conn)?;
            diesel::delete(corrections::table.filter(corrections::sub.eq(sub))).execute(conn)?;
            diesel::delete(ratings::table.filter(ratings::sub.eq(sub))).execute(conn)?;
            diesel::delete(federated_identities::table.filter(federated_identities::sub.eq(sub)))
                .execute(conn)?;
            diesel::delete(operator_roles::table.filter(operator_roles::sub.eq(sub)))
                .execute(conn)?;
            diesel::delete(throttle::table.find(format!("acct:{sub}"))).execute(conn)?;
            diesel::delete(users::table.find(sub)).execute(conn)?;
            Ok::<_, diesel::result::Error>(true)
        })?)
    }
}
