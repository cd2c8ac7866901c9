//! OpenID for Verifiable Credential Issuance endpoints (the token endpoint's pre-authorized code
//! grant lives with the other grants).
use super::{blocking, infra_json};
use crate::flows::token_check::Presentation;
use crate::flows::vci::{self, CredentialRequestError};
use crate::services::Services;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

/// Largest credential request read (ten proofs fit many times over).
const MAX_REQUEST_BYTES: usize = 64 * 1024;

pub async fn metadata(svc: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(vci::metadata(&svc))
}

/// `POST /credential/nonce` (OpenID4VCI 7): never cached.
pub async fn nonce(svc: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "c_nonce": vci::nonce(&svc) }))
}

/// `POST /credential` with the access token from a pre-authorized code (Bearer), or one from
/// the authorization code flow (Bearer, or DPoP with a proof when bound).
pub async fn credential(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Some(presented) = super::userinfo::header_token(&req)? else {
        return Err(WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: None,
            scope: None,
        });
    };
    if body.len() > MAX_REQUEST_BYTES {
        return Err(WebError::oauth(
            "invalid_credential_request",
            "the request is too large",
        ));
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    let request = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) if is_json => v,
        _ => {
            return Err(WebError::oauth(
                "invalid_credential_request",
                "the body must be a JSON object sent as application/json",
            ))
        }
    };
    let proof = super::token::dpop_header(&req)?;
    let dpop_scheme = presented.dpop_scheme;
    let result = blocking(&svc, move |s| {
        let how = Presentation {
            dpop_scheme,
            proof: proof.as_deref(),
            method: "POST",
            path: "/credential",
        };
        vci::credential(s, &presented.token, &how, &request)
    })
    .await?;
    match result {
        Ok(body) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body)),
        Err(CredentialRequestError::InvalidToken(why)) => Err(WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: Some(why.into()),
            scope: None,
        }),
        Err(CredentialRequestError::InsufficientScope(why)) => Err(WebError::Bearer {
            status: StatusCode::FORBIDDEN,
            error: Some("insufficient_scope"),
            description: Some(why.into()),
            scope: None,
        }),
        Err(CredentialRequestError::Bearer(e)) => {
            Err(super::userinfo::bearer_error(e, dpop_scheme))
        }
        Err(CredentialRequestError::Request { error, description }) => {
            Err(WebError::oauth(error, description))
        }
        Err(CredentialRequestError::Infra(e)) => Err(infra_json(e)),
    }
}
