//! The government app's own API (DPoP-bound token): its citizen's bound devices, and answering
//! a kiosk's device code from the phone.
use super::app_auth;
use super::blocking;
use super::qr::error;
use crate::flows::{device, devices};
use crate::services::Services;
use crate::store::device_codes::Approval;
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
                "send {\"user_code\", \"decision\": \"approve\" | \"deny\"}",
            ))
        }
    };
    let allow = answer.decision == "approve";
    let decided = blocking(&svc, move |s| {
        let approver = Approval {
            sub: &caller.sub,
            sid: &caller.sid,
            acr: &caller.acr,
            amr: &caller.amr,
            auth_time: caller.auth_time,
        };
        device::decide(s, &answer.user_code, &approver, allow)
    })
    .await?
    .map_err(super::infra_json)?;
    Ok(if decided {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "status": if allow { "approved" } else { "denied" } }))
    } else {
        error(
            StatusCode::NOT_FOUND,
            "unknown_code",
            "no such pending code (wrong, expired or already answered)",
        )
    })
}
