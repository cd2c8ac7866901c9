//! The authorization endpoint (GET and POST), resuming after login, and the consent page.
use super::{blocking, render_outcome};
use crate::domain::params::Params;
use crate::flows::authorize::{self, Outcome};
use crate::services::Services;
use crate::web::browser::Browser;
use crate::web::WebError;
use actix_web::{web, HttpRequest, HttpResponse};

pub async fn get(req: HttpRequest, svc: web::Data<Services>) -> Result<HttpResponse, WebError> {
    let params = Params::parse_urlencoded(req.query_string().as_bytes());
    start(req, svc, params).await
}

/// OIDC Core 3.1.2.1: the authorization endpoint also accepts form-encoded POST.
pub async fn post(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    start(req, svc, Params::parse_urlencoded(&body)).await
}

async fn start(
    req: HttpRequest,
    svc: web::Data<Services>,
    params: Params,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let ui_locales = params.get("ui_locales").map(str::to_owned);
    let session = browser.session.clone();
    let outcome = blocking(&svc, move |s| {
        authorize::start(s, &params, session.as_deref())
    })
    .await?;
    render_outcome(&svc, &browser, ui_locales.as_deref(), outcome)
}

pub async fn resume(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<ReqId>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let session = browser.session.clone();
    let id = query.into_inner().req;
    let outcome = blocking(&svc, move |s| authorize::resume(s, &id, session.as_deref())).await?;
    render_outcome(&svc, &browser, None, outcome)
}

#[derive(Debug, serde::Deserialize)]
pub struct ReqId {
    pub req: String,
}

pub async fn consent_page(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<ReqId>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let id = query.into_inner().req;
    let lookup_id = id.clone();
    let session = browser.session.clone();
    let found = blocking(&svc, move |s| {
        let parked = authorize::parked(s, &lookup_id)?;
        let logged_in = crate::flows::sessions::current(s, session.as_deref())?.is_some();
        Ok::<_, crate::flows::Infra>((parked, logged_in))
    })
    .await?;
    let (parked, logged_in) = found.map_err(|e| WebError::infra(e, false, browser.lang(None)))?;
    let Some((request, client)) = parked else {
        return render_outcome(&svc, &browser, None, Ok(Outcome::RequestExpired));
    };
    if !logged_in {
        let login = Outcome::Login {
            request_id: id,
            client_name: client.name,
            login_hint: None,
            ui_locales: request.ui_locales,
        };
        return render_outcome(&svc, &browser, None, Ok(login));
    }
    let (frame, cookie) = browser.frame(
        &svc,
        request.ui_locales.as_deref(),
        &format!("/consent?req={id}"),
    );
    let scopes = request.scopes();
    let list: Vec<&str> = scopes.iter().collect();
    let html = crate::web::pages::consent(&frame, &id, &client.name, &list, &svc.licence_types);
    Ok(super::html_for_app(
        cookie,
        html,
        Some(&request.target.redirect_uri),
    ))
}

pub async fn consent_submit(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let id = form.get("req").unwrap_or_default().to_owned();
    let allow = match form.get("decision") {
        Some("allow") => true,
        Some("deny") => false,
        _ => return Err(super::bad_form(&svc, &browser, "decision")),
    };
    let session = browser.session.clone();
    let outcome = blocking(&svc, move |s| {
        authorize::consent(s, &id, session.as_deref(), allow)
    })
    .await?;
    render_outcome(&svc, &browser, None, outcome)
}
