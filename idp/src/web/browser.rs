//! What a browser brings with each request (cookies, language, address) and the cookies we set.
use super::i18n::Lang;
use super::pages::Frame;
use crate::services::Services;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponseBuilder};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    /// Binds a QR login to the browser that showed the code.
    pub qr_binding: &'static str,
    /// Carries a login's trip to an upstream identity provider (sealed).
    pub federation: &'static str,
}

/// `__Host-` cookies are bound to the exact origin, but browsers accept them only over https.
pub fn cookie_names(svc: &Services) -> CookieNames {
    if svc.config.issuer_is_https() {
        CookieNames {
            session: "__Host-idp_session",
            csrf: "__Host-idp_csrf",
            qr_binding: "__Host-idp_qr",
            federation: "__Host-idp_fed",
        }
    } else {
        CookieNames {
            session: "idp_session",
            csrf: "idp_csrf",
            qr_binding: "idp_qr",
            federation: "idp_fed",
        }
    }
}

pub const LANG_COOKIE: &str = "idp_lang";
pub const ELDER_COOKIE: &str = "idp_elder";

#[derive(Debug, Clone)]
pub struct Browser {
    pub session: Option<String>,
    pub csrf_cookie: Option<String>,
    pub lang_cookie: Option<String>,
    pub elder: bool,
    pub accept_language: Option<String>,
    pub ip: String,
}

impl Browser {
    pub fn of(req: &HttpRequest, svc: &Services) -> Self {
        let names = cookie_names(svc);
        let cookie = |name: &str| {
            req.cookie(name)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty() && v.len() <= 128)
        };
        Self {
            session: cookie(names.session),
            csrf_cookie: cookie(names.csrf),
            lang_cookie: cookie(LANG_COOKIE),
            elder: cookie(ELDER_COOKIE).as_deref() == Some("1"),
            accept_language: req
                .headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect()),
            ip: client_address(req, &svc.config.trusted_proxies),
        }
    }

    pub fn lang(&self, ui_locales: Option<&str>) -> Lang {
        Lang::negotiate(
            ui_locales,
            self.lang_cookie.as_deref(),
            self.accept_language.as_deref(),
        )
    }

    /// The frame of a page, and a fresh CSRF cookie when the browser has none yet.
    pub fn frame(
        &self,
        svc: &Services,
        ui_locales: Option<&str>,
        path: &str,
    ) -> (Frame, Option<Cookie<'static>>) {
        let (value, new_cookie) = match &self.csrf_cookie {
            Some(v) => (v.clone(), None),
            None => {
                let v = keys::random_token(24);
                (
                    v.clone(),
                    Some(make_cookie(svc, cookie_names(svc).csrf, v, None)),
                )
            }
        };
        let frame = Frame {
            lang: self.lang(ui_locales),
            elder: self.elder,
            csrf: super::csrf::token_for(&svc.secrets.csrf, &value),
            path: path.to_owned(),
        };
        (frame, new_cookie)
    }

    pub fn csrf_ok(&self, svc: &Services, form_token: Option<&str>) -> bool {
        super::csrf::verify(&svc.secrets.csrf, self.csrf_cookie.as_deref(), form_token)
    }
}

/// The address a request came from, as throttling sees it. X-Forwarded-For is believed only
/// when the peer is a configured trusted proxy (anyone can forge the header), and then only
/// its right-most entry that is not itself a trusted proxy. IPv6 counts per /64, the block one
/// subscriber usually holds, so rotating addresses inside it does not reset the counters.
pub fn client_address(req: &HttpRequest, trusted: &[IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let mut ip = peer;
    if trusted.contains(&peer) {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        if let Some(client) = forwarded
            .split(',')
            .rev()
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .find(|candidate| !trusted.contains(candidate))
        {
            ip = client;
        }
    }
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// HttpOnly, SameSite=Lax (the login must survive the redirect back from an app), Secure on https.
pub fn make_cookie(
    svc: &Services,
    name: &'static str,
    value: String,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(svc.config.issuer_is_https())
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(actix_web::cookie::time::Duration::seconds(age));
    }
    c
}

/// The cookie that says "some node of the federation has a session for this browser", on the
/// federation's shared parent domain (see `Config::federation_hint_domain`). It carries nothing
/// but `1`: the session itself stays in each node's own cookie.
pub const FEDERATION_HINT: &str = "idp_fed_hint";

fn federation_hint(svc: &Services, max_age: i64) -> Option<Cookie<'static>> {
    let domain = svc.config.federation_hint_domain.clone()?;
    let mut c = make_cookie(svc, FEDERATION_HINT, "1".into(), Some(max_age));
    c.set_domain(domain);
    Some(c)
}

/// The cookies of a new session: the session itself, and the federation hint when configured.
pub fn session_cookies(svc: &Services, session: String) -> Vec<Cookie<'static>> {
    let mut out = vec![make_cookie(svc, cookie_names(svc).session, session, None)];
    out.extend(federation_hint(svc, svc.config.session_ttl_secs));
    out
}

/// The cookies that end a session in this browser (the hint too: a stale one costs a probe).
pub fn ended_session_cookies(svc: &Services) -> Vec<Cookie<'static>> {
    let mut out = vec![make_cookie(
        svc,
        cookie_names(svc).session,
        String::new(),
        Some(0),
    )];
    out.extend(federation_hint(svc, 0));
    out
}

pub fn with_cookie<'a>(
    builder: &'a mut HttpResponseBuilder,
    cookie: Option<Cookie<'static>>,
) -> &'a mut HttpResponseBuilder {
    if let Some(c) = cookie {
        builder.cookie(c);
    }
    builder
}

/// Why a JSON call from a page is refused before its body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonRefusal {
    NotJson,
    OtherOrigin,
}

/// The CSRF defence of the cookie-authenticated JSON APIs: the body must be `application/json`
/// (a cross-site form cannot send it, and a cross-site script needs a CORS preflight we never
/// grant), and a browser that names its origin must name ours or one of `extra_origins`
/// (native apps send no `Origin`).
pub fn json_from_our_pages(
    req: &HttpRequest,
    svc: &Services,
    extra_origins: &[String],
) -> Result<(), JsonRefusal> {
    let json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(JsonRefusal::NotJson);
    }
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) else {
        return Ok(());
    };
    let ours = origin.to_str().is_ok_and(|o| {
        o == svc.config.issuer_origin()
            || extra_origins.iter().any(|x| x.trim_end_matches('/') == o)
    });
    if ours {
        Ok(())
    } else {
        Err(JsonRefusal::OtherOrigin)
    }
}
