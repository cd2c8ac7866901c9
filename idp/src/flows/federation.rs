//! Logging a citizen in through an upstream identity provider (a province, or the hub): the
//! state of the trip (sealed into the browser's cookie, so any replica takes the way back), and
//! the arrival: the citizen linked by the ID number the upstream verified, a roaming account made
//! on first visit, a session here carrying the upstream's `acr` and `amr`.
use super::upstreams::UpstreamInfo;
use super::{sessions, Infra};
use crate::domain::acr;
use crate::domain::audit::AuditEvent;
use crate::domain::id_number::IdNumber;
use crate::services::Services;
use crate::store;
use crate::store::session_upstreams::SessionUpstreamRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// How long a trip to an upstream may take (login pages included).
pub const TRIP_SECS: i64 = 600;
const STATE_AAD: &[u8] = b"idp-federation-state-v1";

/// What this node remembers of a trip, in the browser's cookie, sealed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Trip {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub upstream: String,
    /// The parked authorization request the login serves, if any.
    pub request_id: Option<String>,
    /// The parked request asked for no page (prompt=none): the upstream is asked the same.
    pub silent: bool,
    /// For the hub: the home region of the citizen (passed on as `login_hint=region:CODE`).
    pub region_hint: Option<String>,
    /// A silent look for a federation session before this node shows its login page: when the
    /// upstream has none, the page is shown after all.
    pub probe: bool,
    /// The app asked for a fresh login (`prompt=login`): the upstream is asked the same.
    pub force_login: bool,
    /// The app's `max_age`, passed on: the upstream's `auth_time` is what this node's session
    /// carries, so an old login upstream is not made new here.
    pub max_age: Option<i64>,
    /// Ask the upstream for the ID number: always of a region (linking needs what it verified),
    /// of the hub only when the app here asked for it (the citizen then consents at the hub).
    pub want_id_number: bool,
    pub expires_at: i64,
}

impl Trip {
    pub fn new(upstream: &str, request_id: Option<&str>, silent: bool, now: i64) -> Self {
        Self {
            state: keys::random_token(24),
            nonce: keys::random_token(24),
            // RFC 7636: 43 to 128 characters; 32 random bytes give 43.
            pkce_verifier: keys::random_token(32),
            upstream: upstream.to_owned(),
            request_id: request_id.map(str::to_owned),
            silent,
            region_hint: None,
            probe: false,
            force_login: false,
            max_age: None,
            want_id_number: upstream != crate::domain::upstream::HUB_CODE,
            expires_at: now + TRIP_SECS,
        }
    }

    pub fn seal(&self, svc: &Services) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(svc.secrets.federation_state.seal(&json, STATE_AAD))
    }

    /// The trip the cookie holds, if it is ours, unexpired and answers `state`.
    pub fn open(svc: &Services, cookie: &str, state: &str) -> Option<Self> {
        let sealed = URL_SAFE_NO_PAD.decode(cookie).ok()?;
        let json = svc.secrets.federation_state.open(&sealed, STATE_AAD).ok()?;
        let trip: Trip = serde_json::from_slice(&json).ok()?;
        let same = keys::constant_time_eq(trip.state.as_bytes(), state.as_bytes());
        (same && svc.now() < trip.expires_at).then_some(trip)
    }
}

/// What the upstream's verified ID token said of the citizen.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub upstream_sub: String,
    /// The upstream's session (`sid`), for logout along the chain.
    pub upstream_sid: Option<String>,
    pub id_number: Option<String>,
    pub name: Option<String>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// When the citizen authenticated upstream (the ID token's `auth_time`, else its `iat`).
    pub auth_time: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    #[error("no such upstream, or it is disabled")]
    UnknownUpstream,
    #[error("the login took too long or was already finished: start again")]
    TripExpired,
    #[error("the upstream did not release a valid ID number, which linking needs")]
    NoIdNumber,
    #[error("the upstream vouched for a citizen of another region")]
    OutsideRegion,
    #[error("the upstream could not be reached in time")]
    Unreachable,
    #[error("the upstream's answer was refused: {0}")]
    Refused(String),
}

impl FederationError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownUpstream => "unknown_upstream",
            Self::TripExpired => "trip_expired",
            Self::NoIdNumber => "no_id_number",
            Self::OutsideRegion => "outside_region",
            Self::Unreachable => "upstream_unreachable",
            Self::Refused(_) => "upstream_refused",
        }
    }
}

/// Where the browser goes with its new session.
#[derive(Debug)]
pub struct Arrived {
    pub session_cookie: String,
    pub redirect_to: String,
}

/// Spends the trip's state (a second use of the same callback is refused on every replica).
pub fn spend(svc: &Services, trip: &Trip) -> Result<bool, Infra> {
    let key = format!("fed:{}", keys::sha256_b64(trip.state.as_bytes()));
    Ok(svc.store.use_jti_once(&key, trip.expires_at)?)
}

/// The citizen is back from `upstream` with a verified ID token: link, start a session, go on.
pub fn arrive(
    svc: &Services,
    upstream: &UpstreamInfo,
    trip: &Trip,
    arrival: &Arrival,
    client_ip: &str,
) -> Result<Result<Arrived, FederationError>, Infra> {
    let id = arrival
        .id_number
        .as_deref()
        .and_then(|n| IdNumber::parse(n).ok());
    // A region vouches by the ID number it verified, and only for its own citizens; the hub by
    // its national subject (and by an ID number only when an app here asked for one).
    if upstream.code != crate::domain::upstream::HUB_CODE {
        let Some(id) = &id else {
            refused(svc, upstream, &FederationError::NoIdNumber)?;
            return Ok(Err(FederationError::NoIdNumber));
        };
        if !crate::domain::upstream::speaks_for(&upstream.code, id) {
            refused(svc, upstream, &FederationError::OutsideRegion)?;
            return Ok(Err(FederationError::OutsideRegion));
        }
    }
    let name = arrival
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.chars().count() <= 100)
        .unwrap_or("公民");
    let (sub, created) = link(svc, upstream, &arrival.upstream_sub, id.as_ref(), name)?;
    // The upstream's level stands only if we know it; otherwise the lowest we give.
    let acr = arrival
        .acr
        .as_deref()
        .filter(|a| acr::SUPPORTED.contains(a))
        .unwrap_or(acr::ACR_PASSWORD);
    let amr: Vec<&str> = arrival
        .amr
        .iter()
        .map(String::as_str)
        .filter(|m| m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphanumeric()))
        .take(8)
        .collect();
    let amr = if amr.is_empty() { vec!["fed"] } else { amr };
    let now = svc.now();
    let auth_time = arrival.auth_time.filter(|t| *t <= now).unwrap_or(now);
    let login = sessions::Login {
        sub: &sub,
        acr,
        amr: &amr,
        auth_time,
        request_id: trip.request_id.as_deref(),
    };
    // Where the session came from (for chained logout) commits with it.
    let upstream_sid = arrival
        .upstream_sid
        .as_deref()
        .filter(|s| s.len() <= 256)
        .map(str::to_owned);
    let came_from = |session: &SessionRow| {
        upstream_sid
            .map(|upstream_sid| {
                store::session_upstreams::inserting(SessionUpstreamRow {
                    sid: session.sid.clone(),
                    upstream_code: upstream.code.clone(),
                    upstream_sid,
                    created_at: now,
                })
            })
            .into_iter()
            .collect()
    };
    let opened = sessions::open(svc, &login, came_from, |session| {
        AuditEvent::new(
            "login.success",
            &sub,
            None,
            serde_json::json!({
                "method": "federation",
                "upstream": upstream.code,
                "roaming_account_created": created,
                "sid": session.sid,
                "net": crate::domain::qr::coarse_address(client_ip),
            }),
        )
    })?;
    svc.upstream_health
        .record(&upstream.code, true, None, svc.now());
    Ok(Ok(Arrived {
        session_cookie: opened.cookie,
        redirect_to: opened.redirect_to,
    }))
}

/// The account here of the citizen the upstream vouched for: the one linked to them at that
/// upstream before; else the one holding the ID number the upstream released; else a new
/// roaming account. An ID number released later (with consent) completes a roaming account.
fn link(
    svc: &Services,
    upstream: &UpstreamInfo,
    upstream_sub: &str,
    id: Option<&IdNumber>,
    name: &str,
) -> Result<(String, bool), Infra> {
    let now = svc.now();
    let holder = match id {
        Some(id) => svc
            .store
            .user_by_lookup(&super::users::id_lookup(svc, id))?
            .map(|u| u.sub),
        None => None,
    };
    if let Some(sub) = svc.store.federated_user(&upstream.code, upstream_sub)? {
        if let (Some(id), None) = (id, &holder) {
            let (lookup, sealed) = sealed_id_number(svc, id, &sub);
            svc.store.set_user_id_number(&sub, &lookup, &sealed, now)?;
        }
        return Ok((sub, false));
    }
    let (sub, created) = match holder {
        Some(sub) => (sub, false),
        None => (roaming_account(svc, id, name)?, true),
    };
    svc.store
        .link_federated_user(&upstream.code, upstream_sub, &sub, now)?;
    Ok((sub, created))
}

fn sealed_id_number(svc: &Services, id: &IdNumber, sub: &str) -> (String, Vec<u8>) {
    (
        super::users::id_lookup(svc, id),
        svc.secrets
            .id_seal
            .seal(id.expose().as_bytes(), sub.as_bytes()),
    )
}

/// A citizen seen here for the first time: an account without a password, known by the
/// upstream's subject, and by the ID number when the upstream released it.
fn roaming_account(svc: &Services, id: Option<&IdNumber>, name: &str) -> Result<String, Infra> {
    let now = svc.now();
    let sub = keys::random_token(16);
    let sealed = id.map(|id| sealed_id_number(svc, id, &sub));
    svc.store.insert_user(&UserRow {
        sub: sub.clone(),
        id_number_lookup: sealed.as_ref().map(|(l, _)| l.clone()),
        id_number_sealed: sealed.map(|(_, s)| s),
        name: name.to_owned(),
        phone: None,
        email: None,
        address: None,
        password_hash: None,
        created_at: now,
        updated_at: now,
    })?;
    svc.audit.append(AuditEvent::new(
        "user.created",
        &sub,
        None,
        serde_json::json!({ "roaming": true }),
    ))?;
    Ok(sub)
}

/// Audits an upstream answer that was not accepted (wrong signature, audience, nonce, ...).
pub fn refused(
    svc: &Services,
    upstream: &UpstreamInfo,
    why: &FederationError,
) -> Result<(), Infra> {
    svc.upstream_health
        .record(&upstream.code, false, Some(why.code()), svc.now());
    svc.audit.append(AuditEvent::new(
        "federation.refused",
        &format!("upstream:{}", upstream.code),
        None,
        serde_json::json!({ "reason": why.code(), "detail": why.to_string() }),
    ))?;
    Ok(())
}
