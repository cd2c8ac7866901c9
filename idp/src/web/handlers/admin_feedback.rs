//! The console's correction review: the queue, and an operator's decision on one request.
use super::admin::{as_operator, ConsoleQuery};
use super::html;
use crate::domain::operator::Role;
use crate::domain::params::Params;
use crate::flows::corrections::{self, DecideError};
use crate::services::Services;
use crate::web::admin_feedback;
use crate::web::browser::Browser;
use crate::web::i18n::Lang;
use crate::web::WebError;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

fn done_text(lang: Lang, done: &str) -> &'static str {
    match done {
        "fixed" => lang.pick(
            "已更正，申请人会在其账户页看到结果。",
            "Corrected; the citizen sees the outcome on their account page.",
        ),
        "rejected" => lang.pick("已答复不予更正。", "Rejected, with your reason."),
        "decided" => lang.pick("该申请已被处理。", "Someone decided this request already."),
        "name" => lang.pick(
            "更正姓名时须填写更正后的姓名。",
            "Give the corrected name to correct it.",
        ),
        _ => lang.pick(
            "未处理：请选择决定并填写处理意见（500字以内）。",
            "Not done: choose a decision and give a reason (under 500 characters).",
        ),
    }
}

pub async fn queue(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<ConsoleQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let loaded = as_operator(&svc, &browser, Some(Role::Corrections), |s, _| {
        corrections::queue(s)
    })
    .await?;
    let queue = match loaded {
        Ok(q) => q,
        Err(page) => return Ok(page),
    };
    let (frame, cookie) = browser.frame(&svc, None, "/admin/corrections");
    let notice = query.done.as_deref().map(|d| done_text(frame.lang, d));
    Ok(html(
        cookie,
        admin_feedback::corrections_page(&frame, &queue, notice),
    ))
}

pub async fn decide(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    use crate::domain::correction::DecisionError;
    let browser = Browser::of(&req, &svc);
    let form = Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let outcome = as_operator(&svc, &browser, Some(Role::Corrections), move |s, op| {
        let id = form.get("id").unwrap_or("");
        Ok(
            match corrections::decide(
                s,
                id,
                form.get("decision").unwrap_or(""),
                form.get("reason").unwrap_or(""),
                form.get("new_name"),
                &op.actor(),
            )? {
                Ok(state) => state.as_str(),
                Err(DecideError::Invalid(DecisionError::Decided)) => "decided",
                Err(DecideError::Invalid(DecisionError::Name)) => "name",
                Err(DecideError::Invalid(DecisionError::OwnRequest)) => "own",
                Err(_) => "invalid",
            },
        )
    })
    .await?;
    match outcome {
        Ok(done) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/corrections?done={done}")))
            .finish()),
        Err(page) => Ok(page),
    }
}
