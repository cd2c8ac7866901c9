//! Refusals the framework makes before a handler runs (a body over the size limit, a query
//! that does not parse) come as bare text. This rewrites them in the endpoint's own format:
//! the OAuth error JSON for protocol and app APIs, a readable page for people.
use super::i18n::Lang;
use super::pages::{self, Frame};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::HttpResponse;

/// Paths that speak JSON (OAuth errors, RFC 6749 5.2) rather than pages.
const JSON_PATHS: &[&str] = &[
    "/token",
    "/introspect",
    "/revoke",
    "/userinfo",
    "/device_authorization",
    "/register",
    "/par",
    "/credential",
    "/app/",
    "/webauthn/",
    "/qr/start",
    "/qr/scan",
    "/qr/answer",
    "/qr/status",
    "/federation/backchannel_logout",
    "/federation/session_ended",
];

fn speaks_json(path: &str) -> bool {
    JSON_PATHS.iter().any(|p| {
        path == *p
            || (p.ends_with('/') && path.starts_with(p))
            || path.starts_with(&format!("{p}/"))
    })
}

pub fn handlers<B: 'static>() -> ErrorHandlers<B> {
    [
        StatusCode::BAD_REQUEST,
        StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::LENGTH_REQUIRED,
        StatusCode::URI_TOO_LONG,
    ]
    .into_iter()
    .fold(ErrorHandlers::new(), |h, status| h.handler(status, rewrite))
}

fn rewrite<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, _) = res.into_parts();
    let lang = Lang::negotiate(
        None,
        None,
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let too_large = status == StatusCode::PAYLOAD_TOO_LARGE;
    let (zh, en) = if too_large {
        ("请求内容过大。", "The request is too large.")
    } else {
        ("请求格式有误。", "The request is malformed.")
    };
    let text = if lang == Lang::Zh { zh } else { en };
    let mut b = HttpResponse::build(status);
    b.insert_header((header::CACHE_CONTROL, "no-store"));
    let response: HttpResponse<BoxBody> = if speaks_json(req.path()) {
        b.json(serde_json::json!({ "error": "invalid_request", "error_description": en }))
    } else {
        let frame = Frame {
            lang,
            elder: false,
            csrf: String::new(),
            path: "/".into(),
        };
        b.content_type("text/html; charset=utf-8")
            .body(pages::message(&frame, lang.t().error_title, text))
    };
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(
        req,
        response.map_into_right_body::<B>(),
    )))
}
