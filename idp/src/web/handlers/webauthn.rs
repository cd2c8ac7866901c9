//! The passkey JSON API, for the login page's script and for the government app. Bodies use the
//! WebAuthn JSON encodings (base64url); errors are `{"error", "error_description"}` with a
//! stable code. Only `application/json` from our own origin is accepted: a cross-site form
//! cannot send it, and a cross-site script needs a CORS preflight we never grant.
use super::blocking;
use crate::domain::passkey::PasskeyError;
use crate::flows::passkeys::{self, PasskeyResult, Started};
use crate::flows::sessions;
use crate::services::Services;
use crate::web::browser::{json_from_our_pages, Browser, JsonRefusal};
use crate::web::{passkey_text, WebError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

#[derive(Deserialize)]
struct RegisterStart {
    name: String,
}

#[derive(Deserialize)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

#[derive(Deserialize)]
struct LoginStart {
    #[serde(default)]
    req: Option<String>,
    /// `"conditional"` for passkey autofill; anything else is a modal prompt.
    #[serde(default)]
    mediation: Option<String>,
}

#[derive(Deserialize)]
struct LoginFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

fn refused(browser: &Browser, e: PasskeyError) -> HttpResponse {
    let status = match e {
        PasskeyError::Unavailable => StatusCode::NOT_FOUND,
        PasskeyError::LoginRequired => StatusCode::UNAUTHORIZED,
        PasskeyError::ReauthenticationRequired => StatusCode::FORBIDDEN,
        PasskeyError::CredentialSuspended | PasskeyError::OriginMismatch => StatusCode::FORBIDDEN,
        PasskeyError::AlreadyRegistered => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "error": e.code(),
            "error_description": passkey_text::message(browser.lang(None), e),
        }))
}

/// Checks the request's shape (JSON from our pages) and parses the body.
fn parse<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    svc: &Services,
    body: &[u8],
) -> Result<T, PasskeyError> {
    json_from_our_pages(req, svc, &svc.config.webauthn_origins).map_err(|e| match e {
        JsonRefusal::NotJson => PasskeyError::InvalidRequest,
        JsonRefusal::OtherOrigin => PasskeyError::OriginMismatch,
    })?;
    serde_json::from_slice(body).map_err(|_| PasskeyError::InvalidRequest)
}

fn started(result: Result<Started, PasskeyError>, browser: &Browser) -> HttpResponse {
    match result {
        Ok(s) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(s.options),
        Err(e) => refused(browser, e),
    }
}

async fn run<T: Send + 'static>(
    svc: &web::Data<Services>,
    browser: &Browser,
    f: impl FnOnce(&Services) -> PasskeyResult<T> + Send + 'static,
) -> Result<Result<T, PasskeyError>, WebError> {
    blocking(svc, f)
        .await?
        .map_err(|e| WebError::infra(e, true, browser.lang(None)))
}

pub async fn register_start(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let input: RegisterStart = match parse(&req, &svc, &body) {
        Ok(v) => v,
        Err(e) => return Ok(refused(&browser, e)),
    };
    let session = browser.session.clone();
    let result = run(&svc, &browser, move |s| {
        passkeys::register_start(s, session.as_deref(), &input.name)
    })
    .await?;
    Ok(started(result, &browser))
}

pub async fn register_finish(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let input: RegisterFinish = match parse(&req, &svc, &body) {
        Ok(v) => v,
        Err(e) => return Ok(refused(&browser, e)),
    };
    let session = browser.session.clone();
    let result = run(&svc, &browser, move |s| {
        passkeys::register_finish(s, session.as_deref(), &input.ceremony, &input.credential)
    })
    .await?;
    Ok(match result {
        Ok(info) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(info),
        Err(e) => refused(&browser, e),
    })
}

pub async fn login_start(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let input: LoginStart = match parse(&req, &svc, &body) {
        Ok(v) => v,
        Err(e) => return Ok(refused(&browser, e)),
    };
    let conditional = input.mediation.as_deref() == Some("conditional");
    let result = run(&svc, &browser, move |s| {
        passkeys::login_start(
            s,
            input.req.as_deref().filter(|r| !r.is_empty()),
            conditional,
        )
    })
    .await?;
    Ok(started(result, &browser))
}

pub async fn login_finish(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let input: LoginFinish = match parse(&req, &svc, &body) {
        Ok(v) => v,
        Err(e) => return Ok(refused(&browser, e)),
    };
    let ip = browser.ip.clone();
    let result = run(&svc, &browser, move |s| {
        passkeys::login_finish(s, &input.ceremony, &input.credential, &ip)
    })
    .await?;
    Ok(match result {
        Ok(login) => {
            let mut response = HttpResponse::Ok();
            for cookie in crate::web::browser::session_cookies(&svc, login.session_cookie) {
                response.cookie(cookie);
            }
            response
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({ "redirect_to": login.redirect_to }))
        }
        Err(e) => refused(&browser, e),
    })
}

/// The logged-in citizen's passkeys.
pub async fn list(req: HttpRequest, svc: web::Data<Services>) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let session = browser.session.clone();
    let result = run(&svc, &browser, move |s| {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(Err(PasskeyError::LoginRequired));
        };
        Ok(Ok(passkeys::list(s, &session.sub)?))
    })
    .await?;
    Ok(match result {
        Ok(list) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "passkeys": list })),
        Err(e) => refused(&browser, e),
    })
}
