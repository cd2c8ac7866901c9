//! Dynamic Client Registration (RFC 7591) and reading a registration back (RFC 7592 2.1).
//! Without an operator's initial access token a registered app waits for review (pending).
use super::clients::{self, NewClient, RegistryError};
use super::Infra;
use crate::domain::client::{AuthMethod, GrantType};
use crate::domain::subject::SubjectType;
use crate::services::Services;
use serde_json::{json, Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// RFC 7591 3.2.2 error codes.
    #[error("{error}: {description}")]
    Invalid {
        error: &'static str,
        description: String,
    },
    #[error("the initial access token is not valid")]
    BadInitialToken,
    #[error(transparent)]
    Infra(#[from] Infra),
}

fn metadata_error(description: impl Into<String>) -> RegistrationError {
    RegistrationError::Invalid {
        error: "invalid_client_metadata",
        description: description.into(),
    }
}

/// Metadata members we store and echo but do not interpret.
const ECHOED: &[&str] = &[
    "client_uri",
    "logo_uri",
    "contacts",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
    "dpop_bound_access_tokens",
];

pub fn register(
    svc: &Services,
    body: &Value,
    initial_token: Option<&str>,
) -> Result<Value, RegistrationError> {
    let approve = match initial_token {
        Some(t) => svc
            .store
            .initial_access_token(&keys::sha256_b64(t.as_bytes()), svc.now())
            .map_err(Infra::from)?
            .ok_or(RegistrationError::BadInitialToken)?,
        None => false,
    };
    let m = body
        .as_object()
        .ok_or_else(|| metadata_error("the body must be a JSON object"))?;
    let strings = |key: &str| -> Result<Vec<String>, RegistrationError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(vec![]),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| metadata_error(format!("{key} must be an array of strings")))
                })
                .collect(),
            Some(_) => Err(metadata_error(format!("{key} must be an array of strings"))),
        }
    };
    let string = |key: &str| -> Result<Option<String>, RegistrationError> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(metadata_error(format!("{key} must be a string"))),
        }
    };
    let redirect_uris = strings("redirect_uris")?;
    if redirect_uris.is_empty() {
        return Err(RegistrationError::Invalid {
            error: "invalid_redirect_uri",
            description: "redirect_uris is required".into(),
        });
    }
    let auth_method: AuthMethod = string("token_endpoint_auth_method")?
        .unwrap_or_else(|| "client_secret_basic".into())
        .parse()
        .map_err(|_| metadata_error("token_endpoint_auth_method is not supported"))?;
    let grant_types: Vec<GrantType> = {
        let g = strings("grant_types")?;
        let g = if g.is_empty() {
            vec!["authorization_code".to_string()]
        } else {
            g
        };
        g.iter()
            .map(|t| t.parse())
            .collect::<Result<_, _>>()
            .map_err(|_| metadata_error("a grant type is not supported"))?
    };
    if grant_types.contains(&GrantType::TokenExchange) {
        return Err(metadata_error(
            "the token exchange grant is granted by an operator only",
        ));
    }
    let response_types = strings("response_types")?;
    if response_types.iter().any(|r| r != "code") {
        return Err(metadata_error("only the response type code is supported"));
    }
    // OIDC Dynamic Registration 2: RS256 when the client names no algorithm.
    let id_token_alg: keys::Alg = string("id_token_signed_response_alg")?
        .unwrap_or_else(|| "RS256".into())
        .parse()
        .map_err(|_| metadata_error("id_token_signed_response_alg must be RS256 or ES256"))?;
    let request_object_alg = match string("request_object_signing_alg")? {
        Some(a) => Some(a.parse().map_err(|_| {
            metadata_error("request_object_signing_alg must be none, RS256 or ES256")
        })?),
        None => None,
    };
    let scopes = match string("scope")? {
        Some(s) => s
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        None => crate::domain::scope::default_app_scopes(),
    };
    if let Some(s) = scopes
        .iter()
        .find(|s| crate::domain::scope::OPERATOR_ONLY.contains(&s.as_str()))
    {
        return Err(metadata_error(format!(
            "the {s} scope is granted by an operator only"
        )));
    }
    let name = string("client_name")?.unwrap_or_else(|| "Unnamed app".into());
    if m.get("dpop_bound_access_tokens")
        .is_some_and(|v| !v.is_boolean())
    {
        return Err(metadata_error("dpop_bound_access_tokens must be a boolean"));
    }
    let mut echoed = Map::new();
    for key in ECHOED {
        if let Some(v) = m.get(*key) {
            echoed.insert((*key).into(), v.clone());
        }
    }
    let sector_uri = string("sector_identifier_uri")?;
    match string("subject_type")?.as_deref() {
        None | Some("public") => {
            // Checked even for public subjects: the document must list the redirect URIs.
            if sector_uri.is_some() {
                super::sectors::pairwise(svc, sector_uri.as_deref(), &redirect_uris)
                    .map_err(metadata_error)?;
            }
        }
        Some("pairwise") => {
            if let SubjectType::Pairwise { sector } =
                super::sectors::pairwise(svc, sector_uri.as_deref(), &redirect_uris)
                    .map_err(metadata_error)?
            {
                echoed.insert("subject_type".into(), json!("pairwise"));
                echoed.insert("sector_identifier".into(), json!(sector));
            }
        }
        Some(_) => return Err(metadata_error("subject_type must be public or pairwise")),
    }
    if let Some(uri) = &sector_uri {
        echoed.insert("sector_identifier_uri".into(), json!(uri));
    }
    let registration_token = keys::random_token(32);
    let new = NewClient {
        name,
        redirect_uris: redirect_uris.clone(),
        post_logout_redirect_uris: strings("post_logout_redirect_uris")?,
        auth_method,
        grant_types: grant_types.clone(),
        scopes: scopes.clone(),
        id_token_alg,
        jwks: m.get("jwks").cloned(),
        jwks_uri: string("jwks_uri")?,
        request_object_alg,
        backchannel_logout_uri: string("backchannel_logout_uri")?,
        approve,
        metadata: echoed.clone(),
        registration_token_hash: Some(keys::sha256_b64(registration_token.as_bytes())),
    };
    let registered = match clients::register(svc, new.clone(), "registration") {
        Ok(r) => r,
        Err(RegistryError::RedirectUri(e)) => {
            return Err(RegistrationError::Invalid {
                error: "invalid_redirect_uri",
                description: e.to_string(),
            })
        }
        Err(RegistryError::Metadata(d)) => return Err(metadata_error(d)),
        Err(RegistryError::NotFound) => return Err(metadata_error("registration failed")),
        Err(RegistryError::Infra(e)) => return Err(e.into()),
    };
    let mut out = echoed;
    out.insert("client_id".into(), json!(registered.client_id));
    if let Some(secret) = &registered.client_secret {
        out.insert("client_secret".into(), json!(secret));
        out.insert("client_secret_expires_at".into(), json!(0));
    }
    out.insert("client_id_issued_at".into(), json!(registered.created_at));
    out.insert("client_name".into(), json!(new.name));
    out.insert("redirect_uris".into(), json!(redirect_uris));
    out.insert(
        "post_logout_redirect_uris".into(),
        json!(new.post_logout_redirect_uris),
    );
    out.insert(
        "token_endpoint_auth_method".into(),
        json!(auth_method.as_str()),
    );
    out.insert(
        "grant_types".into(),
        json!(grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>()),
    );
    out.insert("response_types".into(), json!(["code"]));
    out.entry("subject_type").or_insert(json!("public"));
    out.insert(
        "id_token_signed_response_alg".into(),
        json!(id_token_alg.as_str()),
    );
    out.insert("scope".into(), json!(scopes.join(" ")));
    if let Some(jwks) = &new.jwks {
        out.insert("jwks".into(), jwks.clone());
    }
    if let Some(uri) = &new.jwks_uri {
        out.insert("jwks_uri".into(), json!(uri));
    }
    if let Some(alg) = &new.request_object_alg {
        out.insert("request_object_signing_alg".into(), json!(alg.as_str()));
    }
    if let Some(uri) = &new.backchannel_logout_uri {
        out.insert("backchannel_logout_uri".into(), json!(uri));
    }
    out.insert(
        "registration_access_token".into(),
        json!(registration_token),
    );
    out.insert(
        "registration_client_uri".into(),
        json!(svc
            .config
            .endpoint(&format!("/register/{}", registered.client_id))),
    );
    out.insert("status".into(), json!(registered.status.as_str()));
    Ok(Value::Object(out))
}

/// RFC 7592 2.1: the client reads its registration with its registration access token.
pub fn read(svc: &Services, client_id: &str, token: &str) -> Result<Option<Value>, Infra> {
    let Some(row) = svc.store.client(client_id)? else {
        return Ok(None);
    };
    let Some(stored) = &row.registration_token_hash else {
        return Ok(None);
    };
    if !keys::constant_time_eq(
        keys::sha256_b64(token.as_bytes()).as_bytes(),
        stored.as_bytes(),
    ) {
        return Ok(None);
    }
    let c = row.to_domain()?;
    let mut out: Map<String, Value> = serde_json::from_str(&row.metadata).unwrap_or_default();
    out.insert("client_id".into(), json!(c.client_id));
    out.insert("client_name".into(), json!(c.name));
    out.insert("redirect_uris".into(), json!(c.redirect_uris));
    out.insert(
        "post_logout_redirect_uris".into(),
        json!(c.post_logout_redirect_uris),
    );
    out.insert(
        "token_endpoint_auth_method".into(),
        json!(c.auth_method.as_str()),
    );
    out.insert(
        "grant_types".into(),
        json!(c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>()),
    );
    out.insert("response_types".into(), json!(["code"]));
    out.insert(
        "id_token_signed_response_alg".into(),
        json!(c.id_token_alg.as_str()),
    );
    out.insert("scope".into(), json!(c.scopes.join(" ")));
    out.insert("status".into(), json!(c.status.as_str()));
    Ok(Some(Value::Object(out)))
}
