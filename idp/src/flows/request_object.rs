//! Request objects (OIDC Core 6): the authorization request's parameters inside a JWT, sent by
//! value (`request`) or by reference (`request_uri`). Unsigned objects are mere containers and
//! are allowed only to clients that registered no signing algorithm; signed ones must verify
//! with the client's keys. The object's parameters replace those of the query.
use super::{client_keys, outbound};
use crate::domain::client::{Client, RequestObjectAlg};
use crate::domain::params::Params;
use crate::services::Services;
use base64::Engine;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestObjectError {
    pub error: &'static str,
    pub description: String,
}

fn invalid(description: impl Into<String>) -> RequestObjectError {
    RequestObjectError {
        error: "invalid_request_object",
        description: description.into(),
    }
}

/// Registered JWT claims that describe the object itself, not the authorization request.
const ENVELOPE: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "request",
    "request_uri",
];

pub fn has_request_object(params: &Params) -> bool {
    params.get("request").is_some() || params.get("request_uri").is_some()
}

/// Returns the parameters with the request object's members merged in (they win).
pub fn resolve(
    svc: &Services,
    params: &Params,
    client: &Client,
) -> Result<Params, RequestObjectError> {
    let jwt = match (params.get("request"), params.get("request_uri")) {
        (Some(_), Some(_)) => {
            return Err(RequestObjectError {
                error: "invalid_request",
                description: "send request or request_uri, not both".into(),
            })
        }
        (Some(jwt), None) => jwt.to_owned(),
        (None, Some(uri)) => {
            let body = outbound::fetch(svc, uri).map_err(|e| {
                // The reason stays in our log: telling the client would make us a port scanner.
                tracing::info!(reason = %e, "request_uri not fetched");
                RequestObjectError {
                    error: "invalid_request_uri",
                    description: "the request_uri could not be fetched".into(),
                }
            })?;
            String::from_utf8(body).map_err(|_| RequestObjectError {
                error: "invalid_request_uri",
                description: "not text".into(),
            })?
        }
        (None, None) => return Ok(params.clone()),
    };
    let claims = claims_of(svc, client, jwt.trim())?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    // Present means the string client_id: a number or an object is not "the same client".
    if claims
        .get("client_id")
        .is_some_and(|c| c.as_str() != Some(client.client_id.as_str()))
    {
        return Err(invalid(
            "client_id in the request object differs from the request",
        ));
    }
    if claims
        .get("iss")
        .is_some_and(|i| i.as_str() != Some(client.client_id.as_str()))
    {
        return Err(invalid("iss of the request object must be the client_id"));
    }
    if let Some(aud) = claims.get("aud") {
        let ok = match aud {
            Value::String(a) => a == &svc.config.issuer,
            Value::Array(list) => list
                .iter()
                .any(|a| a.as_str() == Some(svc.config.issuer.as_str())),
            _ => false,
        };
        if !ok {
            return Err(invalid("aud of the request object must be this issuer"));
        }
    }
    // A present exp must be a number in the future; a string or a list never expires nothing.
    if let Some(exp) = claims.get("exp") {
        match exp.as_f64() {
            Some(exp) if exp > svc.now() as f64 => {}
            Some(_) => return Err(invalid("the request object has expired")),
            None => return Err(invalid("exp of the request object must be a number")),
        }
    }
    if let (Some(outer), Some(inner)) = (
        params.get("response_type"),
        claims.get("response_type").and_then(text),
    ) {
        if outer != inner {
            return Err(invalid(
                "response_type differs between the request and the request object",
            ));
        }
    }
    let mut merged = params.clone();
    merged.remove("request");
    merged.remove("request_uri");
    for (key, value) in &claims {
        if ENVELOPE.contains(&key.as_str()) {
            continue;
        }
        let as_param = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => other.to_string(),
        };
        merged.insert(key, &as_param);
    }
    Ok(merged)
}

fn claims_of(
    svc: &Services,
    client: &Client,
    jwt: &str,
) -> Result<Map<String, Value>, RequestObjectError> {
    let header = keys::peek_header(jwt).map_err(|_| invalid("the request object is not a JWT"))?;
    match header.get("alg").and_then(Value::as_str) {
        Some("none") => {
            if matches!(client.request_object_alg, Some(RequestObjectAlg::Signed(_))) {
                return Err(invalid("this client registered a signing algorithm: unsigned request objects are refused"));
            }
            unsigned_claims(jwt)
        }
        Some(alg) => {
            let alg: keys::Alg = alg
                .parse()
                .map_err(|_| invalid("unsupported request object algorithm"))?;
            if matches!(client.request_object_alg, Some(RequestObjectAlg::Signed(a)) if a != alg) {
                return Err(invalid(
                    "the request object is not signed with the registered algorithm",
                ));
            }
            let claims = client_keys::verify(svc, client, jwt, &[alg])
                .map(|v| v.claims)
                .map_err(|_| {
                    invalid("the request object signature does not verify with the client's keys")
                })?;
            // A signed object must say for whom and until when it is valid (RFC 9101 10.2),
            // or a captured one could be replayed here forever.
            if !claims.contains_key("aud") || !claims.contains_key("exp") {
                return Err(invalid("a signed request object needs aud and exp"));
            }
            Ok(claims)
        }
        None => Err(invalid("the request object has no alg")),
    }
}

/// `alg: none`: exactly two non-empty segments and an empty signature.
fn unsigned_claims(jwt: &str) -> Result<Map<String, Value>, RequestObjectError> {
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(""), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("an unsigned request object has an empty signature"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| invalid("payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid("payload is not a JSON object"))
}
