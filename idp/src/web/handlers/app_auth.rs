//! Who calls the government app's API: a DPoP-bound access token presented with the DPoP
//! scheme and a fresh proof for the very request (RFC 9449 7).
use super::blocking;
use super::qr::error;
use super::userinfo::header_token;
use crate::flows::token_check::{self, BearerError, Presentation};
use crate::services::Services;
use crate::web::WebError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The citizen and how they logged in to the app.
#[derive(Debug, Clone)]
pub struct AppCaller {
    pub sub: String,
    pub sid: String,
    pub acr: String,
    pub amr: String,
    pub auth_time: i64,
}

/// The caller, or the error response to send.
pub async fn caller(
    req: &HttpRequest,
    svc: &web::Data<Services>,
    path: &'static str,
) -> Result<Result<AppCaller, HttpResponse>, WebError> {
    let Some(presented) = header_token(req)? else {
        return Ok(Err(error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the app must send its token",
        )));
    };
    let proof = super::token::dpop_header(req)?;
    let method = req.method().as_str().to_owned();
    let result = blocking(svc, move |s| {
        let how = Presentation {
            dpop_scheme: presented.dpop_scheme,
            proof: proof.as_deref(),
            method: &method,
            path,
        };
        token_check::app_caller(s, &presented.token, &how)
    })
    .await?;
    Ok(match result {
        Ok(claims) => {
            let text = |k: &str| {
                claims
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            let amr = claims
                .get("amr")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            Ok(AppCaller {
                sub: text("sub"),
                sid: text("sid"),
                acr: text("acr"),
                amr,
                auth_time: claims
                    .get("auth_time")
                    .and_then(|v| v.as_i64())
                    .unwrap_or(0),
            })
        }
        Err(BearerError::Infra(e)) => return Err(super::infra_json(e)),
        Err(BearerError::InvalidDpopProof(d)) => {
            Err(error(StatusCode::UNAUTHORIZED, "invalid_dpop_proof", d))
        }
        Err(BearerError::InvalidToken(d)) => {
            Err(error(StatusCode::UNAUTHORIZED, "invalid_token", d))
        }
        Err(BearerError::InsufficientScope(_)) => Err(error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the token lacks a scope",
        )),
    })
}
