//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 2.3, OIDC Core 9): client_secret_basic, client_secret_post, private_key_jwt, none.
use super::Infra;
use crate::domain::client::{AuthMethod, Client};
use crate::services::Services;
use crate::store::clients::ClientRow;
use serde_json::Value;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credentials as they arrived, before anything is trusted.
#[derive(Debug)]
pub enum Presented {
    Basic {
        client_id: String,
        secret: String,
    },
    Post {
        client_id: String,
        secret: String,
    },
    Assertion {
        client_id: Option<String>,
        assertion: String,
    },
    /// A public client names itself.
    Id {
        client_id: String,
    },
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    /// RFC 6749 5.2 invalid_client; `basic` says whether to answer with a Basic challenge.
    #[error("{description}")]
    Invalid {
        description: &'static str,
        basic: bool,
    },
    #[error("this app is {0}: it may not obtain tokens")]
    NotApproved(String),
    #[error(transparent)]
    Infra(#[from] Infra),
}

impl From<crate::store::StoreError> for ClientAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        ClientAuthError::Infra(e.into())
    }
}

fn invalid(description: &'static str, basic: bool) -> ClientAuthError {
    ClientAuthError::Invalid { description, basic }
}

pub fn authenticate(svc: &Services, presented: Presented) -> Result<Client, ClientAuthError> {
    let basic = matches!(presented, Presented::Basic { .. });
    let client_id = match &presented {
        Presented::Basic { client_id, .. }
        | Presented::Post { client_id, .. }
        | Presented::Id { client_id } => Some(client_id.clone()),
        Presented::Assertion {
            client_id,
            assertion,
        } => client_id.clone().or_else(|| assertion_subject(assertion)),
        Presented::Nothing => None,
    };
    let client_id = client_id.ok_or_else(|| invalid("client authentication is required", false))?;
    let row = svc.store.client(&client_id)?;
    check(svc, &presented, row, basic)
}

/// The same check for an app with a secret, with its row from the cache only: `None` when the
/// row is not cached or the request is not a secret (a client assertion needs its keys and a
/// replay check). Answered on an async worker, so nothing here may wait on the database.
pub fn authenticate_cached(
    svc: &Services,
    presented: &Presented,
) -> Option<Result<Client, ClientAuthError>> {
    let (Presented::Basic { client_id, .. } | Presented::Post { client_id, .. }) = presented else {
        return None;
    };
    let basic = matches!(presented, Presented::Basic { .. });
    let row = svc.store.cached_client(client_id)?;
    Some(check(svc, presented, Some(row), basic))
}

fn check(
    svc: &Services,
    presented: &Presented,
    row: Option<ClientRow>,
    basic: bool,
) -> Result<Client, ClientAuthError> {
    // Unknown client and wrong secret answer alike.
    let Some(row) = row else {
        return Err(invalid("client authentication failed", basic));
    };
    let client = row.to_domain()?;
    let ok = match (presented, client.auth_method) {
        (Presented::Basic { secret, .. }, AuthMethod::ClientSecretBasic)
        | (Presented::Post { secret, .. }, AuthMethod::ClientSecretPost) => {
            row.secret_hash.as_deref().is_some_and(|stored| {
                keys::constant_time_eq(
                    keys::sha256_b64(secret.as_bytes()).as_bytes(),
                    stored.as_bytes(),
                )
            })
        }
        (Presented::Assertion { assertion, .. }, AuthMethod::PrivateKeyJwt) => {
            // Verifying may fetch the client's jwks_uri: never on behalf of an unreviewed app.
            if !client.may_start_flows() {
                return Err(ClientAuthError::NotApproved(client.status.to_string()));
            }
            check_assertion(svc, &client, assertion)?
        }
        (Presented::Id { .. }, AuthMethod::None) => true,
        _ => {
            return Err(invalid(
                "this authentication method is not the one registered for the client",
                basic,
            ))
        }
    };
    if !ok {
        return Err(invalid("client authentication failed", basic));
    }
    if !client.may_start_flows() {
        return Err(ClientAuthError::NotApproved(client.status.to_string()));
    }
    Ok(client)
}

fn assertion_subject(assertion: &str) -> Option<String> {
    // Only to find which client's keys to verify with; nothing is trusted before verification.
    let payload = assertion.split('.').nth(1)?;
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss").and_then(Value::as_str).map(str::to_owned)
}

/// private_key_jwt (RFC 7523 3): signed by a key in the client's JWKS, iss = sub = client_id,
/// our issuer or token endpoint as audience, unexpired, and a jti never seen before.
fn check_assertion(
    svc: &Services,
    client: &Client,
    assertion: &str,
) -> Result<bool, ClientAuthError> {
    let allowed = [keys::Alg::ES256, keys::Alg::RS256];
    let Ok(jwt) = super::client_keys::verify(svc, client, assertion, &allowed) else {
        return Ok(false);
    };
    let now = svc.now();
    if keys::check_time(&jwt.claims, now, 30).is_err() {
        return Ok(false);
    }
    let c = &jwt.claims;
    let is_client = |k: &str| c.get(k).and_then(Value::as_str) == Some(client.client_id.as_str());
    let token_endpoint = svc.config.endpoint("/token");
    let audience_ok = match c.get("aud") {
        Some(Value::String(a)) => a == &svc.config.issuer || a == &token_endpoint,
        Some(Value::Array(list)) => list.iter().any(|a| {
            a.as_str()
                .is_some_and(|a| a == svc.config.issuer || a == token_endpoint)
        }),
        _ => false,
    };
    let exp = c.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let Some(jti) = c.get("jti").and_then(Value::as_str) else {
        return Ok(false);
    };
    if !(is_client("iss") && is_client("sub") && audience_ok) || exp > now + 3600 {
        return Ok(false);
    }
    Ok(svc
        .store
        // Kept past exp by the clock leeway that check_time grants, so no replay fits in between.
        .use_jti_once(&format!("{}:{jti}", client.client_id), exp + 30)?)
}
