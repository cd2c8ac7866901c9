//! The single sign-on session: a random cookie value in the browser, only its hash stored.
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::services::Services;
use crate::store::audit::{Claim, Step};
use crate::store::sessions::SessionRow;
use crate::store::{self, StoreResult};

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

/// Who a successful login logged in, and how.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub sub: &'a str,
    pub acr: &'a str,
    /// RFC 8176 method values.
    pub amr: &'a [&'a str],
    /// When the citizen authenticated: now, or earlier at an upstream identity provider (so
    /// that `max_age` and `auth_time` mean what they say).
    pub auth_time: i64,
    /// The parked authorization request the login serves, if any.
    pub request_id: Option<&'a str>,
}

/// The session a login opened.
#[derive(Debug)]
pub struct Opened {
    /// The cookie's value (only its hash is stored).
    pub cookie: String,
    /// Where the browser goes next: back to the request the login served, or the account page.
    pub redirect_to: String,
}

/// Opens the session a login earned: always a fresh id (no session fixation). The session, the
/// mark on the request it serves, whatever else the login settles (`also`, given the new
/// session: its throttle counters, its passkey's signature counter, the upstream session it came
/// from) and the login's audit entry (`event`) commit together or not at all: a citizen is
/// logged in exactly when the log says so, and a login pays for one commit instead of one per
/// write.
pub fn open(
    svc: &Services,
    login: &Login<'_>,
    also: impl FnOnce(&SessionRow) -> Vec<Step>,
    event: impl FnOnce(&SessionRow) -> AuditEvent,
) -> Result<Opened, Infra> {
    open_with(svc, None, login, also, event)?
        .ok_or(Infra::Corrupt("a login that claimed nothing was declined"))
}

/// As `open`, for a login that must first claim what it was granted on (a WebAuthn ceremony,
/// an approved QR login), once: `None`, with nothing written, when another request claimed it
/// first.
pub fn open_claiming(
    svc: &Services,
    claim: Claim,
    login: &Login<'_>,
    also: impl FnOnce(&SessionRow) -> Vec<Step>,
    event: impl FnOnce(&SessionRow) -> AuditEvent,
) -> Result<Option<Opened>, Infra> {
    open_with(svc, Some(claim), login, also, event)
}

fn open_with(
    svc: &Services,
    claim: Option<Claim>,
    login: &Login<'_>,
    also: impl FnOnce(&SessionRow) -> Vec<Step>,
    event: impl FnOnce(&SessionRow) -> AuditEvent,
) -> Result<Option<Opened>, Infra> {
    let cookie = keys::random_token(32);
    let now = svc.now();
    let session = SessionRow {
        id_hash: cookie_hash(&cookie),
        sid: keys::random_token(16),
        sub: login.sub.to_owned(),
        auth_time: login.auth_time.min(now),
        acr: login.acr.to_owned(),
        amr: login.amr.join(" "),
        created_at: now,
        expires_at: now + svc.config.session_ttl_secs,
        ended_at: None,
    };
    let mut steps = also(&session);
    let (event, sid) = (event(&session), session.sid.clone());
    steps.push(store::sessions::inserting(session));
    if let Some(id) = login.request_id {
        steps.push(store::auth_requests::marking_login(id.to_owned(), sid));
    }
    let written = svc
        .audit
        .append_with(event, Some(store::audit::together(claim, steps)))?;
    Ok(written.then(|| Opened {
        cookie,
        redirect_to: next_after_login(svc, login.request_id),
    }))
}

/// Where the browser goes after a login: back to the authorization request it served (marked
/// as logged in by this very session), or to the account page.
pub fn next_after_login(svc: &Services, request_id: Option<&str>) -> String {
    match request_id {
        Some(req) => svc.config.endpoint(&format!("/authorize/resume?req={req}")),
        None => svc.config.endpoint("/account"),
    }
}
