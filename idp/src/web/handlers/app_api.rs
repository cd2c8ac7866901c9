//! The government app's own API (DPoP-bound token): its citizen's bound devices, and answering
//! a kiosk's device code from the phone.
use super::app_auth;
use super::blocking;
use super::qr::error;
use crate::flows::device::{Guesser, Typed};
use crate::flows::{device, devices};
use crate::services::Services;
use crate::store::device_codes::Approval;
use crate::web::browser::client_address;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// `GET /app/devices`: the citizen's bound apps (devices).
pub async fn devices(req: HttpRequest, svc: web::Data<Services>) -> Result<HttpResponse, WebError> {
    let caller = match app_auth::caller(&req, &svc, "/app/devices").await? {
        Ok(c) => c,
        Err(response) => return Ok(response),
    };
    let list = blocking(&svc, move |s| devices::list(s, &caller.sub))
        .await?
        .map_err(super::infra_json)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "devices": list })))
}

#[derive(serde::Deserialize)]
struct DeviceCodeAnswer {
    user_code: String,
    decision: String,
    /// The app that asks, as `describe` showed it: an answer names what it agrees to.
    client_id: String,
}

#[derive(serde::Deserialize)]
struct DeviceCodeQuestion {
    user_code: String,
}

fn too_many_attempts() -> HttpResponse {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "too many wrong codes: wait a while before the next",
    )
}

fn unknown_code() -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        "unknown_code",
        "no such pending code (wrong, expired, already answered, or for another app)",
    )
}

/// `POST /app/device_code/describe`: who asks with a kiosk's code, and for what.
pub async fn describe_device_code(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let caller = match app_auth::caller(&req, &svc, "/app/device_code/describe").await? {
        Ok(c) => c,
        Err(response) => return Ok(response),
    };
    let Ok(question) = serde_json::from_slice::<DeviceCodeQuestion>(&body) else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send {\"user_code\"}",
        ));
    };
    let ip = client_address(&req, &svc.config.trusted_proxies);
    let described = blocking(&svc, move |s| {
        let who = Guesser {
            client_ip: &ip,
            sub: Some(&caller.sub),
        };
        device::guarded(s, who, |s| device::describe(s, &question.user_code))
    })
    .await?
    .map_err(super::infra_json)?;
    Ok(match described {
        Typed::Found(d) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(d),
        Typed::Unknown => unknown_code(),
        Typed::Throttled => too_many_attempts(),
    })
}

/// `POST /app/device_code`: approve or deny a kiosk's code from the phone.
pub async fn device_code(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let caller = match app_auth::caller(&req, &svc, "/app/device_code").await? {
        Ok(c) => c,
        Err(response) => return Ok(response),
    };
    let answer = match serde_json::from_slice::<DeviceCodeAnswer>(&body) {
        Ok(a) if matches!(a.decision.as_str(), "approve" | "deny") => a,
        _ => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send {\"user_code\", \"client_id\", \"decision\": \"approve\" | \"deny\"}",
            ))
        }
    };
    let allow = answer.decision == "approve";
    let ip = client_address(&req, &svc.config.trusted_proxies);
    let decided = blocking(&svc, move |s| {
        let approver = Approval {
            sub: &caller.sub,
            sid: &caller.sid,
            acr: &caller.acr,
            amr: &caller.amr,
            auth_time: caller.auth_time,
        };
        let who = Guesser {
            client_ip: &ip,
            sub: Some(&caller.sub),
        };
        device::guarded(s, who, |s| {
            let asks = device::describe(s, &answer.user_code)?;
            if asks.is_none_or(|d| d.client_id != answer.client_id) {
                return Ok(None);
            }
            Ok(device::decide(s, &answer.user_code, &approver, allow)?.then_some(()))
        })
    })
    .await?
    .map_err(super::infra_json)?;
    Ok(match decided {
        Typed::Found(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "status": if allow { "approved" } else { "denied" } })),
        Typed::Unknown => unknown_code(),
        Typed::Throttled => too_many_attempts(),
    })
}
