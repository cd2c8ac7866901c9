//! The authorization endpoint's flow: validate, then log in, consent, or issue a code.
//! A request that needs the citizen is parked in the database so any replica can finish it.
use super::counters::Event;
use super::sealed_code::{self, CodeGrant};
use super::{sessions, Infra};
use crate::domain::authorize::{
    self, AuthorizationRequest, AuthorizeError, DecisionInput, Next, ResponseTarget, SessionView,
    UntrustedRequest,
};
use crate::domain::client::Client;
use crate::domain::params::Params;
use crate::domain::scope::ScopeSet;
use crate::services::Services;
use crate::store::auth_requests::AuthRequestRow;
use crate::store::sessions::SessionRow;
use crate::store::StoreError;

/// The answer that goes back to the client, by redirect or form post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResponse {
    pub target: ResponseTarget,
    pub params: Vec<(&'static str, String)>,
}

#[derive(Debug)]
pub enum Outcome {
    Respond(AuthResponse),
    Login {
        request_id: String,
        client_name: String,
        login_hint: Option<String>,
        ui_locales: Option<String>,
    },
    Consent {
        request_id: String,
        client_name: String,
        scopes: ScopeSet,
        ui_locales: Option<String>,
    },
    /// Nothing is sent to the client: its identity or redirect URI cannot be trusted.
    ErrorPage(UntrustedRequest),
    /// The parked request is gone (expired, or finished in another tab).
    RequestExpired,
    /// The app asks for the ID number of a roaming citizen whose ID number this node was never
    /// given: fetch it from the upstream (the hub), where the citizen consents to it.
    FromUpstream {
        request_id: String,
        upstream: String,
    },
}

pub fn load_client(svc: &Services, client_id: Option<&str>) -> Result<Option<Client>, Infra> {
    let Some(id) = client_id.filter(|id| id.len() <= 128) else {
        return Ok(None);
    };
    match svc.store.client(id)? {
        Some(row) => Ok(Some(row.to_domain()?)),
        None => Ok(None),
    }
}

pub fn error_response(
    svc: &Services,
    target: ResponseTarget,
    error: &str,
    description: &str,
) -> AuthResponse {
    let mut params = vec![
        ("error", error.to_owned()),
        ("error_description", description.to_owned()),
    ];
    if let Some(state) = &target.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", svc.config.issuer.clone()));
    AuthResponse { target, params }
}

/// Entry point: a fresh request from the client.
pub fn start(
    svc: &Services,
    params: &Params,
    session_cookie: Option<&str>,
) -> Result<Outcome, Infra> {
    let client = load_client(svc, params.get("client_id"))?;
    let resolved;
    let params = match (&client, super::request_object::has_request_object(params)) {
        (Some(c), true) if c.may_start_flows() => {
            match super::request_object::resolve(svc, params, c) {
                Ok(p) => {
                    resolved = p;
                    &resolved
                }
                Err(e) => {
                    return Ok(match authorize::trusted_target(params, Some(c)) {
                        Ok(target) => {
                            Outcome::Respond(error_response(svc, target, e.error, &e.description))
                        }
                        Err(why) => Outcome::ErrorPage(why),
                    })
                }
            }
        }
        _ => params,
    };
    let request = match authorize::validate(params, client.as_ref()) {
        Ok(r) => r,
        Err(AuthorizeError::Untrusted(why)) => return Ok(Outcome::ErrorPage(why)),
        Err(AuthorizeError::Redirect(e)) => {
            if let Some(c) = &client {
                svc.counters.count(&c.client_id, Event::Error);
            }
            return Ok(Outcome::Respond(error_response(
                svc,
                e.target,
                e.error,
                &e.description,
            )));
        }
    };
    let client = client.ok_or(Infra::Store(StoreError::Corrupt("client vanished".into())))?;
    let hinted_sub = match &request.id_token_hint {
        Some(hint) => match hinted_subject(svc, hint) {
            Some(sub) => Some(sub),
            None => {
                return Ok(Outcome::Respond(error_response(
                    svc,
                    request.target.clone(),
                    "invalid_request",
                    "id_token_hint is not an ID token issued here",
                )))
            }
        },
        None => None,
    };
    let session = sessions::current(svc, session_cookie)?;
    proceed(svc, &client, request, session, None, hinted_sub)
}

/// Continues a parked request after the login or consent page.
pub fn resume(
    svc: &Services,
    request_id: &str,
    session_cookie: Option<&str>,
) -> Result<Outcome, Infra> {
    let Some(row) = svc.store.auth_request(request_id, svc.now())? else {
        return Ok(Outcome::RequestExpired);
    };
    let request: AuthorizationRequest = serde_json::from_str(&row.request)
        .map_err(|_| StoreError::Corrupt("parked request".into()))?;
    let Some(client) = load_client(svc, Some(&request.client_id))? else {
        return Ok(Outcome::RequestExpired);
    };
    if !client.may_start_flows() {
        return Ok(Outcome::ErrorPage(UntrustedRequest::ClientNotApproved(
            client.status.to_string(),
        )));
    }
    let hinted_sub = request
        .id_token_hint
        .as_deref()
        .and_then(|h| hinted_subject(svc, h));
    let session = sessions::current(svc, session_cookie)?;
    proceed(svc, &client, request, session, Some(row), hinted_sub)
}

/// Loads a parked request for a page (login or consent) to show.
pub fn parked(
    svc: &Services,
    request_id: &str,
) -> Result<Option<(AuthorizationRequest, Client)>, Infra> {
    if request_id.len() > 64 {
        return Ok(None);
    }
    let Some(row) = svc.store.auth_request(request_id, svc.now())? else {
        return Ok(None);
    };
    let request: AuthorizationRequest = serde_json::from_str(&row.request)
        .map_err(|_| StoreError::Corrupt("parked request".into()))?;
    Ok(load_client(svc, Some(&request.client_id))?.map(|c| (request, c)))
}

fn proceed(
    svc: &Services,
    client: &Client,
    request: AuthorizationRequest,
    session: Option<SessionRow>,
    parked: Option<AuthRequestRow>,
    hinted_sub: Option<String>,
) -> Result<Outcome, Infra> {
    let now = svc.now();
    let consented = match &session {
        Some(s) => ScopeSet::parse(
            &svc.store
                .consent(&s.sub, &client.client_id)?
                .unwrap_or_default(),
        ),
        None => ScopeSet::default(),
    };
    // A login or consent counts only for the session and citizen that gave it (a request id
    // handed to someone else carries neither).
    let fresh_login = match (&parked, &session) {
        (Some(p), Some(s)) => p.login_sid.as_deref() == Some(s.sid.as_str()),
        _ => false,
    };
    // The session's citizen as this client calls them, to compare with an id_token_hint.
    let client_sub = session
        .as_ref()
        .map(|s| super::subjects::subject_for(svc, client, &s.sub));
    let next = authorize::decide(&DecisionInput {
        request: &request,
        session: session
            .as_ref()
            .zip(client_sub.as_deref())
            .map(|(s, sub)| SessionView {
                sub,
                auth_time: s.auth_time,
                acr: &s.acr,
            }),
        fresh_login,
        fresh_consent: match (&parked, &session) {
            (Some(p), Some(s)) => p.consent_sub.as_deref() == Some(s.sub.as_str()),
            _ => false,
        },
        consented: &consented,
        hinted_sub: hinted_sub.as_deref(),
        first_party: client.first_party,
        now,
    });
    match next {
        Next::Fail { error, description } => {
            finish_parked(svc, parked.as_ref())?;
            svc.counters.count(&client.client_id, Event::Error);
            Ok(Outcome::Respond(error_response(
                svc,
                request.target,
                error,
                &description,
            )))
        }
        Next::Consent | Next::IssueCode if lacks_id_number(svc, &request, session.as_ref())? => {
            if request.prompt.none {
                finish_parked(svc, parked.as_ref())?;
                return Ok(Outcome::Respond(error_response(
                    svc,
                    request.target,
                    "interaction_required",
                    "the citizen must agree to release their ID number",
                )));
            }
            let request_id = match &parked {
                Some(p) => p.id.clone(),
                None => park(svc, &request, now)?,
            };
            Ok(Outcome::FromUpstream {
                request_id,
                upstream: crate::domain::upstream::HUB_CODE.to_owned(),
            })
        }
        Next::Login | Next::Consent => {
            let request_id = match &parked {
                Some(p) => p.id.clone(),
                None => park(svc, &request, now)?,
            };
            Ok(if next == Next::Login {
                Outcome::Login {
                    request_id,
                    client_name: client.name.clone(),
                    login_hint: request.login_hint.clone(),
                    ui_locales: request.ui_locales.clone(),
                }
            } else {
                Outcome::Consent {
                    request_id,
                    client_name: client.name.clone(),
                    scopes: request.scopes(),
                    ui_locales: request.ui_locales.clone(),
                }
            })
        }
        Next::IssueCode => {
            // Single use: if another tab already finished this parked request, stop here.
            if let Some(p) = &parked {
                if !svc.store.take_auth_request(&p.id)? {
                    return Ok(Outcome::RequestExpired);
                }
            }
            let session = session.ok_or(Infra::Store(StoreError::Corrupt("no session".into())))?;
            Ok(Outcome::Respond(issue_code(
                svc, client, &request, &session,
            )?))
        }
    }
}

/// The app asks for the ID number, and the session's citizen is a roaming account here that
/// was never given one, while the hub that vouched for them can be asked.
fn lacks_id_number(
    svc: &Services,
    request: &AuthorizationRequest,
    session: Option<&SessionRow>,
) -> Result<bool, Infra> {
    let Some(session) = session else {
        return Ok(false);
    };
    if !request.scopes().contains(crate::domain::scope::ID_NUMBER) {
        return Ok(false);
    }
    let without = svc
        .store
        .user_by_sub(&session.sub)?
        .is_some_and(|u| u.id_number_sealed.is_none());
    let hub = svc
        .store
        .upstream(crate::domain::upstream::HUB_CODE)?
        .is_some_and(|u| u.enabled);
    Ok(without && hub)
}

fn finish_parked(svc: &Services, parked: Option<&AuthRequestRow>) -> Result<(), Infra> {
    if let Some(p) = parked {
        svc.store.take_auth_request(&p.id)?;
    }
    Ok(())
}

fn park(svc: &Services, request: &AuthorizationRequest, now: i64) -> Result<String, Infra> {
    let id = keys::random_token(24);
    svc.store.insert_auth_request(&AuthRequestRow {
        id: id.clone(),
        client_id: request.client_id.clone(),
        request: serde_json::to_string(request).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        login_sid: None,
        consent_sub: None,
        created_at: now,
        expires_at: now + svc.config.pending_request_ttl_secs,
    })?;
    Ok(id)
}

fn issue_code(
    svc: &Services,
    client: &Client,
    request: &AuthorizationRequest,
    session: &SessionRow,
) -> Result<AuthResponse, Infra> {
    let grant = CodeGrant::new(
        session,
        &sealed_code::Request {
            scope: &request.scope,
            claims: request.claims.as_ref(),
            nonce: request.nonce.as_deref(),
            redirect_uri: &request.target.redirect_uri,
            code_challenge: request.code_challenge.as_deref(),
        },
        svc.now(),
        svc.config.code_ttl_secs,
    );
    let code = grant.seal(&svc.secrets.code_seal, &client.client_id);
    svc.counters.count(&client.client_id, Event::Login);
    let mut params = vec![("code", code)];
    if let Some(state) = &request.target.state {
        params.push(("state", state.clone()));
    }
    params.push(("iss", svc.config.issuer.clone()));
    Ok(AuthResponse {
        target: request.target.clone(),
        params,
    })
}

/// The subject of an ID token we issued (expired ones included, as OIDC Core 3.1.2.1 allows).
fn hinted_subject(svc: &Services, hint: &str) -> Option<String> {
    let verify = || {
        keys::verify_jwt(
            hint,
            &svc.keys.published(),
            &[keys::Alg::ES256, keys::Alg::RS256],
            None,
        )
    };
    let jwt = verify().ok().or_else(|| {
        svc.keys.reload_if_stale(5);
        verify().ok()
    })?;
    if jwt.claims.get("iss").and_then(|v| v.as_str()) != Some(svc.config.issuer.as_str()) {
        return None;
    }
    jwt.claims
        .get("sub")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Records the citizen's consent for the parked request's scopes.
pub fn consent(
    svc: &Services,
    request_id: &str,
    session_cookie: Option<&str>,
    allow: bool,
) -> Result<Outcome, Infra> {
    let Some((request, client)) = parked(svc, request_id)? else {
        return Ok(Outcome::RequestExpired);
    };
    let Some(session) = sessions::current(svc, session_cookie)? else {
        return resume(svc, request_id, session_cookie);
    };
    let now = svc.now();
    if !allow {
        svc.store.take_auth_request(request_id)?;
        svc.audit.append(crate::domain::audit::AuditEvent::new(
            "consent.denied",
            &session.sub,
            Some(&client.client_id),
            serde_json::json!({ "scope": request.scope }),
        ))?;
        return Ok(Outcome::Respond(error_response(
            svc,
            request.target,
            "access_denied",
            "the user denied the request",
        )));
    }
    let previous = ScopeSet::parse(
        &svc.store
            .consent(&session.sub, &client.client_id)?
            .unwrap_or_default(),
    );
    let granted = previous.union(&request.scopes());
    svc.store
        .save_consent(&session.sub, &client.client_id, &granted.to_string(), now)?;
    svc.store.mark_request_consent(request_id, &session.sub)?;
    svc.audit.append(crate::domain::audit::AuditEvent::new(
        "consent.granted",
        &session.sub,
        Some(&client.client_id),
        serde_json::json!({ "scope": request.scope }),
    ))?;
    resume(svc, request_id, session_cookie)
}
