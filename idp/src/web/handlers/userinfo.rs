//! The UserInfo endpoint (OIDC Core 5.3) with Bearer tokens (RFC 6750: header, or form body).
use super::{blocking, infra_json};
use crate::domain::params::Params;
use crate::flows::token_check::{self, BearerError};
use crate::services::Services;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

fn header_token(req: &HttpRequest) -> Result<Option<String>, WebError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| invalid_request("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(invalid_request("use the Bearer scheme")),
    }
}

fn invalid_request(description: &str) -> WebError {
    WebError::Bearer {
        status: StatusCode::BAD_REQUEST,
        error: Some("invalid_request"),
        description: Some(description.into()),
        scope: None,
    }
}

pub async fn get(req: HttpRequest, svc: web::Data<Services>) -> Result<HttpResponse, WebError> {
    let token = header_token(&req)?;
    answer(svc, token).await
}

pub async fn post(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let in_header = header_token(&req)?;
    let form = Params::parse_urlencoded(&body);
    let in_body = form.get("access_token").map(str::to_owned);
    if in_header.is_some() && in_body.is_some() {
        return Err(invalid_request("send the token in one place only"));
    }
    answer(svc, in_header.or(in_body)).await
}

async fn answer(svc: web::Data<Services>, token: Option<String>) -> Result<HttpResponse, WebError> {
    // RFC 6750 3.1: a request without a token gets a bare challenge, no error code.
    let Some(token) = token else {
        return Err(WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: None,
            scope: None,
        });
    };
    match blocking(&svc, move |s| token_check::userinfo(s, &token)).await? {
        Ok(claims) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims)),
        Err(BearerError::InvalidToken(d)) => Err(WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: Some(d.into()),
            scope: None,
        }),
        Err(BearerError::InsufficientScope(scope)) => Err(WebError::Bearer {
            status: StatusCode::FORBIDDEN,
            error: Some("insufficient_scope"),
            description: Some("the token lacks a needed scope".into()),
            scope: Some(scope),
        }),
        Err(BearerError::Infra(e)) => Err(infra_json(e)),
    }
}
