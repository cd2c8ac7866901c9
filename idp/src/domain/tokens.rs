//! The claims of the JWTs we issue: ID tokens (OIDC Core 2), access tokens (RFC 9068) and
//! logout tokens (OIDC Back-Channel Logout 2.4). Signing happens in the `keys` crate.
use serde_json::{json, Map, Value};

/// The facts of an authentication that travel into tokens.
#[derive(Debug, Clone)]
pub struct AuthFacts<'a> {
    pub sub: &'a str,
    pub auth_time: i64,
    pub acr: &'a str,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct IdTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub auth: AuthFacts<'a>,
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub now: i64,
    pub ttl: i64,
    /// Extra claims requested with the `claims` parameter for the ID token.
    pub extra: Map<String, Value>,
}

pub fn id_token_claims(input: &IdTokenInput<'_>) -> Map<String, Value> {
    let mut claims = input.extra.clone();
    let a = &input.auth;
    claims.insert("iss".into(), json!(input.issuer));
    claims.insert("sub".into(), json!(a.sub));
    claims.insert("aud".into(), json!(input.client_id));
    claims.insert("azp".into(), json!(input.client_id));
    claims.insert("iat".into(), json!(input.now));
    claims.insert("exp".into(), json!(input.now + input.ttl));
    claims.insert("auth_time".into(), json!(a.auth_time));
    claims.insert("acr".into(), json!(a.acr));
    claims.insert("amr".into(), json!(a.amr));
    if let Some(sid) = a.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(nonce) = input.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(at) = input.access_token {
        claims.insert("at_hash".into(), json!(keys::half_hash(at)));
    }
    claims
}

#[derive(Debug, Clone)]
pub struct AccessTokenInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The citizen, or the client itself for client_credentials.
    pub sub: &'a str,
    pub scope: &'a str,
    pub jti: &'a str,
    /// The grant (authorization) this token belongs to; revoking it revokes the token.
    pub grant_id: Option<&'a str>,
    pub auth: Option<AuthFacts<'a>>,
    /// The DPoP key the token is bound to (RFC 9449 6: `cnf.jkt`).
    pub jkt: Option<&'a str>,
    pub now: i64,
    pub ttl: i64,
}

pub fn access_token_claims(input: &AccessTokenInput<'_>) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(input.issuer));
    claims.insert("sub".into(), json!(input.sub));
    claims.insert("aud".into(), json!(input.issuer));
    claims.insert("client_id".into(), json!(input.client_id));
    claims.insert("iat".into(), json!(input.now));
    claims.insert("exp".into(), json!(input.now + input.ttl));
    claims.insert("jti".into(), json!(input.jti));
    claims.insert("scope".into(), json!(input.scope));
    if let Some(gid) = input.grant_id {
        claims.insert("gid".into(), json!(gid));
    }
    if let Some(jkt) = input.jkt {
        claims.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    if let Some(a) = &input.auth {
        claims.insert("auth_time".into(), json!(a.auth_time));
        claims.insert("acr".into(), json!(a.acr));
        claims.insert("amr".into(), json!(a.amr));
        if let Some(sid) = a.sid {
            claims.insert("sid".into(), json!(sid));
        }
    }
    claims
}

pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

pub fn logout_token_claims(
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: &str,
    jti: &str,
    now: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("sub".into(), json!(sub));
    claims.insert("sid".into(), json!(sid));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 120));
    claims.insert("jti".into(), json!(jti));
    claims.insert("events".into(), json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
    claims
}

/// Checks the registered claims of a token we issued ourselves (after its signature was verified).
pub fn check_own_token(
    claims: &Map<String, Value>,
    issuer: &str,
    now: i64,
) -> Result<(), &'static str> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err("the token was not issued here");
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => Ok(()),
        Some(_) => Err("the token has expired"),
        None => Err("the token has no expiry"),
    }
}
