//! The account page's forms for licences, ratings and correction requests.
use super::account::account_form;
use super::{blocking, html};
use crate::domain::params::Params;
use crate::flows::corrections::{self};
use crate::flows::ratings::{self, RateError};
use crate::flows::{my_licences, sessions, Infra};
use crate::services::Services;
use crate::web::account_feedback;
use crate::web::browser::Browser;
use crate::web::WebError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

fn rate(svc: &Services, sub: &str, form: &Params) -> Result<&'static str, Infra> {
    let client_id = form.get("id").unwrap_or("");
    Ok(
        match ratings::rate(
            svc,
            sub,
            client_id,
            form.get("score").unwrap_or(""),
            form.get("comment"),
        )? {
            Ok(()) => "rated",
            Err(RateError::NotUsed) => "not_found",
            Err(RateError::Invalid(_)) => "rating_invalid",
        },
    )
}

fn file_correction(svc: &Services, sub: &str, form: &Params) -> Result<&'static str, Infra> {
    use crate::domain::correction::FilingError;
    let topic = form.get("topic").unwrap_or("");
    Ok(
        match corrections::file(svc, sub, topic, form.get("detail").unwrap_or(""))? {
            Ok(_) => "filed",
            Err(FilingError::TooMany) => "too_many",
            Err(_) => "correction_invalid",
        },
    )
}

/// 好差评: rate an app the citizen has authorized.
pub async fn rate_app(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    account_form(req, svc, body, "apps-title", rate).await
}

/// 纠错申请: file a correction request.
pub async fn correction(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    account_form(req, svc, body, "corrections-title", file_correction).await
}

/// 亮证: a credential offer of one of the citizen's own licences, drawn as a QR code for the
/// government app, with its transaction code. A POST with CSRF: each offer is a stored,
/// audited, single-use code, not something a link or prefetch should mint.
pub async fn show_licence(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let Some(id) = form
        .get("id")
        .filter(|id| id.len() <= 64)
        .map(str::to_owned)
    else {
        return Err(super::bad_form(&svc, &browser, "id"));
    };
    let session = browser.session.clone();
    let offer = blocking(&svc, move |s| {
        let Some(session) = sessions::current(s, session.as_deref())? else {
            return Ok(None);
        };
        let types = &s.licence_types;
        Ok(
            my_licences::offer(s, &session.sub, &id)?.map(|(offer, licence_type)| {
                let name = types
                    .get(&licence_type)
                    .map(|t| (t.name.zh.clone(), t.name.en.clone()));
                (offer, name.unwrap_or((licence_type.clone(), licence_type)))
            }),
        )
    })
    .await?
    .map_err(|e: Infra| WebError::infra(e, false, browser.lang(None)))?;
    let Some((offer, (zh, en))) = offer else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/account?done=not_found#licences-title"))
            .finish());
    };
    let Some(svg) = crate::flows::qr::svg(&offer.offer) else {
        return Err(WebError::infra(
            Infra::Corrupt("a credential offer does not fit a QR code"),
            false,
            browser.lang(None),
        ));
    };
    let (frame, cookie) = browser.frame(&svc, None, "/account");
    let name = if frame.lang == crate::web::i18n::Lang::Zh {
        zh
    } else {
        en
    };
    let mut resp = html(
        cookie,
        account_feedback::licence_offer(&frame, &name, &svg, &offer.tx_code),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}
