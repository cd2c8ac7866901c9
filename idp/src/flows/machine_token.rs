//! client_credentials (RFC 6749 4.4): the token an app obtains for itself. Its only database
//! work is the audit entry, so a request that needs nothing else (the app in the client cache,
//! a secret, no DPoP proof) is answered by the async worker that received it: handing it to a
//! blocking thread and back cost two thread switches, a fifth of such a token's CPU.
use super::client_auth::{self, Presented};
use super::counters::Event;
use super::token::{is_user_scope, oauth, token_type, TokenError, TokenResponse};
use crate::domain::audit::AuditEvent;
use crate::domain::client::{Client, GrantType};
use crate::domain::params::Params;
use crate::domain::scope::ScopeSet;
use crate::domain::tokens;
use crate::services::Services;

/// The access token and the audit entry that must be committed before it is handed out.
pub fn issue(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<(TokenResponse, AuditEvent), TokenError> {
    if client.is_public() {
        return Err(oauth(
            "unauthorized_client",
            "a public client cannot use client_credentials",
        ));
    }
    let own: ScopeSet = ScopeSet::parse(&client.scopes.join(" "));
    let mut scopes = match params.get("scope") {
        Some(s) => ScopeSet::parse(s),
        None => own.clone(),
    };
    if params.get("scope").is_some()
        && (!scopes.is_subset_of(&own) || scopes.iter().any(is_user_scope))
    {
        return Err(oauth(
            "invalid_scope",
            "the requested scope is not allowed for this app acting for itself",
        ));
    }
    scopes.retain(|s| !is_user_scope(s));
    let now = svc.now();
    let jti = keys::random_token(16);
    let scope_text = scopes.to_string();
    let claims = tokens::access_token_claims(&tokens::AccessTokenInput {
        issuer: &svc.config.issuer,
        client_id: &client.client_id,
        sub: &client.client_id,
        scope: &scope_text,
        jti: &jti,
        grant_id: None,
        auth: None,
        jkt,
        now,
        ttl: svc.config.access_token_ttl_secs,
    });
    let access_token = svc
        .keys
        .signer(keys::Alg::ES256)
        .sign_jwt("at+jwt", &claims)?;
    let event = AuditEvent::new(
        "token.issued",
        &client.client_id,
        Some(&client.client_id),
        serde_json::json!({ "grant_type": "client_credentials", "jti": jti }),
    );
    let response = TokenResponse {
        access_token,
        token_type: token_type(jkt),
        expires_in: svc.config.access_token_ttl_secs,
        refresh_token: None,
        id_token: None,
        scope: scope_text,
        issued_token_type: None,
    };
    Ok((response, event))
}

/// A token issued without the database, waiting for its audit entry to be committed.
#[derive(Debug)]
pub struct Pending {
    response: TokenResponse,
    client_id: String,
}

/// A well-formed client_credentials request that succeeds with what is in memory, with the
/// audit entry to commit before answering; or `None`, and the full token exchange runs on a
/// blocking thread and gives the answer, errors included. Nothing is changed or counted before
/// `None`, so every request is judged and counted once.
pub fn without_database(
    svc: &Services,
    params: &Params,
    presented: &Presented,
    dpop_proof: bool,
) -> Option<(Pending, AuditEvent)> {
    if dpop_proof
        || params.first_duplicate().is_some()
        || params.overflowed()
        || params.get("grant_type") != Some("client_credentials")
    {
        return None;
    }
    let client = client_auth::authenticate_cached(svc, presented)?.ok()?;
    if !client.allows_grant(GrantType::ClientCredentials) || client.dpop_bound {
        return None;
    }
    let (response, event) = issue(svc, &client, params, None).ok()?;
    let pending = Pending {
        response,
        client_id: client.client_id,
    };
    Some((pending, event))
}

impl Pending {
    /// The answer once the audit log has spoken: the token only if its entry is stored.
    pub fn settle(
        self,
        svc: &Services,
        committed: Result<(), super::audit::AuditError>,
    ) -> Result<TokenResponse, TokenError> {
        let outcome = committed.map(|()| self.response).map_err(TokenError::from);
        let event = if outcome.is_ok() {
            Event::Token
        } else {
            Event::Error
        };
        svc.counters.count(&self.client_id, event);
        outcome
    }
}
