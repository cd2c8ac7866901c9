//! The citizen's account page and its forms.
use super::{blocking, html};
use crate::domain::params::Params;
use crate::domain::passkey;
use crate::flows::{
    authorized_apps, corrections, devices, logout, my_licences, passkeys, privacy, ratings,
    sessions, Infra,
};
use crate::services::Services;
use crate::web::account_page::{self, AccountPage};
use crate::web::browser::Browser;
use crate::web::passkey_text::texts;
use crate::web::WebError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

#[derive(Debug, serde::Deserialize)]
pub struct AccountQuery {
    pub done: Option<String>,
}

struct Account {
    name: String,
    passkeys: Vec<passkeys::PasskeyInfo>,
    devices: Vec<devices::BoundDevice>,
    apps: Vec<authorized_apps::AuthorizedApp>,
    history: Vec<privacy::HistoryEntry>,
    licences: Vec<my_licences::MyLicence>,
    corrections: Vec<corrections::Correction>,
    ratings: Vec<ratings::MyRating>,
}

fn load(svc: &Services, session: Option<&str>) -> Result<Option<Account>, Infra> {
    let Some(session) = sessions::current(svc, session)? else {
        return Ok(None);
    };
    let Some(user) = svc.store.user_by_sub(&session.sub)? else {
        return Ok(None);
    };
    Ok(Some(Account {
        name: user.name,
        passkeys: passkeys::list(svc, &session.sub)?,
        devices: devices::list(svc, &session.sub)?,
        apps: authorized_apps::list(svc, &session.sub)?,
        history: privacy::history(svc, &session.sub)?,
        licences: my_licences::list(svc, &session.sub)?,
        corrections: corrections::of_citizen(svc, &session.sub)?,
        ratings: ratings::of_citizen(svc, &session.sub)?,
    }))
}

fn to_login() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/login"))
        .finish()
}

pub async fn page(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<AccountQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let session = browser.session.clone();
    let Some(account) = blocking(&svc, move |s| load(s, session.as_deref()))
        .await?
        .map_err(|e| WebError::infra(e, false, browser.lang(None)))?
    else {
        return Ok(to_login());
    };
    let (frame, cookie) = browser.frame(&svc, None, "/account");
    let pt = texts(frame.lang);
    let notice = match query.done.as_deref() {
        Some("removed") => Some(pt.removed),
        Some("not_found") => Some(pt.not_found),
        Some("unbound") => Some(pt.unbound),
        Some(other) => account_page::notice(frame.lang, other),
        None => None,
    };
    let page = AccountPage {
        name: &account.name,
        passkeys: &account.passkeys,
        devices: &account.devices,
        apps: &account.apps,
        history: &account.history,
        licences: &account.licences,
        corrections: &account.corrections,
        ratings: &account.ratings,
        licence_types: &svc.licence_types,
        can_bind: svc.webauthn.is_some(),
        notice,
    };
    Ok(html(cookie, account_page::account(&frame, &page)))
}

/// A form of the account page: CSRF, then `act` on the logged-in citizen with the form's
/// fields, which says how it went (a `done` code); back to the account page, at `anchor` when
/// one is given.
pub(super) async fn account_form(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
    anchor: &'static str,
    act: impl FnOnce(&Services, &str, &Params) -> Result<&'static str, Infra> + Send + 'static,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let session = browser.session.clone();
    let done = blocking(&svc, move |s| -> Result<Option<&'static str>, Infra> {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(None);
        };
        act(s, &session.sub, &form).map(Some)
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    Ok(match done {
        None => to_login(),
        Some(done) if anchor.is_empty() => see_other(&format!("/account?done={done}")),
        Some(done) => see_other(&format!("/account?done={done}#{anchor}")),
    })
}

/// A remove-style form: an `id` of one of the citizen's own things, and an action on it.
async fn account_action(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
    action: fn(&Services, &str, &str) -> Result<bool, Infra>,
    done: &'static str,
) -> Result<HttpResponse, WebError> {
    account_form(req, svc, body, "", move |s, sub, form| {
        // A missing id finds nothing of theirs.
        let id = form.get("id").unwrap_or("");
        Ok(if action(s, sub, id)? {
            done
        } else {
            "not_found"
        })
    })
    .await
}

pub async fn remove_passkey(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    account_action(req, svc, body, passkeys::remove, "removed").await
}

pub async fn unbind_device(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    account_action(req, svc, body, devices::unbind, "unbound").await
}

pub async fn revoke_app(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    account_action(req, svc, body, authorized_apps::revoke, "revoked").await
}

/// The citizen's own copy of everything stored about them, as a JSON download. A POST with the
/// CSRF token, so no link, prefetch or other site can start it.
pub async fn export(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let session = browser.session.clone();
    let export = blocking(&svc, move |s| -> Result<Option<privacy::Export>, Infra> {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(None);
        };
        privacy::export(s, &session.sub, "citizen")
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    let Some(export) = export else {
        return Ok(to_login());
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"my-data.json\"",
        ))
        .json(export))
}

enum Erasure {
    NotLoggedIn,
    NeedsFreshLogin,
    Done(logout::Aftermath),
}

/// 注销账户: erases the account. It needs the CSRF token, the confirmation box, and a login of
/// the last five minutes (a borrowed or stolen session cannot erase anyone).
pub async fn delete(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    if form.get("confirm") != Some("yes") {
        return Ok(see_other("/account?done=unconfirmed"));
    }
    let session = browser.session.clone();
    let outcome = blocking(&svc, move |s| -> Result<Erasure, Infra> {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(Erasure::NotLoggedIn);
        };
        if !passkey::is_recent_login(session.auth_time, s.now()) {
            return Ok(Erasure::NeedsFreshLogin);
        }
        Ok(match privacy::erase(s, &session.sub, "citizen")? {
            Some(aftermath) => Erasure::Done(aftermath),
            None => Erasure::NotLoggedIn,
        })
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    match outcome {
        Erasure::NotLoggedIn => Ok(to_login()),
        Erasure::NeedsFreshLogin => Ok(see_other("/account?done=reauth")),
        Erasure::Done(aftermath) => {
            logout::carry_out(svc.clone().into_inner(), aftermath).await;
            let (frame, cookie) = browser.frame(&svc, None, "/account");
            Ok(html(cookie, account_page::erased(&frame)))
        }
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}
