//! What licence verifiers fetch: Token Status List shards and the issuer's metadata.
use super::{blocking, infra_json};
use crate::services::Services;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::Engine as _;

/// `GET /status-lists/{id}`: cacheable for the list's own `ttl`, by anyone.
pub async fn status_list(
    svc: web::Data<Services>,
    id: web::Path<String>,
) -> Result<HttpResponse, crate::web::error::WebError> {
    let id = id.into_inner();
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(not_found());
    }
    let token = blocking(&svc, move |s| crate::flows::status_lists::token(s, &id))
        .await?
        .map_err(infra_json)?;
    Ok(match token {
        Some(token) => HttpResponse::Ok()
            .insert_header((
                header::CACHE_CONTROL,
                format!("public, max-age={}", crate::flows::status_lists::TTL_SECS),
            ))
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .content_type("application/statuslist+jwt")
            .body(token),
        None => not_found(),
    })
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({
        "error": "not_found",
        "error_description": "no status list has that id"
    }))
}

/// `GET /.well-known/jwt-vc-issuer` (SD-JWT VC): the issuer and its key, with the certificate
/// chain verifiers anchor in the national root.
pub async fn jwt_vc_issuer(
    svc: web::Data<Services>,
) -> Result<HttpResponse, crate::web::error::WebError> {
    let issuer = blocking(&svc, crate::flows::licence_issuer::issuer)
        .await?
        .map_err(infra_json)?;
    let mut jwk = issuer.key.public_jwk();
    let b64 = base64::engine::general_purpose::STANDARD;
    jwk.insert(
        "x5c".into(),
        issuer.chain().iter().map(|der| b64.encode(der)).collect(),
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(serde_json::json!({
            "issuer": svc.config.issuer,
            "jwks": { "keys": [jwk] },
        })))
}
