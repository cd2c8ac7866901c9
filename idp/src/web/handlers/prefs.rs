//! Display preferences (language, elder mode) and the two static assets.
use crate::services::Services;
use crate::web::browser::{ELDER_COOKIE, LANG_COOKIE};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpResponse};

#[derive(Debug, serde::Deserialize)]
pub struct PrefsQuery {
    pub elder: Option<String>,
    pub lang: Option<String>,
    pub return_to: Option<String>,
}

/// Only local paths: `//host` or `/\host` would leave the site (open redirect).
pub fn safe_return_path(p: Option<&str>) -> &str {
    match p {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && p.len() <= 512
                // Browsers drop tabs and newlines and read `\` as `/`: `/\t/evil` becomes `//evil`.
                && !p.chars().any(|c| c.is_control() || c == '\\') =>
        {
            p
        }
        _ => "/",
    }
}

fn pref_cookie(svc: &Services, name: &'static str, value: &str) -> Cookie<'static> {
    Cookie::build(name, value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(svc.config.issuer_is_https())
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish()
}

pub async fn set(svc: web::Data<Services>, query: web::Query<PrefsQuery>) -> HttpResponse {
    let q = query.into_inner();
    let mut resp = HttpResponse::Found();
    if let Some(e) = q.elder.as_deref() {
        resp.cookie(pref_cookie(
            &svc,
            ELDER_COOKIE,
            if e == "1" { "1" } else { "0" },
        ));
    }
    if let Some(l) = q.lang.as_deref() {
        resp.cookie(pref_cookie(
            &svc,
            LANG_COOKIE,
            if l.starts_with("en") { "en" } else { "zh-CN" },
        ));
    }
    resp.insert_header((header::LOCATION, safe_return_path(q.return_to.as_deref())))
        .finish()
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../assets/app.css"))
}

pub async fn form_post_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../assets/form_post.js"))
}

pub async fn passkey_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../assets/passkey.js"))
}

pub async fn qr_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../assets/qr.js"))
}

pub async fn read_aloud_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../assets/read_aloud.js"))
}
