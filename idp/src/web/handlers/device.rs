//! RFC 8628: the device authorization endpoint (for kiosks and TVs) and the verification page
//! (for the citizen, in a browser).
use super::token::{json_no_store, parse_form, presented_credentials, token_error};
use super::{blocking, html};
use crate::domain::device as codes;
use crate::domain::params::Params;
use crate::flows::device::{Guesser, Typed};
use crate::flows::token::TokenError;
use crate::flows::{client_auth, device, sessions, Infra};
use crate::services::Services;
use crate::store::device_codes::Approval;
use crate::web::browser::Browser;
use crate::web::device_page::{self, Problem};
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn authorization(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = parse_form(&req, &body)?;
    let presented = presented_credentials(&req, &form)?;
    let result = blocking(&svc, move |s| {
        let client = client_auth::authenticate(s, presented).map_err(TokenError::from)?;
        device::start(s, &client, &form)
    })
    .await?;
    match result {
        Ok(answer) => Ok(json_no_store(answer)),
        Err(e) => token_error(e),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct DeviceQuery {
    pub user_code: Option<String>,
}

fn to_login(path: &str) -> HttpResponse {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    HttpResponse::Found()
        .insert_header((header::LOCATION, format!("/login?next={next}")))
        .finish()
}

fn with_status(mut response: HttpResponse, status: StatusCode) -> HttpResponse {
    *response.status_mut() = status;
    response
}

/// What the page found for a typed code.
enum Lookup {
    NotLoggedIn,
    Throttled,
    Unknown,
    Found {
        code: String,
        client: String,
        scope: String,
    },
}

pub async fn page(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let typed = query
        .into_inner()
        .user_code
        .map(|c| c.chars().take(32).collect::<String>());
    let path = match &typed {
        Some(c) => format!(
            "/device?user_code={}",
            url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
        ),
        None => "/device".to_owned(),
    };
    let (session, ip, lookup_code) = (browser.session.clone(), browser.ip.clone(), typed.clone());
    let lookup = blocking(&svc, move |s| -> Result<Lookup, Infra> {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(Lookup::NotLoggedIn);
        };
        let Some(code) = lookup_code else {
            return Ok(Lookup::Unknown);
        };
        let who = Guesser {
            client_ip: &ip,
            sub: Some(&session.sub),
        };
        Ok(
            match device::guarded(s, who, |s| device::pending(s, &code))? {
                Typed::Found((row, client)) => Lookup::Found {
                    code: codes::display(&row.user_code),
                    client: client.name,
                    scope: row.scope,
                },
                Typed::Unknown => Lookup::Unknown,
                Typed::Throttled => Lookup::Throttled,
            },
        )
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    let (frame, cookie) = browser.frame(&svc, None, &path);
    let typed = typed.unwrap_or_default();
    Ok(match lookup {
        Lookup::NotLoggedIn => to_login(&path),
        Lookup::Unknown if typed.is_empty() => {
            html(cookie, device_page::enter_code(&frame, "", None))
        }
        Lookup::Unknown => with_status(
            html(
                cookie,
                device_page::enter_code(&frame, &typed, Some(Problem::UnknownCode)),
            ),
            StatusCode::BAD_REQUEST,
        ),
        Lookup::Throttled => with_status(
            html(
                cookie,
                device_page::enter_code(&frame, &typed, Some(Problem::Throttled)),
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Lookup::Found {
            code,
            client,
            scope,
        } => {
            let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
            html(
                cookie,
                device_page::confirm(&frame, &code, &client, &scopes, &svc.licence_types),
            )
        }
    })
}

pub async fn decide(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let (Some(code), Some(decision)) = (form.get("user_code"), form.get("decision")) else {
        return Err(super::bad_form(&svc, &browser, "user_code / decision"));
    };
    let allow = match decision {
        "allow" => true,
        "deny" => false,
        _ => return Err(super::bad_form(&svc, &browser, "decision")),
    };
    let (session, code, ip) = (browser.session.clone(), code.to_owned(), browser.ip.clone());
    let typed = code.clone();
    let outcome = blocking(&svc, move |s| -> Result<Option<Typed<()>>, Infra> {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(None);
        };
        let approver = Approval {
            sub: &session.sub,
            sid: &session.sid,
            acr: &session.acr,
            amr: &session.amr,
            auth_time: session.auth_time,
        };
        let who = Guesser {
            client_ip: &ip,
            sub: Some(&session.sub),
        };
        device::guarded(s, who, |s| {
            Ok(device::decide(s, &code, &approver, allow)?.then_some(()))
        })
        .map(Some)
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    let (frame, cookie) = browser.frame(&svc, None, "/device");
    Ok(match outcome {
        None => to_login("/device"),
        Some(Typed::Found(())) => html(cookie, device_page::done(&frame, allow)),
        Some(Typed::Unknown) => with_status(
            html(
                cookie,
                device_page::enter_code(&frame, &typed, Some(Problem::UnknownCode)),
            ),
            StatusCode::BAD_REQUEST,
        ),
        Some(Typed::Throttled) => with_status(
            html(
                cookie,
                device_page::enter_code(&frame, &typed, Some(Problem::Throttled)),
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
    })
}

/// `GET /device/qr?user_code=`: the code's verification link as a QR code (SVG).
/// No login: it answers whether a code is live, so misses count like typed codes.
pub async fn qr_image(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, WebError> {
    let typed = query.into_inner().user_code.unwrap_or_default();
    let ip = Browser::of(&req, &svc).ip;
    let svg = blocking(&svc, move |s| {
        let who = Guesser {
            client_ip: &ip,
            sub: None,
        };
        device::guarded(s, who, |s| device::qr_image(s, &typed))
    })
    .await?
    .map_err(super::infra_json)?;
    Ok(match svg {
        Typed::Found(svg) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(svg),
        Typed::Unknown => HttpResponse::NotFound().finish(),
        Typed::Throttled => HttpResponse::TooManyRequests().finish(),
    })
}
