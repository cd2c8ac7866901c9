//! Token exchange (RFC 8693) at the token endpoint; the rules are in `domain::token_exchange`.
//! The subject token must be an access token this provider issued, active, from a citizen's
//! login, held by the very client that presents it and not bound to a DPoP key; the audience
//! must be an approved platform service (first party) other than the caller.
use super::token::{oauth, token_type, TokenError, TokenResponse};
use super::token_check::{self, BearerError};
use crate::domain::audit::AuditEvent;
use crate::domain::client::Client;
use crate::domain::params::Params;
use crate::domain::scope::ScopeSet;
use crate::domain::token_exchange::{self, ExchangeError, ACCESS_TOKEN_TYPE};
use crate::domain::tokens::{self, AuthFacts};
use crate::services::Services;
use serde_json::Value;

fn refused(e: ExchangeError) -> TokenError {
    oauth(e.error, e.description)
}

pub fn exchange(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    if client.is_public() {
        return Err(oauth(
            "unauthorized_client",
            "a public client cannot act on a citizen's behalf",
        ));
    }
    let request = token_exchange::parse(params).map_err(refused)?;
    let subject = match token_check::verify_access_token(svc, &request.subject_token) {
        Ok(c) => c,
        Err(BearerError::Infra(e)) => return Err(e.into()),
        Err(_) => {
            return Err(oauth(
                "invalid_request",
                "the subject token is not an active access token of this provider",
            ))
        }
    };
    let text = |k: &str| subject.get(k).and_then(Value::as_str);
    if text("client_id") != Some(client.client_id.as_str()) {
        return Err(oauth(
            "invalid_request",
            "the subject token was issued to another client",
        ));
    }
    if subject.contains_key("cnf") {
        return Err(oauth(
            "invalid_request",
            "a DPoP-bound token cannot be exchanged",
        ));
    }
    let grant = match text("gid") {
        Some(gid) => svc.store.grant(gid)?,
        None => None,
    };
    let Some(grant) = grant else {
        return Err(oauth(
            "invalid_request",
            "the subject token does not come from a citizen's login",
        ));
    };
    let scopes = token_exchange::exchanged_scope(
        &ScopeSet::parse(text("scope").unwrap_or_default()),
        request.scope.as_deref(),
    )
    .map_err(refused)?;
    let target = match svc.store.client(&request.audience)? {
        Some(row) => Some(row.to_domain()?),
        None => None,
    };
    let Some(target) =
        target.filter(|t| t.may_start_flows() && t.first_party && t.client_id != client.client_id)
    else {
        return Err(oauth(
            "invalid_target",
            "the audience is not a platform service this provider issues tokens for",
        ));
    };

    let now = svc.now();
    // Never outlive the token it was exchanged for.
    let subject_exp = subject.get("exp").and_then(Value::as_i64).unwrap_or(now);
    let ttl = svc
        .config
        .access_token_ttl_secs
        .min(subject_exp - now)
        .max(1);
    // The citizen as the API sees them (pairwise if the API is).
    let sub = super::subjects::subject_for(svc, &target, &grant.sub);
    let amr = grant.amr_list();
    let jti = keys::random_token(16);
    let scope_text = scopes.to_string();
    let mut claims = tokens::access_token_claims(&tokens::AccessTokenInput {
        issuer: &svc.config.issuer,
        client_id: &client.client_id,
        sub: &sub,
        scope: &scope_text,
        jti: &jti,
        // Revoking the citizen's grant ends the delegated token too.
        grant_id: Some(&grant.id),
        auth: Some(AuthFacts {
            sub: &sub,
            auth_time: grant.auth_time,
            acr: &grant.acr,
            amr: &amr,
            sid: grant.sid.as_deref(),
        }),
        jkt,
        now,
        ttl,
    });
    token_exchange::delegate(
        &mut claims,
        &target.client_id,
        &client.client_id,
        subject.get("act"),
    );
    let access_token = svc
        .keys
        .signer(keys::Alg::ES256)
        .sign_jwt("at+jwt", &claims)?;
    svc.audit.append(AuditEvent::new(
        "token.exchanged",
        &grant.sub,
        Some(&client.client_id),
        serde_json::json!({ "audience": target.client_id, "jti": jti, "grant": grant.id }),
    ))?;
    Ok(TokenResponse {
        access_token,
        token_type: token_type(jkt),
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope: scope_text,
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
    })
}
