//! The token, introspection and revocation endpoints: JSON in the formats of RFC 6749 5,
//! RFC 7662 2.2 and RFC 7009 2.2.
use super::{blocking, infra_json};
use crate::domain::params::Params;
use crate::flows::client_auth::{self, ClientAuthError, Presented, JWT_BEARER};
use crate::flows::code_exchange::{self, Settled};
use crate::flows::machine_token;
use crate::flows::token::{self, TokenError};
use crate::flows::token_check;
use crate::services::Services;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;

/// Reads client credentials from the Authorization header and the form (RFC 6749 2.3.1).
pub fn presented_credentials(req: &HttpRequest, form: &Params) -> Result<Presented, WebError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| rest.trim().to_owned())
        });
    let in_form = form.get("client_secret").is_some();
    let assertion = form.get("client_assertion");
    let methods =
        usize::from(basic.is_some()) + usize::from(in_form) + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(WebError::oauth(
            "invalid_request",
            "use exactly one client authentication method",
        ));
    }
    if let Some(encoded) = basic {
        let bad = || WebError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "malformed Basic credentials".into(),
            basic_challenge: true,
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        // Both halves are form-urlencoded before base64 (RFC 6749 2.3.1).
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        let (id, secret) = (decode(id).ok_or_else(bad)?, decode(secret).ok_or_else(bad)?);
        if form.get("client_id").is_some_and(|f| f != id) {
            return Err(WebError::oauth(
                "invalid_request",
                "client_id differs from the authenticated client",
            ));
        }
        return Ok(Presented::Basic {
            client_id: id,
            secret,
        });
    }
    if let Some(assertion) = assertion {
        if form.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(WebError::oauth(
                "invalid_request",
                "client_assertion_type must be jwt-bearer",
            ));
        }
        return Ok(Presented::Assertion {
            client_id: form.get("client_id").map(str::to_owned),
            assertion: assertion.to_owned(),
        });
    }
    Ok(match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Presented::Post {
            client_id: id.to_owned(),
            secret: secret.to_owned(),
        },
        (Some(id), None) => Presented::Id {
            client_id: id.to_owned(),
        },
        _ => Presented::Nothing,
    })
}

/// The `DPoP` request header: at most one (RFC 9449 4.3 step 1).
pub fn dpop_header(req: &HttpRequest) -> Result<Option<String>, WebError> {
    let mut values = req.headers().get_all("dpop");
    let first = values.next();
    if values.next().is_some() {
        return Err(WebError::oauth(
            "invalid_dpop_proof",
            "send exactly one DPoP header",
        ));
    }
    match first {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.trim().to_owned()))
            .map_err(|_| WebError::oauth("invalid_dpop_proof", "the DPoP header is not text")),
    }
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

pub fn parse_form(req: &HttpRequest, body: &[u8]) -> Result<Params, WebError> {
    if !is_form(req) {
        return Err(WebError::oauth(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(Params::parse_urlencoded(body))
}

pub fn client_error(e: ClientAuthError) -> WebError {
    match e {
        ClientAuthError::Invalid { description, basic } => WebError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            basic_challenge: basic,
        },
        ClientAuthError::NotApproved(s) => {
            WebError::oauth("unauthorized_client", format!("this app is {s}"))
        }
        ClientAuthError::Infra(i) => infra_json(i),
    }
}

pub fn json_no_store(body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

pub async fn token(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = parse_form(&req, &body)?;
    let presented = presented_credentials(&req, &form)?;
    let proof = dpop_header(&req)?;
    if let Some((pending, event)) =
        machine_token::without_database(&svc, &form, &presented, proof.is_some())
    {
        let committed = svc.audit.append_async(event).await;
        return match pending.settle(&svc, committed) {
            Ok(tokens) => Ok(json_no_store(tokens)),
            Err(e) => token_error(e),
        };
    }
    if let Some((quick, event, companion)) =
        code_exchange::without_blocking(&svc, &form, &presented, proof.is_some())
    {
        let written = svc.audit.append_async_with(event, Some(companion)).await;
        let answer = match quick.settle(&svc, written) {
            Settled::Answer(answer) => answer,
            Settled::Replayed(replay) => blocking(&svc, move |s| replay.finish(s)).await?,
        };
        return match answer {
            Ok(tokens) => Ok(json_no_store(tokens)),
            Err(e) => token_error(e),
        };
    }
    let result = blocking(&svc, move |s| {
        token::exchange(s, &form, presented, proof.as_deref())
    })
    .await?;
    match result {
        Ok(tokens) => Ok(json_no_store(tokens)),
        Err(e) => token_error(e),
    }
}

/// A token-endpoint style error (RFC 6749 5.2, RFC 9449 8) as HTTP.
pub fn token_error(e: TokenError) -> Result<HttpResponse, WebError> {
    match e {
        TokenError::UseDpopNonce { nonce } => Ok(HttpResponse::BadRequest()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("DPoP-Nonce", nonce))
            .json(serde_json::json!({
                "error": "use_dpop_nonce",
                "error_description": "put the server nonce from the DPoP-Nonce header in the proof",
            }))),
        TokenError::OAuth { error, description } => Err(WebError::oauth(error, description)),
        TokenError::InvalidClient { description, basic } => Err(WebError::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description,
            basic_challenge: basic,
        }),
        TokenError::Infra(e) => Err(infra_json(e)),
    }
}

pub async fn introspect(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = parse_form(&req, &body)?;
    let presented = presented_credentials(&req, &form)?;
    let token = form
        .get("token")
        .ok_or_else(|| WebError::oauth("invalid_request", "token is required"))?
        .to_owned();
    let result = blocking(&svc, move |s| {
        let client = client_auth::authenticate(s, presented)?;
        if client.is_public() {
            return Err(ClientAuthError::Invalid {
                description: "public clients may not introspect",
                basic: false,
            });
        }
        token_check::introspect(s, &client, &token).map_err(ClientAuthError::Infra)
    })
    .await?;
    result.map(json_no_store).map_err(client_error)
}

pub async fn revoke(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = parse_form(&req, &body)?;
    let presented = presented_credentials(&req, &form)?;
    let token = form
        .get("token")
        .ok_or_else(|| WebError::oauth("invalid_request", "token is required"))?
        .to_owned();
    let result = blocking(&svc, move |s| {
        let client = client_auth::authenticate(s, presented)?;
        token_check::revoke(s, &client, &token).map_err(ClientAuthError::Infra)
    })
    .await?;
    result
        .map(|()| {
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        })
        .map_err(client_error)
}
