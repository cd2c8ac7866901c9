//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0) to every app the session signed in to; a federated
//! session also tells its upstream (see `chain_logout`).
use super::authorize::load_client;
use super::{sessions, Infra};
use crate::domain::audit::AuditEvent;
use crate::domain::params::Params;
use crate::domain::tokens;
use crate::services::Services;
use crate::store::session_upstreams::SessionUpstreamRow;
use crate::store::sessions::SessionRow;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// Where to send the browser afterwards (registered for the client), with `state`.
    pub redirect: Option<String>,
    /// The hint named the current session's user: no confirmation needed.
    pub hint_matches_session: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogoutError {
    #[error("id_token_hint is not an ID token issued here")]
    BadHint,
    #[error("post_logout_redirect_uri needs client_id or id_token_hint to identify the app")]
    NoClient,
    #[error("post_logout_redirect_uri is not registered for this app")]
    UnregisteredRedirect,
    #[error("client_id does not match the id_token_hint")]
    ClientMismatch,
}

/// A logout token to deliver to one app's back-channel endpoint.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub client_id: String,
    pub uri: String,
    pub logout_token: String,
}

pub fn validate(
    svc: &Services,
    params: &Params,
    session_cookie: Option<&str>,
) -> Result<Result<LogoutRequest, LogoutError>, Infra> {
    let hint = match params.get("id_token_hint") {
        Some(h) => match keys::verify_jwt(
            h,
            &svc.keys.published(),
            &[keys::Alg::ES256, keys::Alg::RS256],
            None,
        ) {
            Ok(jwt)
                if jwt.claims.get("iss").and_then(Value::as_str)
                    == Some(svc.config.issuer.as_str()) =>
            {
                Some(jwt.claims)
            }
            _ => return Ok(Err(LogoutError::BadHint)),
        },
        None => None,
    };
    let hinted_client = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    if let (Some(a), Some(b)) = (&hinted_client, params.get("client_id")) {
        if a != b {
            return Ok(Err(LogoutError::ClientMismatch));
        }
    }
    let client_id = hinted_client.or_else(|| params.get("client_id").map(str::to_owned));
    let redirect = match params.get("post_logout_redirect_uri") {
        Some(uri) => {
            let Some(client) = load_client(svc, client_id.as_deref())? else {
                return Ok(Err(LogoutError::NoClient));
            };
            if !client.has_post_logout_redirect_uri(uri) {
                return Ok(Err(LogoutError::UnregisteredRedirect));
            }
            let mut url = url::Url::parse(uri)
                .map_err(|_| crate::store::StoreError::Corrupt("registered uri".into()))?;
            if let Some(state) = params.get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
        None => None,
    };
    let session = sessions::current(svc, session_cookie)?;
    // The hint names the citizen as its app sees them (maybe pairwise).
    let hint_client = match &hint {
        Some(_) => load_client(svc, client_id.as_deref())?,
        None => None,
    };
    let hint_matches_session = match (&hint, &session, &hint_client) {
        (Some(h), Some(s), Some(c)) => {
            h.get("sub").and_then(Value::as_str)
                == Some(super::subjects::subject_for(svc, c, &s.sub).as_str())
        }
        _ => false,
    };
    Ok(Ok(LogoutRequest {
        redirect,
        hint_matches_session,
    }))
}

/// What ending a session sets in motion: logout tokens for the apps it signed in to, and the
/// upstream session it came from (to be told, unless the upstream is who told us).
#[derive(Debug, Default)]
pub struct Aftermath {
    pub deliveries: Vec<Delivery>,
    pub upstream: Option<SessionUpstreamRow>,
}

impl Aftermath {
    pub fn merge(&mut self, other: Aftermath) {
        self.deliveries.extend(other.deliveries);
        self.upstream = self.upstream.take().or(other.upstream);
    }
}

/// Ends the browser's session (RP-initiated logout) and prepares what follows.
pub fn end_session(svc: &Services, session_cookie: Option<&str>) -> Result<Aftermath, Infra> {
    let Some(cookie) = session_cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
        return Ok(Aftermath::default());
    };
    let Some(session) = svc
        .store
        .end_session(&sessions::cookie_hash(cookie), svc.now())?
    else {
        return Ok(Aftermath::default());
    };
    aftermath(svc, &session, "browser", None, true)
}

/// Audits a session's end and prepares its aftermath: a logout token for every app the session
/// signed in to that has a back-channel endpoint (but not `except`, who told us), and the
/// upstream session when `tell_upstream`.
pub fn aftermath(
    svc: &Services,
    session: &SessionRow,
    cause: &str,
    except: Option<&str>,
    tell_upstream: bool,
) -> Result<Aftermath, Infra> {
    let now = svc.now();
    svc.audit.append(AuditEvent::new(
        "logout",
        &session.sub,
        except,
        serde_json::json!({ "sid": session.sid, "cause": cause }),
    ))?;
    let mut deliveries = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for grant in svc.store.grants_of_session(&session.sid)? {
        if Some(grant.client_id.as_str()) == except || !seen.insert(grant.client_id.clone()) {
            continue;
        }
        let Some(client) = load_client(svc, Some(&grant.client_id))? else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let claims = tokens::logout_token_claims(
            &svc.config.issuer,
            &client.client_id,
            &super::subjects::subject_for(svc, &client, &session.sub),
            &session.sid,
            &keys::random_token(16),
            now,
        );
        let logout_token = svc
            .keys
            .signer(client.id_token_alg)
            .sign_jwt("logout+jwt", &claims)?;
        deliveries.push(Delivery {
            client_id: client.client_id,
            uri,
            logout_token,
        });
    }
    let upstream = if tell_upstream {
        svc.store.session_upstream(&session.sid)?
    } else {
        None
    };
    Ok(Aftermath {
        deliveries,
        upstream,
    })
}

/// Carries an aftermath out: every call at once, each bounded by its timeout, all awaited, so
/// that when a logout answers, the chain behind it has ended too.
pub async fn carry_out(svc: std::sync::Arc<Services>, aftermath: Aftermath) {
    let mut calls = tokio::task::JoinSet::new();
    for delivery in aftermath.deliveries {
        calls.spawn(deliver(svc.clone(), delivery));
    }
    if let Some(link) = aftermath.upstream {
        calls.spawn(super::chain_logout::tell_upstream(svc.clone(), link));
    }
    while calls.join_next().await.is_some() {}
}

/// Sends one logout token (async, bounded by the HTTP client's timeout) and audits the result.
pub async fn deliver(svc: std::sync::Arc<Services>, delivery: Delivery) {
    // The same address policy as every other client-named URL (no calls into our network).
    let outcome = match super::outbound::pinned_client(&svc, &delivery.uri).await {
        Err(e) => format!("not sent: {e}"),
        Ok((client, url)) => {
            let result = client
                .post(url)
                .form(&[("logout_token", delivery.logout_token.as_str())])
                .send()
                .await;
            match result {
                Ok(r) if r.status().is_success() => "delivered".to_string(),
                Ok(r) => format!("rejected with HTTP {}", r.status().as_u16()),
                Err(e) if e.is_timeout() => "timed out".to_string(),
                Err(_) => "unreachable".to_string(),
            }
        }
    };
    let event = AuditEvent::new(
        "logout.backchannel",
        "system",
        Some(&delivery.client_id),
        serde_json::json!({ "outcome": outcome }),
    );
    let audit = svc.audit.clone();
    let _ = tokio::task::spawn_blocking(move || audit.append(event)).await;
}
