//! QR-code login over HTTP: the login page's script (start, image, status by long polling) and
//! the government app (scan, answer; DPoP-bound token). Errors are `{"error", "error_description"}`.
use super::app_auth;
use super::blocking;
use crate::domain::qr as domain_qr;
use crate::flows::qr::{self, BrowserView, QrError};
use crate::services::Services;
use crate::store::qr_logins::QrAnswer;
use crate::web::browser::{cookie_names, make_cookie, Browser};
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub(super) fn error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": code, "error_description": description }))
}

fn refusal(e: QrError) -> (StatusCode, serde_json::Value) {
    let (status, text) = match e {
        QrError::UnknownCode => (
            StatusCode::NOT_FOUND,
            "no such login code (or it is finished)",
        ),
        QrError::NotYourCode => (
            StatusCode::FORBIDDEN,
            "this code was shown in another browser",
        ),
        QrError::WrongState => (
            StatusCode::CONFLICT,
            "the code cannot take this answer now (expired or already answered)",
        ),
        QrError::RequestExpired => (
            StatusCode::BAD_REQUEST,
            "the authorization request has expired",
        ),
    };
    (
        status,
        json!({ "error": e.code(), "error_description": text }),
    )
}

fn refused(e: QrError) -> HttpResponse {
    let (status, body) = refusal(e);
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

#[derive(Deserialize)]
struct StartBody {
    #[serde(default)]
    req: Option<String>,
}

pub async fn start(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    if crate::web::browser::json_from_our_pages(&req, &svc, &[]).is_err() {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send JSON from this site",
        ));
    }
    let Ok(input) = serde_json::from_slice::<StartBody>(&body) else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not valid",
        ));
    };
    let browser = Browser::of(&req, &svc);
    // One binding value per browser, kept across codes, so several tabs can each show one.
    let binding = req
        .cookie(cookie_names(&svc).qr_binding)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 32);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    let ip = browser.ip.clone();
    let kept = binding.clone();
    let started = blocking(&svc, move |s| {
        qr::start(
            s,
            input.req.as_deref().filter(|r| !r.is_empty()),
            kept.as_deref(),
            &ip,
            &user_agent,
        )
    })
    .await?
    .map_err(|e| WebError::infra(e, true, browser.lang(None)))?;
    let started = match started {
        Ok(s) => s,
        Err(e) => return Ok(refused(e)),
    };
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if binding.is_none() {
        response.cookie(make_cookie(
            &svc,
            cookie_names(&svc).qr_binding,
            started.binding.clone(),
            None,
        ));
    }
    Ok(response.json(json!({
        "id": started.id,
        "payload": started.payload,
        "image": format!("/qr/image?id={}", started.id),
        "expires_in": started.expires_in,
    })))
}

#[derive(Deserialize)]
pub struct IdQuery {
    /// Missing is answered like an unknown code (a JSON 404), not a framework error.
    #[serde(default)]
    id: String,
    #[serde(default)]
    since: Option<String>,
}

pub async fn image(
    svc: web::Data<Services>,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, WebError> {
    let id = query.into_inner().id;
    let svg = blocking(&svc, move |s| qr::image(s, &id))
        .await?
        .map_err(|e| WebError::infra(e, true, crate::web::i18n::Lang::Zh))?;
    Ok(match svg {
        Some(svg) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(svg),
        None => HttpResponse::NotFound().finish(),
    })
}

/// The answer to a status request: HTTP status, JSON body and, once the phone approved, the
/// session cookie the waiting browser collects. Shared with the QR events listener.
pub struct StatusAnswer {
    pub status: StatusCode,
    pub body: serde_json::Value,
    /// Once the phone approved: the new session's cookies.
    pub cookies: Vec<actix_web::cookie::Cookie<'static>>,
}

pub fn status_answer(svc: &Services, answer: Result<BrowserView, QrError>) -> StatusAnswer {
    match answer {
        Err(e) => {
            let (status, body) = refusal(e);
            StatusAnswer {
                status,
                body,
                cookies: Vec::new(),
            }
        }
        Ok(BrowserView::Status(s)) => StatusAnswer {
            status: StatusCode::OK,
            body: json!({ "status": s.as_str() }),
            cookies: Vec::new(),
        },
        Ok(BrowserView::Collected {
            session_cookie,
            redirect_to,
        }) => StatusAnswer {
            status: StatusCode::OK,
            body: json!({ "status": "approved", "redirect_to": redirect_to }),
            cookies: crate::web::browser::session_cookies(svc, session_cookie),
        },
    }
}

/// Long polling: answers as soon as the status differs from `since`, or after 25 s.
pub async fn status(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<IdQuery>,
) -> Result<HttpResponse, WebError> {
    let IdQuery { id, since } = query.into_inner();
    let binding = req
        .cookie(cookie_names(&svc).qr_binding)
        .map(|c| c.value().to_owned());
    let answer = crate::flows::qr_wait::wait(svc.clone().into_inner(), id, since, binding)
        .await
        .map_err(|e| WebError::infra(e, true, crate::web::i18n::Lang::Zh))?;
    let answer = status_answer(&svc, answer);
    let mut response = HttpResponse::build(answer.status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    for cookie in answer.cookies {
        response.cookie(cookie);
    }
    Ok(response.json(answer.body))
}

/// `GET /qr/{id}`: what someone who opens the code's link in a plain browser sees.
pub async fn open_link(
    req: HttpRequest,
    svc: web::Data<Services>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let (frame, cookie) = browser.frame(&svc, None, "/");
    let text = match frame.lang {
        crate::web::i18n::Lang::Zh => "请用国家政务服务App扫描电脑上的二维码，或在App中打开此链接，确认登录。",
        crate::web::i18n::Lang::En => "Scan the code on the computer with the government app, or open this link in the app, to confirm the login.",
    };
    Ok(super::html(
        cookie,
        crate::web::pages::message(&frame, frame.t().login_title, text),
    ))
}

#[derive(Deserialize)]
struct AppBody {
    payload: String,
    #[serde(default)]
    decision: Option<String>,
}

pub async fn scan(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let (sub, _) = match app_auth::caller(&req, &svc, "/qr/scan").await? {
        Ok(c) => (c.sub, c.acr),
        Err(response) => return Ok(response),
    };
    let Ok(input) = serde_json::from_slice::<AppBody>(&body) else {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send {\"payload\"}",
        ));
    };
    let described = blocking(&svc, move |s| qr::scan(s, &input.payload, &sub))
        .await?
        .map_err(super::infra_json)?;
    Ok(match described {
        Ok(d) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(d),
        Err(e) => refused(e),
    })
}

pub async fn answer(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let caller = match app_auth::caller(&req, &svc, "/qr/answer").await? {
        Ok(c) => c,
        Err(response) => return Ok(response),
    };
    let input = match serde_json::from_slice::<AppBody>(&body) {
        Ok(i) if matches!(i.decision.as_deref(), Some("approve" | "deny")) => i,
        _ => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send {\"payload\", \"decision\": \"approve\" | \"deny\"}",
            ))
        }
    };
    let approve = input.decision.as_deref() == Some("approve");
    let payload = input.payload.clone();
    let result = blocking(&svc, move |s| {
        // The phone proved its device key on top of the app's own login: two channels. The
        // browser gets the app's level only while the app's own login is recent.
        let answer = QrAnswer {
            sub: &caller.sub,
            acr: domain_qr::session_acr(&caller.acr, caller.auth_time, s.now()),
            amr: domain_qr::AMR,
        };
        qr::answer(s, &payload, &answer, approve)
    })
    .await?
    .map_err(super::infra_json)?;
    Ok(match result {
        Ok(status) => {
            svc.qr_hub
                .wake_id(qr::id_from_payload(&svc, &input.payload));
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({ "status": status.as_str() }))
        }
        Err(e) => refused(e),
    })
}
