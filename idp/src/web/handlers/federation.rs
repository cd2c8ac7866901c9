//! Login through an upstream identity provider: `GET /federation/start` sends the browser there,
//! `GET /federation/callback` takes it back.
use super::{blocking, page_error};
use crate::flows::federation::{self, Arrival, FederationError, Trip};
use crate::flows::upstreams::{self, UpstreamInfo};
use crate::flows::{authorize, upstream_oidc, Infra};
use crate::services::Services;
use crate::store::upstreams::UpstreamRow;
use crate::web::browser::{cookie_names, make_cookie, Browser};
use crate::web::i18n::Lang;
use crate::web::WebError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use zeroize::Zeroizing;

#[derive(Debug, serde::Deserialize)]
pub struct StartQuery {
    upstream: String,
    req: Option<String>,
    /// For the hub: the citizen's home region, so the hub sends them on without asking.
    home: Option<String>,
    /// Seamless roaming: only look for a session upstream (see `Trip::probe`).
    probe: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

fn explain(svc: &Services, browser: &Browser, e: &FederationError) -> WebError {
    let (status, zh, en) = match e {
        FederationError::UnknownUpstream => (
            StatusCode::NOT_FOUND,
            "没有这个身份提供方，或它已停用。",
            "No such identity provider, or it is disabled.",
        ),
        FederationError::TripExpired => (
            StatusCode::BAD_REQUEST,
            "登录已超时或已完成，请回到应用重新登录。",
            "The login timed out or was already finished: go back to the app and log in again.",
        ),
        FederationError::NoIdNumber => (
            StatusCode::BAD_GATEWAY,
            "对方身份提供方没有提供经过核验的身份证号，无法关联账号。",
            "The identity provider did not release a verified ID number, which linking needs.",
        ),
        FederationError::OutsideRegion => (
            StatusCode::BAD_GATEWAY,
            "对方身份提供方为其他地区的公民作证，已拒绝并记录。",
            "The identity provider vouched for a citizen of another region; it was refused and recorded.",
        ),
        FederationError::Unreachable => (
            StatusCode::GATEWAY_TIMEOUT,
            "对方身份提供方暂时无法访问，请稍后再试，或用其他方式登录。",
            "The identity provider cannot be reached now: try again later or log in another way.",
        ),
        FederationError::Refused(_) => (
            StatusCode::BAD_GATEWAY,
            "对方身份提供方的应答未通过校验，已拒绝并记录。",
            "The identity provider's answer failed validation; it was refused and recorded.",
        ),
    };
    let message = match browser.lang(None) {
        Lang::Zh => zh,
        Lang::En => en,
    };
    page_error(svc, browser, status, message)
}

fn infra(browser: &Browser) -> impl Fn(Infra) -> WebError + '_ {
    move |e| WebError::infra(e, false, browser.lang(None))
}

/// The enabled upstream and this node's secret there.
fn load(svc: &Services, code: &str) -> Result<Option<(UpstreamRow, Zeroizing<String>)>, Infra> {
    let Some(row) = svc.store.upstream(code)?.filter(|u| u.enabled) else {
        return Ok(None);
    };
    let secret = upstreams::client_secret(svc, &row)?;
    Ok(Some((row, secret)))
}

pub async fn start(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let StartQuery {
        upstream,
        req: parked,
        home,
        probe,
    } = query.into_inner();
    let probe = probe.is_some();
    let parked = parked.filter(|r| !r.is_empty());
    let looked_up = parked.clone();
    // What the app asked of the login: (prompt=none, prompt=login, max_age, the ID number),
    // passed on upstream.
    let (found, asked) = blocking(&svc, move |s| -> Result<_, Infra> {
        let asked = match &looked_up {
            Some(id) => authorize::parked(s, id)?.map(|(r, _)| {
                let id_number = r.scopes().contains(crate::domain::scope::ID_NUMBER)
                    || r.claims
                        .as_ref()
                        .is_some_and(|c| c.to_string().contains("\"id_number\""));
                (r.prompt.none, r.prompt.login, r.max_age, id_number)
            }),
            None => Some((false, false, None, false)),
        };
        Ok((load(s, &upstream)?, asked))
    })
    .await?
    .map_err(infra(&browser))?;
    let Some((silent, force_login, max_age, wants_id_number)) = asked else {
        return Err(explain(&svc, &browser, &FederationError::TripExpired));
    };
    // A probe that cannot even start (upstream off or down) must not keep the citizen from
    // this node's own login.
    let probe_failed = || {
        HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/login?req={}&probed=1", parked.as_deref().unwrap_or("")),
            ))
            .finish()
    };
    let Some((row, _)) = found else {
        if probe {
            return Ok(probe_failed());
        }
        return Err(explain(&svc, &browser, &FederationError::UnknownUpstream));
    };
    // A silent look cannot give the fresh login the app demands: show this node's page.
    if probe && force_login {
        return Ok(probe_failed());
    }
    let mut trip = Trip::new(&row.code, parked.as_deref(), silent || probe, svc.now());
    trip.probe = probe;
    trip.force_login = force_login;
    trip.max_age = max_age;
    trip.want_id_number |= wants_id_number;
    trip.region_hint = home.filter(|h| crate::domain::upstream::valid_code(h));
    let url = match upstream_oidc::authorization_url(&svc, &row, &trip).await {
        Ok(url) => url,
        Err(_) if probe => return Ok(probe_failed()),
        Err(e) => return Err(explain(&svc, &browser, &e)),
    };
    Ok(HttpResponse::Found()
        .cookie(make_cookie(
            &svc,
            cookie_names(&svc).federation,
            trip.seal(&svc),
            Some(federation::TRIP_SECS),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, url))
        .finish())
}

pub async fn callback(
    req: HttpRequest,
    svc: web::Data<Services>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let query = query.into_inner();
    let cookie = req
        .cookie(cookie_names(&svc).federation)
        .map(|c| c.value().to_owned());
    let trip = match (cookie, &query.state) {
        (Some(c), Some(state)) => Trip::open(&svc, &c, state),
        _ => None,
    };
    let Some(trip) = trip else {
        return Err(explain(&svc, &browser, &FederationError::TripExpired));
    };
    let spent = trip.clone();
    let (fresh, found) = blocking(&svc, move |s| -> Result<_, Infra> {
        Ok((federation::spend(s, &spent)?, load(s, &spent.upstream)?))
    })
    .await?
    .map_err(infra(&browser))?;
    if !fresh {
        return Err(explain(&svc, &browser, &FederationError::TripExpired));
    }
    let Some((row, secret)) = found else {
        return Err(explain(&svc, &browser, &FederationError::UnknownUpstream));
    };
    let info = UpstreamInfo::from(&row);
    let code = match (query.code, query.error) {
        (Some(code), None) => code,
        // The citizen has no session there (prompt=none) or said no: back to our own login.
        _ => return Ok(back_to_login(&svc, &trip)),
    };
    let redeemed = upstream_oidc::redeem(&svc, &row, &secret, &trip, &code).await;
    let arrival: Arrival = match redeemed {
        Ok(a) => a,
        Err(e) => {
            let why = e.clone();
            let audited = info.clone();
            blocking(&svc, move |s| federation::refused(s, &audited, &why))
                .await?
                .map_err(infra(&browser))?;
            return Err(explain(&svc, &browser, &e));
        }
    };
    let ip = browser.ip.clone();
    let arrived = blocking(&svc, move |s| {
        federation::arrive(s, &info, &trip, &arrival, &ip)
    })
    .await?
    .map_err(infra(&browser))?
    .map_err(|e| explain(&svc, &browser, &e))?;
    let mut gone = make_cookie(&svc, cookie_names(&svc).federation, String::new(), Some(0));
    gone.make_removal();
    let mut response = HttpResponse::Found();
    for cookie in crate::web::browser::session_cookies(&svc, arrived.session_cookie) {
        response.cookie(cookie);
    }
    Ok(response
        .cookie(gone)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, arrived.redirect_to))
        .finish())
}

fn back_to_login(svc: &Services, trip: &Trip) -> HttpResponse {
    let to = match &trip.request_id {
        // No federation session: now the citizen sees this node's own login page.
        Some(req) if trip.probe => format!("/login?req={req}&probed=1"),
        Some(req) => format!("/authorize/resume?req={req}"),
        None => "/login".to_owned(),
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, svc.config.endpoint(&to)))
        .finish()
}

/// `POST /federation/route`: the login page's "account in another region" form. The ID number
/// only finds the home; it is not kept, logged or passed on.
pub async fn route(
    req: HttpRequest,
    svc: web::Data<Services>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let browser = Browser::of(&req, &svc);
    let form = crate::domain::params::Params::parse_urlencoded(&body);
    if !browser.csrf_ok(&svc, form.get("csrf")) {
        return Err(super::csrf_failure(&svc, &browser));
    }
    let Some(typed) = form.get("id_number") else {
        return Err(super::bad_form(&svc, &browser, "id_number"));
    };
    let lang = browser.lang(None);
    let id = match crate::domain::id_number::IdNumber::parse(typed.trim()) {
        Ok(id) => id,
        Err(e) => {
            let t = lang.t();
            let message = format!(
                "{}{}{}",
                t.bad_id_number,
                t.colon,
                super::login::id_error_text(lang, e)
            );
            return Err(page_error(
                &svc,
                &browser,
                StatusCode::BAD_REQUEST,
                &message,
            ));
        }
    };
    let home = blocking(&svc, move |s| upstreams::route(s, &id))
        .await?
        .map_err(infra(&browser))?;
    let Some((home, hint)) = home else {
        let message = match lang {
            Lang::Zh => "暂未接入您所在地区的身份认证，请用本站账号、指纹或扫码登录。",
            Lang::En => {
                "Your region is not connected yet: log in here with a password, passkey or QR code."
            }
        };
        return Err(page_error(&svc, &browser, StatusCode::NOT_FOUND, message));
    };
    let req_part = match form.get("req").filter(|r| !r.is_empty()) {
        Some(r) => format!(
            "&req={}",
            url::form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
        ),
        None => String::new(),
    };
    Ok(HttpResponse::SeeOther()
        .cookie(make_cookie(
            &svc,
            super::login::HOME_COOKIE,
            home.code.clone(),
            Some(365 * 24 * 3600),
        ))
        .insert_header((
            header::LOCATION,
            match hint {
                Some(h) => format!(
                    "/federation/start?upstream={}{req_part}&home={h}",
                    home.code
                ),
                None => format!("/federation/start?upstream={}{req_part}", home.code),
            },
        ))
        .finish())
}
