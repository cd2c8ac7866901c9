//! The single sign-on session: a random cookie value in the browser, only its hash stored.
use crate::services::Services;
use crate::store::sessions::SessionRow;
use crate::store::StoreResult;

pub fn cookie_hash(cookie: &str) -> String {
    keys::sha256_b64(cookie.as_bytes())
}

/// The active session behind a cookie value, if any.
pub fn current(svc: &Services, cookie: Option<&str>) -> StoreResult<Option<SessionRow>> {
    match cookie {
        Some(value) if !value.is_empty() && value.len() <= 128 => {
            svc.store.active_session(&cookie_hash(value), svc.now())
        }
        _ => Ok(None),
    }
}

/// A new session after a successful login. Always a fresh id (no session fixation);
/// returns the cookie value and the row.
pub fn start(
    svc: &Services,
    sub: &str,
    acr: &str,
    amr: &[&str],
) -> StoreResult<(String, SessionRow)> {
    start_authenticated_at(svc, sub, acr, amr, svc.now())
}

/// A new session for an authentication that happened at `auth_time` (at an upstream identity
/// provider, say): `max_age` and `auth_time` then mean what they say.
pub fn start_authenticated_at(
    svc: &Services,
    sub: &str,
    acr: &str,
    amr: &[&str],
    auth_time: i64,
) -> StoreResult<(String, SessionRow)> {
    let cookie = keys::random_token(32);
    let now = svc.now();
    let row = SessionRow {
        id_hash: cookie_hash(&cookie),
        sid: keys::random_token(16),
        sub: sub.to_owned(),
        auth_time: auth_time.min(now),
        acr: acr.to_owned(),
        amr: amr.join(" "),
        created_at: now,
        expires_at: now + svc.config.session_ttl_secs,
        ended_at: None,
    };
    svc.store.insert_session(&row)?;
    Ok((cookie, row))
}

/// Where the browser goes after a login: back to the authorization request it served (marked
/// as logged in by this very session), or to the account page.
pub fn continue_after_login(
    svc: &Services,
    request_id: Option<&str>,
    session: &SessionRow,
) -> StoreResult<String> {
    Ok(match request_id {
        Some(req) => {
            svc.store.mark_request_login(req, &session.sid)?;
            svc.config.endpoint(&format!("/authorize/resume?req={req}"))
        }
        None => svc.config.endpoint("/account"),
    })
}
