//! RP-initiated logout: confirm unless the app proved who is logging out, end the session,
//! notify the apps over the back channel, then return to the app or show a page.
use super::{blocking, html};
use crate::domain::params::Params;
use crate::flows::logout::{self, LogoutError};
use crate::services::Services;
use crate::web::browser::{ended_session_cookies, Browser};
use crate::web::i18n::Lang;
use crate::web::pages;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

const CARRIED: [&str; 5] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
];

pub async fn get(req: HttpRequest, svc: web::Data<Services>) -> Result<HttpResponse, WebError> {
    let params = Params::parse_urlencoded(req.query_string().as_bytes());
    handle(req, svc, params, false).await
}

pub async fn post(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let params = Params::parse_urlencoded(&body);
    let confirmed = params.get("confirm") == Some("yes");
    let browser = Browser::of(&req, &svc);
    if confirmed && !browser.csrf_ok(&svc, params.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    handle(req, svc, params, confirmed).await
}

async fn handle(
    req: HttpRequest,
    svc: web::Data<Services>,
    params: Params,
    confirmed: bool,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let ui_locales = params.get("ui_locales").map(str::to_owned);
    let lang = browser.lang(ui_locales.as_deref());
    let session = browser.session.clone();
    let carried: Vec<(String, String)> = CARRIED
        .iter()
        .filter_map(|k| params.get(k).map(|v| ((*k).to_owned(), v.to_owned())))
        .collect();
    let checked = blocking(&svc, move |s| {
        logout::validate(s, &params, session.as_deref())
    })
    .await?
    .map_err(|e| WebError::infra(e, false, lang))?;
    let request = match checked {
        Ok(r) => r,
        Err(e) => {
            let (frame, _) = browser.frame(&svc, ui_locales.as_deref(), "/");
            let message = match (lang, &e) {
                (Lang::Zh, LogoutError::UnregisteredRedirect) => {
                    "应用提供的退出后跳转地址未经登记。".to_owned()
                }
                (Lang::Zh, _) => format!("退出请求无效：{e}"),
                (Lang::En, _) => format!("The logout request is not valid: {e}."),
            };
            return Err(WebError::Page {
                status: StatusCode::BAD_REQUEST,
                title: frame.t().error_title.into(),
                message,
                frame: Box::new(frame),
            });
        }
    };
    let has_session = browser.session.is_some();
    if has_session && !confirmed && !request.hint_matches_session {
        let (frame, cookie) = browser.frame(&svc, ui_locales.as_deref(), "/logout");
        let hidden: Vec<(&str, &str)> = carried
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        return Ok(super::html_for_app(
            cookie,
            pages::logout_confirm(&frame, &hidden),
            request.redirect.as_deref(),
        ));
    }
    let session = browser.session.clone();
    let aftermath = blocking(&svc, move |s| logout::end_session(s, session.as_deref()))
        .await?
        .map_err(|e| WebError::infra(e, false, lang))?;
    logout::carry_out(svc.clone().into_inner(), aftermath).await;
    let expired = ended_session_cookies(&svc);
    match request.redirect {
        Some(url) => {
            let mut response = HttpResponse::Found();
            for cookie in expired {
                response.cookie(cookie);
            }
            Ok(response.insert_header((header::LOCATION, url)).finish())
        }
        None => {
            let (frame, cookie) = browser.frame(&svc, ui_locales.as_deref(), "/");
            let t = frame.t();
            let mut resp = html(cookie, pages::message(&frame, t.logout_title, t.logged_out));
            for cookie in &expired {
                resp.add_cookie(cookie)
                    .map_err(|_| WebError::Internal { json: false, lang })?;
            }
            Ok(resp)
        }
    }
}
