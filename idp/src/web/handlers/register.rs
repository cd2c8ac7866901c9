//! Dynamic Client Registration (RFC 7591) and its read endpoint (RFC 7592).
use super::{blocking, infra_json};
use crate::flows::registration::{self, RegistrationError};
use crate::services::Services;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

pub async fn create(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Err(WebError::oauth(
            "invalid_client_metadata",
            "the body must be a JSON object",
        ));
    };
    let token = bearer(&req);
    match blocking(&svc, move |s| {
        registration::register(s, &json, token.as_deref())
    })
    .await?
    {
        Ok(out) => Ok(HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(out)),
        Err(RegistrationError::Invalid { error, description }) => {
            Err(WebError::oauth(error, description))
        }
        Err(RegistrationError::BadInitialToken) => Err(WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: Some("the initial access token is not valid".into()),
            scope: None,
        }),
        Err(RegistrationError::Infra(e)) => Err(infra_json(e)),
    }
}

pub async fn read(
    req: HttpRequest,
    svc: web::Data<Services>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let unauthorized = || WebError::Bearer {
        status: StatusCode::UNAUTHORIZED,
        error: Some("invalid_token"),
        description: Some("the registration access token is not valid".into()),
        scope: None,
    };
    let token = bearer(&req).ok_or_else(unauthorized)?;
    let client_id = path.into_inner();
    match blocking(&svc, move |s| registration::read(s, &client_id, &token)).await? {
        Ok(Some(out)) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(out)),
        Ok(None) => Err(unauthorized()),
        Err(e) => Err(infra_json(e)),
    }
}
