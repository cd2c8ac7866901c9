//! Logout along the federation chain (see `flows::chain_logout`):
//! `POST /federation/backchannel_logout` takes a logout token from an upstream (OpenID Connect
//! Back-Channel Logout 1.0: 200 when done, 400 with an OAuth error otherwise);
//! `POST /federation/session_ended` takes word from a downstream node, as an authenticated client.
use super::token::{client_error, json_no_store, parse_form, presented_credentials};
use super::{blocking, infra_json};
use crate::flows::chain_logout::{self, ChainLogoutError};
use crate::flows::{client_auth, logout, upstream_oidc};
use crate::services::Services;
use crate::web::WebError;
use actix_web::{web, HttpRequest, HttpResponse};

fn refused(e: &ChainLogoutError) -> WebError {
    WebError::oauth("invalid_request", e.to_string())
}

pub async fn backchannel_logout(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = parse_form(&req, &body)?;
    let token = form
        .get("logout_token")
        .filter(|t| t.len() <= 16 * 1024)
        .ok_or_else(|| WebError::oauth("invalid_request", "logout_token is required"))?
        .to_owned();
    let named = token.clone();
    let upstream = blocking(&svc, move |s| chain_logout::upstream_named(s, &named))
        .await?
        .map_err(infra_json)?
        .map_err(|e| refused(&e))?;
    let claims = match upstream_oidc::verify_logout_token(&svc, &upstream, &token).await {
        Ok(c) => c,
        Err(e) => {
            let (audited, why) = (upstream.clone(), e.to_string());
            blocking(&svc, move |s| chain_logout::refused(s, &audited, &why))
                .await?
                .map_err(infra_json)?;
            return Err(refused(&e));
        }
    };
    let aftermath = blocking(&svc, move |s| {
        chain_logout::end_from_upstream(s, &upstream, &claims)
    })
    .await?
    .map_err(infra_json)?
    .map_err(|e| refused(&e))?;
    logout::carry_out(svc.into_inner(), aftermath).await;
    Ok(json_no_store(serde_json::json!({})))
}

pub async fn session_ended(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = parse_form(&req, &body)?;
    let presented = presented_credentials(&req, &form)?;
    let sid = form
        .get("sid")
        .ok_or_else(|| WebError::oauth("invalid_request", "sid is required"))?
        .to_owned();
    let aftermath = blocking(&svc, move |s| {
        let client = client_auth::authenticate(s, presented).map_err(client_error)?;
        if client.is_public() {
            return Err(WebError::oauth(
                "unauthorized_client",
                "a public client cannot speak for a session",
            ));
        }
        chain_logout::end_for_client(s, &client, &sid)
            .map_err(infra_json)?
            .map_err(|e| refused(&e))
    })
    .await??;
    logout::carry_out(svc.into_inner(), aftermath).await;
    Ok(json_no_store(serde_json::json!({})))
}
