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
use crate::domain::scope::{self, ScopeSet};
use crate::domain::tokens::{self, AuthFacts};
use crate::services::Services;
use crate::store::grants::{GrantRow, RefreshRow, RefreshUse};
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
        GrantType::AuthorizationCode => super::code_exchange::exchange(svc, &client, params, jkt),
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

/// Access token, ID token (for `openid`) and optionally a first refresh token for a grant,
/// answered once its audit entry (and then its refresh token) is stored.
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
    let prepared = prepare_for_grant(
        svc,
        client,
        grant,
        scopes,
        with_refresh,
        nonce,
        grant_type,
        jkt,
    )?;
    svc.audit.append(prepared.event)?;
    // The refresh token is stored last: if the audit entry (or anything before) fails, the app
    // is told so (503) and no live refresh token is left behind that it never received.
    if let Some(row) = &prepared.refresh_row {
        svc.store.insert_refresh(row)?;
    }
    Ok(prepared.response)
}

/// Tokens made for a grant, not yet handed out: the answer, the audit entry that must be
/// stored first, and the refresh token's row (stored with or after the entry).
pub(super) struct Prepared {
    pub response: TokenResponse,
    pub event: AuditEvent,
    pub refresh_row: Option<RefreshRow>,
}

/// Signs the tokens of [`issue_for_grant`] and stores nothing.
#[allow(clippy::too_many_arguments)]
pub(super) fn prepare_for_grant(
    svc: &Services,
    client: &Client,
    grant: &GrantRow,
    scopes: &ScopeSet,
    with_refresh: bool,
    nonce: Option<&str>,
    grant_type: &str,
    jkt: Option<&str>,
) -> Result<Prepared, TokenError> {
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
    let event = AuditEvent::new(
        "token.issued",
        &grant.sub,
        Some(&client.client_id),
        serde_json::json!({ "grant_type": grant_type, "jti": jti, "grant": grant.id }),
    );
    let (refresh_token, refresh_row) = match with_refresh {
        true => {
            let (token, row) = new_refresh(svc, &grant.id, &client.client_id, now);
            (Some(token), Some(row))
        }
        false => (None, None),
    };
    Ok(Prepared {
        response: TokenResponse {
            access_token,
            token_type: token_type(jkt),
            expires_in: svc.config.access_token_ttl_secs,
            refresh_token,
            id_token,
            scope: scope_text,
            issued_token_type: None,
        },
        event,
        refresh_row,
    })
}

/// Scopes that describe a person (and so never apply to a client acting for itself).
pub(super) fn is_user_scope(s: &str) -> bool {
    scope::USER_SCOPES.contains(&s) || scope::licence_type(s).is_some()
}
