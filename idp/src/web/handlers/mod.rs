//! One file per endpoint family; `routes` is the map of the provider.
mod account;
mod account_feedback;
mod admin;
mod admin_feedback;
mod app_api;
mod app_auth;
mod authorize;
mod device;
mod discovery;
mod federation;
mod federation_logout;
mod health;
mod licences;
mod login;
mod logout;
mod prefs;
pub(crate) mod qr;
mod register;
mod token;
mod userinfo;
mod vci;
mod webauthn;

use super::browser::{with_cookie, Browser};
use super::i18n::Lang;
use super::pages;
use super::WebError;
use crate::domain::authorize::{ResponseMode, UntrustedRequest};
use crate::flows::authorize::{AuthResponse, Outcome};
use crate::flows::Infra;
use crate::services::Services;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(account::page))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(discovery::configuration),
        )
        .route("/jwks", web::get().to(discovery::jwks))
        .route(
            "/.well-known/jwt-vc-issuer",
            web::get().to(licences::jwt_vc_issuer),
        )
        .route("/status-lists/{id}", web::get().to(licences::status_list))
        .route(
            "/.well-known/openid-credential-issuer",
            web::get().to(vci::metadata),
        )
        .route("/credential/nonce", web::post().to(vci::nonce))
        .route("/credential", web::post().to(vci::credential))
        .route("/authorize", web::get().to(authorize::get))
        .route("/authorize", web::post().to(authorize::post))
        .route("/authorize/resume", web::get().to(authorize::resume))
        .route("/login", web::get().to(login::page))
        .route("/login", web::post().to(login::submit))
        .route("/consent", web::get().to(authorize::consent_page))
        .route("/consent", web::post().to(authorize::consent_submit))
        .route("/token", web::post().to(token::token))
        .route("/userinfo", web::get().to(userinfo::get))
        .route("/userinfo", web::post().to(userinfo::post))
        .route("/introspect", web::post().to(token::introspect))
        .route("/revoke", web::post().to(token::revoke))
        .route("/logout", web::get().to(logout::get))
        .route("/logout", web::post().to(logout::post))
        .route("/register", web::post().to(register::create))
        .route("/register/{client_id}", web::get().to(register::read))
        .route(
            "/device_authorization",
            web::post().to(device::authorization),
        )
        .route("/device", web::get().to(device::page))
        .route("/device/qr", web::get().to(device::qr_image))
        .route("/federation/start", web::get().to(federation::start))
        .route("/federation/callback", web::get().to(federation::callback))
        .route("/federation/route", web::post().to(federation::route))
        .route(
            "/federation/backchannel_logout",
            web::post().to(federation_logout::backchannel_logout),
        )
        .route(
            "/federation/session_ended",
            web::post().to(federation_logout::session_ended),
        )
        .route("/device", web::post().to(device::decide))
        .route("/app/devices", web::get().to(app_api::devices))
        .route("/app/device_code", web::post().to(app_api::device_code))
        .route(
            "/app/device_code/describe",
            web::post().to(app_api::describe_device_code),
        )
        .route("/qr/start", web::post().to(qr::start))
        .route("/qr/image", web::get().to(qr::image))
        .route("/qr/status", web::get().to(qr::status))
        .route("/qr/scan", web::post().to(qr::scan))
        .route("/qr/answer", web::post().to(qr::answer))
        .route("/qr/{id}", web::get().to(qr::open_link))
        .route("/static/qr.js", web::get().to(prefs::qr_script))
        .route(
            "/static/read_aloud.js",
            web::get().to(prefs::read_aloud_script),
        )
        .route("/account", web::get().to(account::page))
        .route(
            "/account/passkeys/remove",
            web::post().to(account::remove_passkey),
        )
        .route(
            "/account/devices/remove",
            web::post().to(account::unbind_device),
        )
        .route("/account/apps/revoke", web::post().to(account::revoke_app))
        .route("/account/export", web::post().to(account::export))
        .route(
            "/account/apps/rate",
            web::post().to(account_feedback::rate_app),
        )
        .route(
            "/account/corrections",
            web::post().to(account_feedback::correction),
        )
        .route(
            "/account/licences/show",
            web::post().to(account_feedback::show_licence),
        )
        .route("/account/delete", web::post().to(account::delete))
        .route("/admin", web::get().to(admin::console))
        .route("/admin/apps/status", web::post().to(admin::app_status))
        .route("/admin/apps/{client_id}", web::get().to(admin::app_page))
        .route("/admin/licences", web::post().to(admin::licence_state))
        .route("/admin/keys/rotate", web::post().to(admin::keys_rotate))
        .route("/admin/audit", web::get().to(admin::audit_page))
        .route("/admin/corrections", web::get().to(admin_feedback::queue))
        .route(
            "/admin/corrections/decide",
            web::post().to(admin_feedback::decide),
        )
        .route(
            "/webauthn/register/start",
            web::post().to(webauthn::register_start),
        )
        .route(
            "/webauthn/register/finish",
            web::post().to(webauthn::register_finish),
        )
        .route(
            "/webauthn/login/start",
            web::post().to(webauthn::login_start),
        )
        .route(
            "/webauthn/login/finish",
            web::post().to(webauthn::login_finish),
        )
        .route("/webauthn/credentials", web::get().to(webauthn::list))
        .route("/static/passkey.js", web::get().to(prefs::passkey_script))
        .route("/prefs", web::get().to(prefs::set))
        .route("/static/app.css", web::get().to(prefs::stylesheet))
        .route(
            "/static/form_post.js",
            web::get().to(prefs::form_post_script),
        )
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}

/// Runs blocking flow code (database, Argon2) off the async workers.
pub async fn blocking<T, F>(svc: &web::Data<Services>, f: F) -> Result<T, WebError>
where
    F: FnOnce(&Services) -> T + Send + 'static,
    T: Send + 'static,
{
    let svc = svc.clone();
    web::block(move || f(&svc))
        .await
        .map_err(|_| WebError::Internal {
            json: true,
            lang: Lang::Zh,
        })
}

pub fn infra_json(e: Infra) -> WebError {
    WebError::infra(e, true, Lang::Zh)
}

pub fn html(csrf_cookie: Option<actix_web::cookie::Cookie<'static>>, body: String) -> HttpResponse {
    let mut b = HttpResponse::Ok();
    with_cookie(&mut b, csrf_cookie);
    b.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// A page whose form may end in a redirect to an app (login, consent, logout): browsers apply
/// `form-action` to every redirect after a form submission, so the app's origin is allowed
/// besides our own.
pub fn html_for_app(
    csrf_cookie: Option<actix_web::cookie::Cookie<'static>>,
    body: String,
    app_uri: Option<&str>,
) -> HttpResponse {
    let mut response = html(csrf_cookie, body);
    if let Some(source) = app_uri.and_then(form_target_source) {
        let csp = crate::web::CSP.replace(
            "form-action 'self'",
            &format!("form-action 'self' {source}"),
        );
        if let Ok(value) = header::HeaderValue::from_str(&csp) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// The CSP source for a redirect URI: its origin, or its scheme for a native app's URI.
fn form_target_source(uri: &str) -> Option<String> {
    let u = url::Url::parse(uri).ok()?;
    match u.scheme() {
        "http" | "https" => Some(u.origin().ascii_serialization()),
        scheme
            if scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            Some(format!("{scheme}:"))
        }
        _ => None,
    }
}

fn page_error(svc: &Services, browser: &Browser, status: StatusCode, message: &str) -> WebError {
    let (frame, _) = browser.frame(svc, None, "/");
    WebError::Page {
        status,
        title: frame.t().error_title.to_owned(),
        message: message.to_owned(),
        frame: Box::new(frame),
    }
}

/// A form without a valid CSRF token changes nothing.
pub fn csrf_failure(svc: &Services, browser: &Browser) -> WebError {
    page_error(
        svc,
        browser,
        StatusCode::FORBIDDEN,
        browser.lang(None).t().csrf_failed,
    )
}

pub fn bad_form(svc: &Services, browser: &Browser, field: &str) -> WebError {
    let msg = match browser.lang(None) {
        Lang::Zh => format!("表单字段 {field} 无效。"),
        Lang::En => format!("The form field {field} is not valid."),
    };
    page_error(svc, browser, StatusCode::BAD_REQUEST, &msg)
}

fn untrusted_message(t: &crate::web::i18n::Texts, why: &UntrustedRequest) -> &'static str {
    match why {
        UntrustedRequest::UnknownClient => t.untrusted_unknown_client,
        UntrustedRequest::RedirectUriMismatch => t.untrusted_redirect,
        UntrustedRequest::ClientNotApproved(_) => t.untrusted_not_approved,
        UntrustedRequest::MissingClientId
        | UntrustedRequest::MissingRedirectUri
        | UntrustedRequest::DuplicateParameter => t.untrusted_missing,
    }
}

/// Turns the outcome of an authorization step into the browser's next move.
pub fn render_outcome(
    svc: &Services,
    browser: &Browser,
    ui_locales: Option<&str>,
    outcome: Result<Outcome, Infra>,
) -> Result<HttpResponse, WebError> {
    let lang = browser.lang(ui_locales);
    let outcome = outcome.map_err(|e| WebError::infra(e, false, lang))?;
    let see_other = |location: String| {
        HttpResponse::Found()
            .insert_header((header::LOCATION, location))
            .finish()
    };
    match outcome {
        Outcome::Respond(resp) => Ok(respond(svc, browser, ui_locales, resp)),
        Outcome::Login { request_id, .. } => Ok(see_other(format!("/login?req={request_id}"))),
        Outcome::Consent { request_id, .. } => Ok(see_other(format!("/consent?req={request_id}"))),
        Outcome::FromUpstream {
            request_id,
            upstream,
        } => Ok(see_other(format!(
            "/federation/start?upstream={upstream}&req={request_id}"
        ))),
        Outcome::ErrorPage(why) => {
            tracing::info!(reason = %why, "authorization request refused without redirect");
            Err(page_error(
                svc,
                browser,
                StatusCode::BAD_REQUEST,
                untrusted_message(lang.t(), &why),
            ))
        }
        Outcome::RequestExpired => Err(page_error(
            svc,
            browser,
            StatusCode::BAD_REQUEST,
            lang.t().request_expired,
        )),
    }
}

fn respond(
    svc: &Services,
    browser: &Browser,
    ui_locales: Option<&str>,
    resp: AuthResponse,
) -> HttpResponse {
    match resp.target.response_mode {
        ResponseMode::Query => {
            let mut url = resp.target.redirect_uri.clone();
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(resp.params.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&query);
            HttpResponse::Found()
                .insert_header((header::LOCATION, url))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        ResponseMode::FormPost => {
            let (frame, _) = browser.frame(svc, ui_locales, "/");
            let target = form_action_source(&resp.target.redirect_uri);
            let csp = format!("default-src 'none'; style-src 'self'; script-src 'self'; form-action {target}; frame-ancestors 'none'; base-uri 'none'");
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::CONTENT_SECURITY_POLICY, csp))
                .body(pages::form_post(
                    &frame,
                    &resp.target.redirect_uri,
                    &resp.params,
                ))
        }
    }
}

/// The CSP source that allows posting to exactly this redirect URI's origin.
fn form_action_source(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        _ => "'none'".to_owned(),
    }
}
