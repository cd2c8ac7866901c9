//! The operator's console at `/admin`. Every request passes the gate (a strong login of an
//! operator, and the role the act needs); forms carry the CSRF token; every act is a flow the
//! CLI also calls, audited under the operator's name.
use super::{blocking, html, page_error};
use crate::domain::client::ClientStatus;
use crate::domain::licence::LicenceAction;
use crate::domain::operator::{Refusal, Role};
use crate::domain::params::Params;
use crate::flows::operators::{self, Operator};
use crate::flows::{audit, clients, console, keyring, licences, upstreams, Infra};
use crate::services::Services;
use crate::store::console::AuditFilter;
use crate::web::admin_page::{self, Console};
use crate::web::browser::Browser;
use crate::web::i18n::Lang;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

fn refused(svc: &Services, browser: &Browser, refusal: Refusal) -> Result<HttpResponse, WebError> {
    let zh = browser.lang(None) == Lang::Zh;
    let message = match refusal {
        Refusal::NotLoggedIn => {
            return Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, "/login"))
                .finish())
        }
        Refusal::NeedsStrongLogin if zh => "管理台需要使用指纹（通行密钥）或扫码登录。请退出后用这些方式重新登录。",
        Refusal::NeedsStrongLogin => {
            "The console needs a passkey or QR-code login. Log out and log in again with one of them."
        }
        Refusal::NotAllowed if zh => "您没有访问管理台或执行此操作的权限。",
        Refusal::NotAllowed => "You are not allowed to open the console or do this.",
    };
    Err(page_error(svc, browser, StatusCode::FORBIDDEN, message))
}

/// Runs `f` for an admitted operator in the blocking pool; refusals become their page.
pub(super) async fn as_operator<T: Send + 'static>(
    svc: &web::Data<Services>,
    browser: &Browser,
    needed: Option<Role>,
    f: impl FnOnce(&Services, &Operator) -> Result<T, Infra> + Send + 'static,
) -> Result<Result<T, HttpResponse>, WebError> {
    let session = browser.session.clone();
    let outcome = blocking(svc, move |s| -> Result<Result<T, Refusal>, Infra> {
        match operators::admit(s, session.as_deref(), needed)? {
            Ok(op) => f(s, &op).map(Ok),
            Err(r) => Ok(Err(r)),
        }
    })
    .await?
    .map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    match outcome {
        Ok(v) => Ok(Ok(v)),
        Err(r) => refused(svc, browser, r).map(Err),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct ConsoleQuery {
    pub done: Option<String>,
}

pub async fn console(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<ConsoleQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let loaded = as_operator(&svc, &browser, None, |s, op| {
        let keys = if op.may(Role::Keys) {
            s.store.signing_keys()?
        } else {
            Vec::new()
        };
        let (apps, ups) = if op.may(Role::Apps) {
            let ups = upstreams::list(s)?
                .into_iter()
                .map(|u| {
                    let health = s.upstream_health.of(&u.code);
                    (u, health)
                })
                .collect();
            (console::apps(s)?, ups)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok((op.clone(), apps, ups, keys))
    })
    .await?;
    let (op, apps, ups, keys) = match loaded {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let (frame, cookie) = browser.frame(&svc, None, "/admin");
    let page = Console {
        operator: &op,
        apps: &apps,
        upstreams: &ups,
        keys: &keys,
        notice: query.done.as_deref().map(|d| done_text(frame.lang, d)),
    };
    Ok(html(cookie, admin_page::console(&frame, &page)))
}

fn done_text(lang: Lang, done: &str) -> String {
    let zh = lang == Lang::Zh;
    match (done, zh) {
        ("approved", true) => "已批准发布。".into(),
        ("approved", false) => "Published.".into(),
        ("rejected", true) => "已驳回。".into(),
        ("rejected", false) => "Rejected.".into(),
        ("suspended", true) => "已暂停。".into(),
        ("suspended", false) => "Suspended.".into(),
        ("rotated", true) => "密钥已轮换。".into(),
        ("rotated", false) => "Keys rotated.".into(),
        ("licence", true) => "证照状态已更新。".into(),
        ("licence", false) => "Licence updated.".into(),
        (_, true) => "操作未完成：对象不存在或当前状态不允许。".into(),
        (_, false) => "Not done: no such item, or its state does not allow it.".into(),
    }
}

fn back_to_console(done: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/admin?done={done}")))
        .finish()
}

/// A console form: the CSRF token first, then the gate for `role`, then `act`, which names the
/// outcome shown back on the console.
async fn console_form(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
    role: Role,
    act: fn(&Services, &Operator, &Params) -> Result<&'static str, Infra>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    match as_operator(&svc, &browser, Some(role), move |s, op| act(s, op, &form)).await? {
        Ok(done) => Ok(back_to_console(done)),
        Err(page) => Ok(page),
    }
}

fn set_app_status(svc: &Services, op: &Operator, form: &Params) -> Result<&'static str, Infra> {
    let (Some(id), Some(status)) = (form.get("client_id"), form.get("status")) else {
        return Ok("invalid");
    };
    let (status, done) = match status {
        "approved" => (ClientStatus::Approved, "approved"),
        "rejected" => (ClientStatus::Rejected, "rejected"),
        "suspended" => (ClientStatus::Suspended, "suspended"),
        _ => return Ok("invalid"),
    };
    let reason = form
        .get("reason")
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.chars().count() <= 200);
    if status != ClientStatus::Approved && reason.is_none() {
        return Ok("invalid");
    }
    match clients::set_status(svc, id, status, reason, &op.actor()) {
        Ok(()) => Ok(done),
        Err(clients::RegistryError::Infra(e)) => Err(e),
        Err(_) => Ok("invalid"),
    }
}

fn change_licence(svc: &Services, op: &Operator, form: &Params) -> Result<&'static str, Infra> {
    let action = match form.get("action") {
        Some("suspend") => LicenceAction::Suspend,
        Some("reinstate") => LicenceAction::Reinstate,
        Some("revoke") => LicenceAction::Revoke,
        _ => return Ok("invalid"),
    };
    let Some(id) = form.get("id").map(str::trim).filter(|id| id.len() <= 64) else {
        return Ok("invalid");
    };
    Ok(match licences::change(svc, id, action, &op.actor())? {
        Ok(_) => "licence",
        Err(_) => "invalid",
    })
}

fn rotate_keys(svc: &Services, op: &Operator, _: &Params) -> Result<&'static str, Infra> {
    keyring::rotate_audited(svc, &op.actor())?;
    Ok("rotated")
}

pub async fn app_status(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    console_form(req, svc, body, Role::Apps, set_app_status).await
}

pub async fn licence_state(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    console_form(req, svc, body, Role::Licences, change_licence).await
}

pub async fn keys_rotate(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    console_form(req, svc, body, Role::Keys, rotate_keys).await
}

pub async fn app_page(
    req: HttpRequest,
    svc: web::Data<Services>,
    path: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let id = path.into_inner();
    let loaded = as_operator(&svc, &browser, Some(Role::Apps), move |s, _| {
        let Some(row) = s.store.client(&id)? else {
            return Ok(None);
        };
        let counts = match clients::stats(s, &id) {
            Ok(c) => c,
            Err(clients::RegistryError::Infra(e)) => return Err(e),
            Err(_) => Default::default(),
        };
        Ok(Some((
            console::AppEntry::from(&row),
            counts,
            console::activity(s, &id, 24)?,
            crate::flows::ratings::of_app(s, &id)?,
        )))
    })
    .await?;
    let (app, counts, activity, ratings) = match loaded {
        Ok(Some(v)) => v,
        Ok(None) => {
            let msg = match browser.lang(None) {
                Lang::Zh => "没有这个应用。",
                Lang::En => "No such app.",
            };
            return Err(page_error(&svc, &browser, StatusCode::NOT_FOUND, msg));
        }
        Err(page) => return Ok(page),
    };
    let (frame, cookie) = browser.frame(&svc, None, "/admin");
    Ok(html(
        cookie,
        admin_page::app_activity(&frame, &app, &counts, &activity, &ratings),
    ))
}

pub async fn audit_page(
    req: HttpRequest,
    svc: web::Data<Services>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let query = Params::parse_urlencoded(req.query_string().as_bytes());
    let field = |name: &str, max: usize| {
        query
            .get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= max)
            .map(str::to_owned)
    };
    let filter = AuditFilter {
        kind: field("kind", 64),
        actor: field("actor", 128),
        client_id: field("client_id", 128),
    };
    let f2 = filter.clone();
    let loaded = as_operator(&svc, &browser, Some(Role::Audit), move |s, _| {
        let entries = s.store.audit_search(&f2, 200)?;
        let chain = audit::verify(&s.store, &s.secrets.audit).map_err(|e| e.to_string());
        Ok((entries, chain))
    })
    .await?;
    let (entries, chain) = match loaded {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let (frame, cookie) = browser.frame(&svc, None, "/admin/audit");
    Ok(html(
        cookie,
        admin_page::audit(&frame, &entries, &filter, &chain),
    ))
}
