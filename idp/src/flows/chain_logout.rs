//! Logout along the federation chain. A session here that came from an upstream (the hub, or a
//! citizen's home province) is tied to the upstream's session by the `sid` of the ID token that
//! started it:
//! - downwards, the upstream sends this node a logout token (OpenID Connect Back-Channel Logout
//!   1.0) at `POST /federation/backchannel_logout`: the sessions it started here end, and this
//!   node's apps (and nodes below it) are told in turn;
//! - upwards, when a federated session here ends, this node tells its upstream at the upstream's
//!   `POST /federation/session_ended`, authenticated as the client it is there: the upstream
//!   session ends and every other node and app that shared it is told.
//!
//! Ending a session is idempotent, so the chain stops where sessions have already ended.
use super::logout::{aftermath, Aftermath};
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::client::Client;
use crate::domain::logout_token;
use crate::services::Services;
use crate::store::session_upstreams::SessionUpstreamRow;
use crate::store::upstreams::UpstreamRow;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Where a node hears that a session it started at one of its downstream nodes has ended.
pub const SESSION_ENDED_PATH: &str = "/federation/session_ended";

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ChainLogoutError {
    #[error("the logout token is not a JWT")]
    Malformed,
    #[error("the logout token's issuer is not an enabled upstream of this node")]
    UnknownIssuer,
    #[error("the upstream's keys could not be fetched")]
    Unreachable,
    #[error("the logout token's signature does not verify with the upstream's keys")]
    BadSignature,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("the logout token was used already")]
    Replayed,
    #[error("no such session for this client")]
    NoSuchSession,
}

/// The `iss` a token claims, before anything about it is trusted: it only picks the upstream
/// whose keys must then verify the token.
pub fn claimed_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// The enabled upstream a logout token claims to come from.
pub fn upstream_named(
    svc: &Services,
    token: &str,
) -> Result<Result<UpstreamRow, ChainLogoutError>, Infra> {
    let Some(issuer) = claimed_issuer(token) else {
        return Ok(Err(ChainLogoutError::Malformed));
    };
    Ok(svc
        .store
        .enabled_upstream_by_issuer(&issuer)?
        .ok_or(ChainLogoutError::UnknownIssuer))
}

/// Ends what the upstream's session started here, once the verified token's claims pass.
pub fn end_from_upstream(
    svc: &Services,
    upstream: &UpstreamRow,
    claims: &Map<String, Value>,
) -> Result<Result<Aftermath, ChainLogoutError>, Infra> {
    let now = svc.now();
    let notice = match logout_token::check(claims, &upstream.issuer, &upstream.client_id, now) {
        Ok(n) => n,
        Err(why) => {
            refused(svc, upstream, why)?;
            return Ok(Err(ChainLogoutError::Invalid(why)));
        }
    };
    let jti_key = format!(
        "bcl:{}:{}",
        upstream.code,
        keys::sha256_b64(notice.jti.as_bytes())
    );
    if !svc.store.use_jti_once(&jti_key, notice.remember_until)? {
        refused(svc, upstream, "replayed")?;
        return Ok(Err(ChainLogoutError::Replayed));
    }
    let mut all = Aftermath::default();
    let mut ended = 0;
    for sid in svc.store.sids_from_upstream(&upstream.code, &notice.sid)? {
        if let Some(session) = svc.store.end_session_by_sid(&sid, now)? {
            ended += 1;
            all.merge(aftermath(svc, &session, "upstream", None, false)?);
        }
    }
    svc.audit.append(AuditEvent::new(
        "logout.from_upstream",
        &format!("upstream:{}", upstream.code),
        None,
        serde_json::json!({ "sessions_ended": ended }),
    ))?;
    Ok(Ok(all))
}

/// A downstream node (a client here) says that its session, which one of ours started, has
/// ended: ours ends too. Only a client that took part in the session may end it.
pub fn end_for_client(
    svc: &Services,
    client: &Client,
    sid: &str,
) -> Result<Result<Aftermath, ChainLogoutError>, Infra> {
    let took_part = sid.len() <= 256
        && svc
            .store
            .grants_of_session(sid)?
            .iter()
            .any(|g| g.client_id == client.client_id);
    if !took_part {
        return Ok(Err(ChainLogoutError::NoSuchSession));
    }
    match svc.store.end_session_by_sid(sid, svc.now())? {
        Some(session) => Ok(Ok(aftermath(
            svc,
            &session,
            "downstream",
            Some(&client.client_id),
            true,
        )?)),
        None => Ok(Ok(Aftermath::default())),
    }
}

/// Tells the upstream that a session it started here has ended (bounded by the upstream
/// timeout), and audits how that went.
pub async fn tell_upstream(svc: Arc<Services>, link: SessionUpstreamRow) {
    let store_svc = svc.clone();
    let code = link.upstream_code.clone();
    let loaded = tokio::task::spawn_blocking(move || -> Result<_, Infra> {
        let Some(row) = store_svc.store.upstream(&code)?.filter(|u| u.enabled) else {
            return Ok(None);
        };
        let secret = super::upstreams::client_secret(&store_svc, &row)?;
        Ok(Some((row, secret)))
    })
    .await;
    let outcome = match loaded {
        Ok(Ok(Some((row, secret)))) => {
            match super::upstream_oidc::tell_session_ended(&row, &secret, &link.upstream_sid).await
            {
                Ok(()) => "told".to_owned(),
                Err(e) => format!("not told: {e}"),
            }
        }
        Ok(Ok(None)) => "not told: the upstream is gone or disabled".to_owned(),
        _ => "not told: storage unavailable".to_owned(),
    };
    let event = AuditEvent::new(
        "logout.upstream_told",
        &format!("upstream:{}", link.upstream_code),
        None,
        serde_json::json!({ "outcome": outcome }),
    );
    let audit = svc.audit.clone();
    let _ = tokio::task::spawn_blocking(move || audit.append(event)).await;
}

/// Audits a logout token that was not accepted.
pub fn refused(svc: &Services, upstream: &UpstreamRow, why: &str) -> Result<(), Infra> {
    svc.audit.append(AuditEvent::new(
        "logout.from_upstream_refused",
        &format!("upstream:{}", upstream.code),
        None,
        serde_json::json!({ "reason": why }),
    ))?;
    Ok(())
}
