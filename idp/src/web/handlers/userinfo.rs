//! The UserInfo endpoint (OIDC Core 5.3) with Bearer tokens (RFC 6750: header, or form body)
//! and DPoP-bound tokens (RFC 9449 7: `Authorization: DPoP` plus a `DPoP` proof).
use super::token::dpop_header;
use super::{blocking, infra_json};
use crate::domain::params::Params;
use crate::flows::token_check::{self, BearerError, Presentation};
use crate::services::Services;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

/// A token from the Authorization header, and whether its scheme was DPoP.
pub(super) struct Presented {
    pub(super) token: String,
    pub(super) dpop_scheme: bool,
}

pub(super) fn header_token(req: &HttpRequest) -> Result<Option<Presented>, WebError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| invalid_request("malformed Authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if !token.trim().is_empty() => {
            let dpop_scheme = if scheme.eq_ignore_ascii_case("bearer") {
                false
            } else if scheme.eq_ignore_ascii_case("dpop") {
                true
            } else {
                return Err(invalid_request("use the Bearer or DPoP scheme"));
            };
            Ok(Some(Presented {
                token: token.trim().to_owned(),
                dpop_scheme,
            }))
        }
        _ => Err(invalid_request("use the Bearer or DPoP scheme")),
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
    answer(&req, svc, token).await
}

pub async fn post(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let in_header = header_token(&req)?;
    let form = Params::parse_urlencoded(&body);
    let in_body = form.get("access_token").map(|t| Presented {
        token: t.to_owned(),
        dpop_scheme: false,
    });
    if in_header.is_some() && in_body.is_some() {
        return Err(invalid_request("send the token in one place only"));
    }
    answer(&req, svc, in_header.or(in_body)).await
}

async fn answer(
    req: &HttpRequest,
    svc: web::Data<Services>,
    presented: Option<Presented>,
) -> Result<HttpResponse, WebError> {
    // RFC 6750 3.1: a request without a token gets a bare challenge, no error code.
    let Some(presented) = presented else {
        return Err(WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: None,
            description: None,
            scope: None,
        });
    };
    let proof = dpop_header(req)?;
    let method = req.method().as_str().to_owned();
    let dpop_scheme = presented.dpop_scheme;
    let result = blocking(&svc, move |s| {
        let how = Presentation {
            dpop_scheme,
            proof: proof.as_deref(),
            method: &method,
            path: "/userinfo",
        };
        token_check::userinfo(s, &presented.token, &how)
    })
    .await?;
    match result {
        Ok(claims) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(claims)),
        Err(e) => Err(bearer_error(e, dpop_scheme)),
    }
}

/// RFC 6750 3.1 / RFC 9449 7.1 errors for a resource the citizen's access token opens.
pub(super) fn bearer_error(e: BearerError, dpop_scheme: bool) -> WebError {
    match e {
        BearerError::InvalidToken(d) if dpop_scheme => WebError::Dpop {
            error: "invalid_token",
            description: d.into(),
        },
        BearerError::InvalidDpopProof(d) => WebError::Dpop {
            error: "invalid_dpop_proof",
            description: d.into(),
        },
        BearerError::InvalidToken(d) => WebError::Bearer {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: Some(d.into()),
            scope: None,
        },
        BearerError::InsufficientScope(scope) => WebError::Bearer {
            status: StatusCode::FORBIDDEN,
            error: Some("insufficient_scope"),
            description: Some("the token lacks a needed scope".into()),
            scope: Some(scope),
        },
        BearerError::Infra(e) => infra_json(e),
    }
}
