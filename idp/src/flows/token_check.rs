//! Where tokens come back: userinfo (OIDC Core 5.3), introspection (RFC 7662) and
//! revocation (RFC 7009). Access tokens are JWTs, but revocation makes them checkable here.
use super::{claims, Infra};
use crate::domain::audit::AuditEvent;
use crate::domain::client::Client;
use crate::domain::scope::{self, ScopeSet};
use crate::domain::tokens;
use crate::services::Services;
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// RFC 6750 3.1 invalid_token.
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("the token lacks the scope {0}")]
    InsufficientScope(&'static str),
    /// RFC 9449 7.1 invalid_dpop_proof.
    #[error("{0}")]
    InvalidDpopProof(&'static str),
    #[error(transparent)]
    Infra(#[from] Infra),
}

impl From<crate::store::StoreError> for BearerError {
    fn from(e: crate::store::StoreError) -> Self {
        BearerError::Infra(e.into())
    }
}

/// Verifies one of our access tokens for use here (userinfo, the app API): as
/// `verify_any_audience`, and meant for this provider, not for an API a token exchange named.
pub fn verify_access_token(svc: &Services, token: &str) -> Result<Map<String, Value>, BearerError> {
    let claims = verify_any_audience(svc, token)?;
    let issuer = svc.config.issuer.as_str();
    let for_us = match claims.get("aud") {
        None => true,
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(issuer)),
        Some(_) => false,
    };
    if !for_us {
        return Err(BearerError::InvalidToken(
            "the access token is meant for another audience",
        ));
    }
    Ok(claims)
}

/// Verifies one of our access tokens: signature, type, issuer, expiry, and that neither the
/// token nor its grant was revoked.
pub fn verify_any_audience(svc: &Services, token: &str) -> Result<Map<String, Value>, BearerError> {
    let verify = || {
        keys::verify_jwt(
            token,
            &svc.keys.published(),
            &[keys::Alg::ES256],
            Some("at+jwt"),
        )
    };
    let jwt = match verify() {
        Ok(jwt) => jwt,
        Err(keys::KeyError::UnknownKey) => {
            // Another replica may have rotated keys moments ago.
            svc.keys.reload_if_stale(5);
            verify().map_err(|_| BearerError::InvalidToken("the access token is not valid"))?
        }
        Err(_) => return Err(BearerError::InvalidToken("the access token is not valid")),
    };
    let claims = jwt.claims;
    tokens::check_own_token(&claims, &svc.config.issuer, svc.now())
        .map_err(BearerError::InvalidToken)?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or(BearerError::InvalidToken("the access token has no jti"))?;
    if svc.store.is_jti_revoked(jti)? {
        return Err(BearerError::InvalidToken("the access token was revoked"));
    }
    if let Some(gid) = claims.get("gid").and_then(Value::as_str) {
        if !svc.store.is_grant_active(gid)? {
            return Err(BearerError::InvalidToken(
                "the authorization behind this token was revoked",
            ));
        }
    }
    // Suspending an app ends the use of the tokens it already holds.
    let client_id = claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let active_client = match svc.store.client(client_id)? {
        Some(row) => row.to_domain()?.may_start_flows(),
        None => false,
    };
    if !active_client {
        return Err(BearerError::InvalidToken(
            "the app this token was issued to is not active",
        ));
    }
    Ok(claims)
}

/// How an access token was presented: scheme, and the DPoP proof that came with it.
#[derive(Debug, Clone, Copy)]
pub struct Presentation<'a> {
    pub dpop_scheme: bool,
    pub proof: Option<&'a str>,
    pub method: &'a str,
    /// Path of the resource on this issuer (the proof's `htu`).
    pub path: &'a str,
}

/// A DPoP-bound token (`cnf.jkt`) is accepted only with the DPoP scheme and a fresh proof by
/// the same key for this very request and token; an unbound one only as a Bearer token.
fn check_binding(
    svc: &Services,
    claims: &Map<String, Value>,
    token: &str,
    how: &Presentation<'_>,
) -> Result<(), BearerError> {
    let bound = claims
        .get("cnf")
        .and_then(|c| c.get("jkt"))
        .and_then(Value::as_str);
    match (bound, how.dpop_scheme) {
        (None, false) => Ok(()),
        (None, true) => Err(BearerError::InvalidToken("the token is not DPoP-bound")),
        (Some(_), false) => Err(BearerError::InvalidToken(
            "the token is DPoP-bound: present it with the DPoP scheme and a proof",
        )),
        (Some(jkt), true) => {
            let proof = how
                .proof
                .ok_or(BearerError::InvalidDpopProof("a DPoP proof is required"))?;
            let request = super::dpop::Request {
                method: how.method,
                path: how.path,
                access_token: Some(token),
                require_nonce: false,
            };
            match super::dpop::verify(svc, proof, request)? {
                Ok(key) if key == jkt => Ok(()),
                Ok(_) => Err(BearerError::InvalidDpopProof(
                    "the proof is signed by another key than the token is bound to",
                )),
                Err(crate::domain::dpop::DpopError::Invalid(why)) => {
                    Err(BearerError::InvalidDpopProof(why))
                }
                Err(crate::domain::dpop::DpopError::UseNonce) => {
                    Err(BearerError::InvalidDpopProof("a nonce is required"))
                }
            }
        }
    }
}

/// The citizen behind a call of the government app: a DPoP-bound access token presented with
/// the DPoP scheme and a proof for this request. Returns the token's claims.
pub fn app_caller(
    svc: &Services,
    token: &str,
    how: &Presentation<'_>,
) -> Result<Map<String, Value>, BearerError> {
    if !how.dpop_scheme {
        return Err(BearerError::InvalidToken(
            "the app must present a DPoP-bound token with the DPoP scheme",
        ));
    }
    let claims = verify_access_token(svc, token)?;
    check_binding(svc, &claims, token, how)?;
    // Any app can hold a DPoP-bound token of a citizen; only the government app's own grant
    // (its operator-granted scope, a citizen's login) may speak for the citizen here.
    let scopes = ScopeSet::parse(claims.get("scope").and_then(Value::as_str).unwrap_or(""));
    if !scopes.contains(scope::GOV_APP) {
        return Err(BearerError::InsufficientScope(scope::GOV_APP));
    }
    if claims.get("gid").and_then(Value::as_str).is_none() {
        return Err(BearerError::InvalidToken(
            "the token does not come from a citizen's login",
        ));
    }
    Ok(claims)
}

/// A citizen's login as an access token carries it.
#[derive(Debug)]
pub struct CitizenToken {
    pub user: crate::store::users::UserRow,
    pub scopes: ScopeSet,
    pub client_id: String,
    /// DPoP-bound (`cnf.jkt`), and so presented with a proof by its key.
    pub bound: bool,
}

/// The citizen whose login an access token carries (checked, binding included).
pub fn citizen(
    svc: &Services,
    token: &str,
    how: &Presentation<'_>,
) -> Result<CitizenToken, BearerError> {
    let at = verify_access_token(svc, token)?;
    check_binding(svc, &at, token, how)?;
    Ok(CitizenToken {
        user: login_of(svc, &at)?,
        scopes: ScopeSet::parse(at.get("scope").and_then(Value::as_str).unwrap_or("")),
        client_id: at
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        bound: at.get("cnf").and_then(|c| c.get("jkt")).is_some(),
    })
}

/// The token's `sub` is what its client calls the citizen (maybe pairwise): the grant names the
/// citizen here.
fn login_of(
    svc: &Services,
    at: &Map<String, Value>,
) -> Result<crate::store::users::UserRow, BearerError> {
    let gid = at.get("gid").and_then(Value::as_str).unwrap_or_default();
    let grant = svc.store.grant(gid)?.ok_or(BearerError::InvalidToken(
        "the token does not come from a citizen's login",
    ))?;
    svc.store
        .user_by_sub(&grant.sub)?
        .ok_or(BearerError::InvalidToken("the account no longer exists"))
}

pub fn userinfo(
    svc: &Services,
    token: &str,
    how: &Presentation<'_>,
) -> Result<Map<String, Value>, BearerError> {
    let at = verify_access_token(svc, token)?;
    check_binding(svc, &at, token, how)?;
    let scopes = ScopeSet::parse(at.get("scope").and_then(Value::as_str).unwrap_or(""));
    if !scopes.contains(scope::OPENID) {
        return Err(BearerError::InsufficientScope("openid"));
    }
    let user = login_of(svc, &at)?;
    // Claims asked for by name already brought their scopes into the grant (and its consent).
    let mut out = claims::user_claims(svc, &user, &scopes, None);
    // 一证通办: licences of the types the citizen agreed to release, so forms fill themselves.
    let licences = super::licences::released(svc, &user, &scopes)?;
    if !licences.is_empty() {
        out.insert("licences".into(), Value::Object(licences));
    }
    let sub = at.get("sub").and_then(Value::as_str).unwrap_or_default();
    out.insert("sub".into(), json!(sub));
    Ok(out)
}

/// RFC 7662: active tokens are described only to the client they were issued to.
pub fn introspect(svc: &Services, caller: &Client, token: &str) -> Result<Value, Infra> {
    let inactive = json!({ "active": false });
    if token.len() > 16 * 1024 {
        return Ok(inactive);
    }
    if token.contains('.') {
        // The client it was issued to, or the API a token exchange issued it for.
        let described_to = |c: &Map<String, Value>| {
            c.get("client_id").and_then(Value::as_str) == Some(caller.client_id.as_str())
                || c.get("aud").and_then(Value::as_str) == Some(caller.client_id.as_str())
        };
        return match verify_any_audience(svc, token) {
            Ok(c) if described_to(&c) => {
                let mut out = Map::new();
                out.insert("active".into(), json!(true));
                // RFC 9449 6.2: a bound token is described as DPoP, with its `cnf`.
                let bound = c.get("cnf").is_some();
                out.insert(
                    "token_type".into(),
                    json!(if bound { "DPoP" } else { "Bearer" }),
                );
                for k in [
                    "cnf",
                    "scope",
                    "client_id",
                    "sub",
                    "exp",
                    "iat",
                    "iss",
                    "aud",
                    "jti",
                    "auth_time",
                    "acr",
                    "act",
                ] {
                    if let Some(v) = c.get(k) {
                        out.insert(k.into(), v.clone());
                    }
                }
                Ok(Value::Object(out))
            }
            Ok(_)
            | Err(BearerError::InvalidToken(_))
            | Err(BearerError::InsufficientScope(_))
            | Err(BearerError::InvalidDpopProof(_)) => Ok(inactive),
            Err(BearerError::Infra(e)) => Err(e),
        };
    }
    let Some(row) = svc.store.refresh(&keys::sha256_b64(token.as_bytes()))? else {
        return Ok(inactive);
    };
    let now = svc.now();
    if row.client_id != caller.client_id || row.used_at.is_some() || row.expires_at <= now {
        return Ok(inactive);
    }
    let Some(grant) = svc
        .store
        .grant(&row.grant_id)?
        .filter(|g| g.revoked_at.is_none())
    else {
        return Ok(inactive);
    };
    Ok(json!({
        "active": true,
        "token_type": "refresh_token",
        "client_id": row.client_id,
        "sub": super::subjects::subject_for(svc, caller, &grant.sub),
        "scope": grant.scope,
        "exp": row.expires_at,
        "iat": row.created_at,
        "iss": svc.config.issuer,
    }))
}

/// RFC 7009: revoking a refresh token revokes its grant (and so its access tokens); revoking
/// an access token records its jti. Unknown tokens and other clients' tokens change nothing.
pub fn revoke(svc: &Services, caller: &Client, token: &str) -> Result<(), Infra> {
    let now = svc.now();
    if token.contains('.') {
        if let Ok(c) = verify_any_audience(svc, token) {
            if c.get("client_id").and_then(Value::as_str) == Some(caller.client_id.as_str()) {
                let jti = c.get("jti").and_then(Value::as_str).unwrap_or_default();
                let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(now);
                svc.store.revoke_jti(jti, exp)?;
                svc.audit.append(AuditEvent::new(
                    "token.revoked",
                    "client",
                    Some(&caller.client_id),
                    json!({ "jti": jti }),
                ))?;
            }
        }
        return Ok(());
    }
    if let Some(row) = svc.store.refresh(&keys::sha256_b64(token.as_bytes()))? {
        if row.client_id == caller.client_id && svc.store.revoke_grant(&row.grant_id, now)? {
            svc.audit.append(AuditEvent::new(
                "grant.revoked",
                "client",
                Some(&caller.client_id),
                json!({ "grant": row.grant_id }),
            ))?;
        }
    }
    Ok(())
}
