//! The password login page.
use super::{blocking, render_outcome};
use crate::domain::acr::{level, ACR_STRONG};
use crate::domain::params::Params;
use crate::flows::authorize::{self, Outcome};
use crate::flows::login::{self, LoginAttempt, LoginFailure};
use crate::flows::upstreams::{self, LoginChoices};
use crate::services::Services;
use crate::web::browser::{session_cookies, Browser};
use crate::web::i18n::Lang;
use crate::web::pages::{self, LoginPage};
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    pub req: Option<String>,
    pub next: Option<String>,
    /// The roaming upstream was asked already and has no session for this browser.
    pub probed: Option<String>,
}

pub async fn page(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let query = query.into_inner();
    let next = query
        .next
        .as_deref()
        .map(|n| super::prefs::safe_return_path(Some(n)).to_owned())
        .filter(|n| n != "/");
    let request_id = query.req.filter(|r| !r.is_empty());
    let lookup = request_id.clone();
    let parked = match lookup {
        Some(id) => blocking(&svc, move |s| authorize::parked(s, &id))
            .await?
            .map_err(|e| WebError::infra(e, false, browser.lang(None)))?,
        None => None,
    };
    if request_id.is_some() && parked.is_none() {
        return render_outcome(&svc, &browser, None, Ok(Outcome::RequestExpired));
    }
    // Seamless roaming: before any page, ask the federation silently whether the citizen is
    // logged in somewhere (once per request: the answer comes back with `probed`).
    let roaming = svc
        .config
        .roaming_upstream
        .as_deref()
        .filter(|c| crate::domain::upstream::valid_code(c));
    // With a federation hint domain, only a browser that has a session somewhere is worth the
    // trip: a citizen logged in nowhere goes straight to this page and never touches the hub.
    let worth_asking = svc.config.federation_hint_domain.is_none()
        || req.cookie(crate::web::browser::FEDERATION_HINT).is_some();
    let roaming = roaming.filter(|_| worth_asking);
    if let (Some(id), Some(upstream), None) = (&request_id, roaming, &query.probed) {
        return Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/federation/start?upstream={upstream}&req={id}&probe=1"),
            ))
            .finish());
    }
    // A node that routed the citizen here (the hub) named their home region: go on, no page.
    if let (Some(id), Some(hint)) = (
        &request_id,
        parked.as_ref().and_then(|(r, _)| r.login_hint.clone()),
    ) {
        let home = blocking(&svc, move |s| upstreams::hinted_home(s, &hint))
            .await?
            .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
        if let Some(home) = home {
            return Ok(HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/federation/start?upstream={}&req={id}", home.code),
                ))
                .finish());
        }
    }
    let ui_locales = parked.as_ref().and_then(|(r, _)| r.ui_locales.clone());
    let path = match &request_id {
        Some(id) => format!("/login?req={id}"),
        None => "/login".to_owned(),
    };
    let (frame, cookie) = browser.frame(&svc, ui_locales.as_deref(), &path);
    // A login_hint that is an ID number is not echoed into the page's HTML source.
    let hint = parked
        .as_ref()
        .and_then(|(r, _)| r.login_hint.clone())
        .filter(|h| crate::flows::users::valid_phone(h))
        .unwrap_or_default();
    let choices = elsewhere(&req, &svc, &browser).await?;
    let page = LoginPage {
        request_id: request_id.as_deref(),
        next: next.as_deref(),
        client_name: parked.as_ref().map(|(_, c)| c.name.as_str()),
        username: &hint,
        error: None,
        passkeys: svc.webauthn.is_some(),
        step_up: parked
            .as_ref()
            .is_some_and(|(r, _)| r.requested_level() >= level(ACR_STRONG)),
        elsewhere: offered(&choices),
    };
    let app_uri = parked.as_ref().map(|(r, _)| r.target.redirect_uri.as_str());
    Ok(super::html_for_app(
        cookie,
        pages::login(&frame, &page),
        app_uri,
    ))
}

pub async fn submit(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let (Some(username), Some(password)) = (form.get("username"), form.get("password")) else {
        return Err(super::bad_form(&svc, &browser, "username / password"));
    };
    let request_id = form.get("req").map(str::to_owned);
    let (username, password) = (
        username.to_owned(),
        zeroize::Zeroizing::new(password.to_owned()),
    );
    let ip = browser.ip.clone();
    let attempt_user = username.clone();
    let attempt_req = request_id.clone();
    let result = blocking(&svc, move |s| {
        login::with_password(
            s,
            &LoginAttempt {
                username: &attempt_user,
                password: &password,
                client_ip: &ip,
                request_id: attempt_req.as_deref(),
            },
        )
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    match result {
        Ok(logged_in) => {
            let next = match &request_id {
                Some(id) => format!("/authorize/resume?req={id}"),
                None => super::prefs::safe_return_path(form.get("next")).to_owned(),
            };
            let mut response = HttpResponse::SeeOther();
            for cookie in session_cookies(&svc, logged_in.session_cookie) {
                response.cookie(cookie);
            }
            Ok(response.insert_header((header::LOCATION, next)).finish())
        }
        Err(failure) => {
            let lang = browser.lang(None);
            let t = lang.t();
            let (status, message, keep_username) = match failure {
                LoginFailure::BadIdNumber(e) => (
                    StatusCode::BAD_REQUEST,
                    format!("{}{}{}", t.bad_id_number, t.colon, id_error_text(lang, e)),
                    true,
                ),
                LoginFailure::WrongCredentials => (
                    StatusCode::UNAUTHORIZED,
                    t.wrong_credentials.to_owned(),
                    true,
                ),
                LoginFailure::Throttled => {
                    (StatusCode::TOO_MANY_REQUESTS, t.throttled.to_owned(), false)
                }
            };
            let (frame, cookie) = browser.frame(&svc, None, "/login");
            let shown =
                if keep_username && !crate::domain::id_number::IdNumber::looks_like(&username) {
                    username.as_str()
                } else {
                    ""
                };
            let choices = elsewhere(&req, &svc, &browser).await?;
            let page = LoginPage {
                request_id: request_id.as_deref(),
                next: form.get("next"),
                client_name: None,
                username: shown,
                error: Some(message),
                passkeys: svc.webauthn.is_some(),
                step_up: false,
                elsewhere: offered(&choices),
            };
            // The form goes round again and may end at the app: allow its origin.
            let app_uri = match request_id.clone() {
                Some(id) => blocking(&svc, move |s| authorize::parked(s, &id))
                    .await?
                    .ok()
                    .flatten()
                    .map(|(r, _)| r.target.redirect_uri),
                None => None,
            };
            let mut response =
                super::html_for_app(cookie, pages::login(&frame, &page), app_uri.as_deref());
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

pub fn id_error_text(lang: Lang, e: crate::domain::id_number::IdNumberError) -> &'static str {
    use crate::domain::id_number::IdNumberError as E;
    match (lang, e) {
        (Lang::Zh, E::Length) => "应为18位",
        (Lang::Zh, E::Characters) => "前17位应为数字，最后一位为数字或X",
        (Lang::Zh, E::Region) => "地区代码不存在",
        (Lang::Zh, E::BirthDate) => "出生日期无效",
        (Lang::Zh, E::CheckDigit) => "校验位不正确，请核对号码",
        (Lang::En, E::Length) => "it has 18 characters",
        (Lang::En, E::Characters) => "the first 17 are digits, the last a digit or X",
        (Lang::En, E::Region) => "the region code does not exist",
        (Lang::En, E::BirthDate) => "the birth date is not valid",
        (Lang::En, E::CheckDigit) => "the check digit does not match; please check the number",
    }
}

/// Remembers the region a citizen was sent home to, for a one-click login next time.
pub const HOME_COOKIE: &str = "idp_home";

/// What the page offers for accounts of other regions (federation).
async fn elsewhere(
    req: &HttpRequest,
    svc: &web::Data<Services>,
    browser: &Browser,
) -> Result<LoginChoices, WebError> {
    let remembered = req.cookie(HOME_COOKIE).map(|c| c.value().to_owned());
    blocking(svc, move |s| {
        upstreams::login_choices(s, remembered.as_deref())
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))
}

fn offered(choices: &LoginChoices) -> Option<Option<(&str, &str)>> {
    choices.offered.then(|| {
        choices
            .remembered
            .as_ref()
            .map(|u| (u.code.as_str(), u.name.as_str()))
    })
}
