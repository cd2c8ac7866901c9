//! The token endpoint (RFC 6749 3.2, 4.1.3, 4.4, 6; OIDC Core 3.1.3): authorization_code with
//! PKCE, refresh_token with rotation and reuse detection, client_credentials.
use super::claims;
use super::client_auth::{self, ClientAuthError, Presented};
use super::counters::Event;
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::client::{Client, GrantType};
use crate::domain::dpop::DpopError;
use crate::domain::params::Params;
use crate::domain::pkce;
use crate::domain::scope::{self, ScopeSet};
use crate::domain::tokens::{self, AuthFacts};
use crate::services::Services;
use crate::store::grants::{CodeRedemption, GrantRow, RefreshRow, RefreshUse};
use crate::store::StoreError;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
    /// RFC 8693 2.2.1: what kind of token a token exchange issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

/// An error in the format of RFC 6749 5.2.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{error}: {description}")]
    OAuth {
        error: &'static str,
        description: String,
    },
    #[error("invalid_client: {description}")]
    InvalidClient { description: String, basic: bool },
    /// RFC 9449 8: retry with this nonce in the DPoP proof.
    #[error("use_dpop_nonce")]
    UseDpopNonce { nonce: String },
    #[error(transparent)]
    Infra(#[from] Infra),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Infra(e.into())
    }
}

impl From<keys::KeyError> for TokenError {
    fn from(e: keys::KeyError) -> Self {
        TokenError::Infra(e.into())
    }
}

impl From<super::audit::AuditError> for TokenError {
    fn from(e: super::audit::AuditError) -> Self {
        TokenError::Infra(e.into())
    }
}

impl From<ClientAuthError> for TokenError {
    fn from(e: ClientAuthError) -> Self {
        match e {
            ClientAuthError::Invalid { description, basic } => TokenError::InvalidClient {
                description: description.into(),
                basic,
            },
            ClientAuthError::NotApproved(status) => oauth(
                "unauthorized_client",
                &format!("this app is {status} and may not obtain tokens"),
            ),
            ClientAuthError::Infra(i) => TokenError::Infra(i),
        }
    }
}

pub(super) fn oauth(error: &'static str, description: &str) -> TokenError {
    TokenError::OAuth {
        error,
        description: description.to_owned(),
    }
}

/// The token request: form parameters, client credentials and the `DPoP` header, if sent.
pub fn exchange(
    svc: &Services,
    params: &Params,
    presented: Presented,
    dpop_proof: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    if let Some(dup) = params.first_duplicate() {
        return Err(oauth(
            "invalid_request",
            &format!("parameter {dup} was sent more than once"),
        ));
    }
    if params.overflowed() {
        return Err(oauth(
            "invalid_request",
            "the request has too many parameters",
        ));
    }
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| oauth("invalid_request", "grant_type is required"))?;
    // OpenID4VCI: the wallet is anonymous; the pre-authorized code is the credential.
    if grant_type == super::vci::PRE_AUTHORIZED_GRANT {
        return super::vci::redeem(svc, params);
    }
    let grant: GrantType = match grant_type.parse() {
        Ok(g) => g,
        Err(_) => {
            return Err(oauth(
                "unsupported_grant_type",
                "supported: authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange",
            ))
        }
    };
    let client = client_auth::authenticate(svc, presented)?;
    if !client.allows_grant(grant) {
        svc.counters.count(&client.client_id, Event::Error);
        return Err(oauth(
            "unauthorized_client",
            &format!("this app may not use the {grant_type} grant"),
        ));
    }
    let jkt = match dpop_key(svc, &client, dpop_proof) {
        Ok(jkt) => jkt,
        Err(e) => {
            svc.counters.count(&client.client_id, Event::Error);
            return Err(e);
        }
    };
    let jkt = jkt.as_deref();
    let result = match grant {
        GrantType::AuthorizationCode => authorization_code(svc, &client, params, jkt),
        GrantType::RefreshToken => refresh(svc, &client, params, jkt),
        GrantType::ClientCredentials => client_credentials(svc, &client, params, jkt),
        GrantType::DeviceCode => super::device::redeem(svc, &client, params, jkt),
        GrantType::TokenExchange => super::token_exchange::exchange(svc, &client, params, jkt),
    };
    svc.counters.count(
        &client.client_id,
        if result.is_ok() {
            Event::Token
        } else {
            Event::Error
        },
    );
    result
}

/// The DPoP key of the request, if it carried a proof (required for apps registered with
/// `dpop_bound_access_tokens`, and always with a current server nonce).
fn dpop_key(
    svc: &Services,
    client: &Client,
    proof: Option<&str>,
) -> Result<Option<String>, TokenError> {
    let Some(proof) = proof else {
        if client.dpop_bound {
            return Err(oauth(
                "invalid_dpop_proof",
                "this app must send a DPoP proof with every token request",
            ));
        }
        return Ok(None);
    };
    let request = super::dpop::Request {
        method: "POST",
        path: "/token",
        access_token: None,
        require_nonce: true,
    };
    match super::dpop::verify(svc, proof, request)? {
        Ok(jkt) => Ok(Some(jkt)),
        Err(DpopError::UseNonce) => Err(TokenError::UseDpopNonce {
            nonce: super::dpop::current_nonce(svc),
        }),
        Err(DpopError::Invalid(why)) => Err(oauth("invalid_dpop_proof", why)),
    }
}

fn authorization_code(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let code = params
        .get("code")
        .ok_or_else(|| oauth("invalid_request", "code is required"))?;
    let now = svc.now();
    let grant =
        match svc
            .store
            .redeem_code(&keys::sha256_b64(code.as_bytes()), &client.client_id, now)?
        {
            CodeRedemption::Redeemed(grant) => grant,
            CodeRedemption::Replayed(grant) => {
                // RFC 6749 4.1.2: a code used twice revokes what it issued.
                svc.store.revoke_grant(&grant.id, now)?;
                svc.audit.append(AuditEvent::new(
                    "code.replayed",
                    &grant.sub,
                    Some(&client.client_id),
                    serde_json::json!({ "grant": grant.id, "action": "grant revoked" }),
                ))?;
                return Err(oauth(
                    "invalid_grant",
                    "the code was already used; tokens issued with it are revoked",
                ));
            }
            CodeRedemption::OtherClient => {
                return Err(oauth(
                    "invalid_grant",
                    "the code was issued to another client",
                ))
            }
            CodeRedemption::Unknown => return Err(oauth("invalid_grant", "the code is not valid")),
        };
    if now >= grant.code_expires_at {
        return Err(oauth("invalid_grant", "the code has expired"));
    }
    if grant.revoked_at.is_some() {
        return Err(oauth("invalid_grant", "the authorization was revoked"));
    }
    if params.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(oauth(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&grant.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            pkce::verify(challenge, verifier).map_err(|e| oauth("invalid_grant", &e.to_string()))?
        }
        (Some(_), None) => return Err(oauth("invalid_grant", "code_verifier is required")),
        // RFC 9700 2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
        (None, Some(_)) => {
            return Err(oauth(
                "invalid_grant",
                "code_verifier sent but no code_challenge was used",
            ))
        }
        (None, None) => {}
    }
    let scopes = ScopeSet::parse(&grant.scope);
    let with_refresh =
        scopes.contains(scope::OFFLINE_ACCESS) && client.allows_grant(GrantType::RefreshToken);
    // RFC 9449 5: a public client's refresh tokens are bound to its DPoP key (a confidential
    // client's are already bound to its credentials).
    if let (Some(jkt), true) = (jkt, client.is_public()) {
        svc.store.bind_grant_dpop(&grant.id, jkt)?;
    }
    issue_for_grant(
        svc,
        client,
        &grant,
        &scopes,
        with_refresh,
        grant.nonce.as_deref(),
        "authorization_code",
        jkt,
    )
}

fn refresh(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let token = params
        .get("refresh_token")
        .ok_or_else(|| oauth("invalid_request", "refresh_token is required"))?;
    let hash = keys::sha256_b64(token.as_bytes());
    let now = svc.now();
    let invalid = || oauth("invalid_grant", "the refresh token is not valid");
    let Some(row) = svc.store.refresh(&hash)? else {
        return Err(invalid());
    };
    if row.client_id != client.client_id {
        return Err(oauth(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    if now >= row.expires_at {
        return Err(oauth("invalid_grant", "the refresh token has expired"));
    }
    // Checked before rotation: a stolen token without the key must not spend the real one.
    let bound = svc.store.grant(&row.grant_id)?.and_then(|g| g.dpop_jkt);
    if let Some(bound) = bound {
        if jkt != Some(bound.as_str()) {
            return Err(oauth(
                "invalid_dpop_proof",
                "the refresh token is bound to a DPoP key this request does not prove",
            ));
        }
    }
    let (successor, successor_row) = new_refresh(svc, &row.grant_id, &client.client_id, now);
    let grant = match svc.store.rotate_refresh(&hash, &successor_row, now)? {
        RefreshUse::Rotated(grant) => grant,
        RefreshUse::Reused(used) => {
            // RFC 9700 4.14.2: a rotated token came back; someone holds a copy. Revoke the family.
            if svc.store.revoke_grant(&used.grant_id, now)? {
                svc.audit.append(AuditEvent::new(
                    "refresh.reuse_detected",
                    "system",
                    Some(&client.client_id),
                    serde_json::json!({ "grant": used.grant_id, "action": "grant revoked" }),
                ))?;
            }
            return Err(oauth(
                "invalid_grant",
                "the refresh token was already used; the authorization is revoked",
            ));
        }
        RefreshUse::Unknown => return Err(invalid()),
    };
    let granted = ScopeSet::parse(&grant.scope);
    let scopes = match params.get("scope") {
        Some(s) => {
            let asked = ScopeSet::parse(s);
            if !asked.is_subset_of(&granted) {
                return Err(oauth("invalid_scope", "a refresh cannot widen the scope"));
            }
            asked
        }
        None => granted,
    };
    let mut response = issue_for_grant(
        svc,
        client,
        &grant,
        &scopes,
        false,
        None,
        "refresh_token",
        jkt,
    )?;
    response.refresh_token = Some(successor);
    Ok(response)
}

fn client_credentials(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let (response, event) = super::machine_token::issue(svc, client, params, jkt)?;
    svc.audit.append(event)?;
    Ok(response)
}

fn new_refresh(svc: &Services, grant_id: &str, client_id: &str, now: i64) -> (String, RefreshRow) {
    let token = keys::random_token(32);
    let row = RefreshRow {
        token_hash: keys::sha256_b64(token.as_bytes()),
        grant_id: grant_id.to_owned(),
        client_id: client_id.to_owned(),
        created_at: now,
        expires_at: now + svc.config.refresh_token_ttl_secs,
        used_at: None,
    };
    (token, row)
}

/// The citizen's ID number when `client` is the federation node of their own region (it verified
/// that number and holds their account): it links them by it. Nobody else gets it this way.
fn home_node_id_number(
    svc: &Services,
    client: &Client,
    sub: &str,
) -> Result<Option<String>, Infra> {
    let Some(region) = &client.federation_region else {
        return Ok(None);
    };
    let Some(user) = svc.store.user_by_sub(sub)? else {
        return Ok(None);
    };
    let number = super::users::reveal_id_number(svc, &user)
        .and_then(|n| crate::domain::id_number::IdNumber::parse(&n).ok())
        .filter(|id| crate::domain::upstream::speaks_for(region, id));
    Ok(number.map(|id| id.expose().to_owned()))
}

/// RFC 9449 5: a DPoP-bound access token says so in `token_type`.
pub(super) fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}

/// Access token, ID token (for `openid`) and optionally a first refresh token for a grant.
#[allow(clippy::too_many_arguments)]
pub(super) fn issue_for_grant(
    svc: &Services,
    client: &Client,
    grant: &GrantRow,
    scopes: &ScopeSet,
    with_refresh: bool,
    nonce: Option<&str>,
    grant_type: &str,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let now = svc.now();
    let amr = grant.amr_list();
    // What this client calls the citizen (pairwise clients: their sector's own `sub`).
    let sub = super::subjects::subject_for(svc, client, &grant.sub);
    let auth = AuthFacts {
        sub: &sub,
        auth_time: grant.auth_time,
        acr: &grant.acr,
        amr: &amr,
        sid: grant.sid.as_deref(),
    };
    let jti = keys::random_token(16);
    let scope_text = scopes.to_string();
    let at_claims = tokens::access_token_claims(&tokens::AccessTokenInput {
        issuer: &svc.config.issuer,
        client_id: &client.client_id,
        sub: &sub,
        scope: &scope_text,
        jti: &jti,
        grant_id: Some(&grant.id),
        auth: Some(auth.clone()),
        jkt,
        now,
        ttl: svc.config.access_token_ttl_secs,
    });
    let access_token = svc
        .keys
        .signer(keys::Alg::ES256)
        .sign_jwt("at+jwt", &at_claims)?;
    let id_token = if scopes.contains(scope::OPENID) {
        let wanted = claims::requested(grant.claims.as_deref(), "id_token");
        let mut extra = if wanted.is_empty() {
            serde_json::Map::new()
        } else {
            match svc.store.user_by_sub(&grant.sub)? {
                Some(user) => claims::user_claims(svc, &user, scopes, Some(&wanted)),
                None => return Err(oauth("invalid_grant", "the account no longer exists")),
            }
        };
        if let Some(number) = home_node_id_number(svc, client, &grant.sub)? {
            extra.insert("id_number".into(), serde_json::json!(number));
        }
        let id_claims = tokens::id_token_claims(&tokens::IdTokenInput {
            issuer: &svc.config.issuer,
            client_id: &client.client_id,
            auth,
            nonce,
            access_token: Some(&access_token),
            now,
            ttl: svc.config.id_token_ttl_secs,
            extra,
        });
        Some(
            svc.keys
                .signer(client.id_token_alg)
                .sign_jwt("JWT", &id_claims)?,
        )
    } else {
        None
    };
    svc.audit.append(AuditEvent::new(
        "token.issued",
        &grant.sub,
        Some(&client.client_id),
        serde_json::json!({ "grant_type": grant_type, "jti": jti, "grant": grant.id }),
    ))?;
    // The refresh token is stored last: if the audit entry (or anything before) fails, the app
    // is told so (503) and no live refresh token is left behind that it never received.
    let refresh_token = if with_refresh {
        let (token, row) = new_refresh(svc, &grant.id, &client.client_id, now);
        svc.store.insert_refresh(&row)?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: token_type(jkt),
        expires_in: svc.config.access_token_ttl_secs,
        refresh_token,
        id_token,
        scope: scope_text,
        issued_token_type: None,
    })
}

/// Scopes that describe a person (and so never apply to a client acting for itself).
pub(super) fn is_user_scope(s: &str) -> bool {
    scope::USER_SCOPES.contains(&s) || scope::licence_type(s).is_some()
}
