//! CSRF on every form, found by reading the pages rather than by a list that can fall behind:
//! a citizen with a session, a passkey, a bound phone and an app they use sees every page that
//! carries a POST form (login, login for an app, consent, logout, the account page, the kiosk
//! confirmation, "an account in another region"); each form posted without its CSRF token, with
//! a wrong one, an empty one, or another browser's valid one is refused (403) and changes
//! nothing; posted with its own token it is not. The cookie-authenticated JSON APIs refuse
//! what a cross-site page can send. Every page forbids framing.
#![allow(clippy::unwrap_used)]
mod common;

use common::app;
use common::browser::{query_of, Browser, Page};
use common::flow;
use common::passkey::{post_json, Phone};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, GrantType};
use idp::flows::upstreams::{self, NewUpstream};
use serde_json::json;

/// A POST form as the page serves it.
#[derive(Debug, Clone)]
struct Form {
    page: String,
    action: String,
    /// (name, value): hidden inputs with their values, other inputs filled as a person would,
    /// and the first named button (the "allow" one where there is a choice).
    fields: Vec<(String, String)>,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Every `<form method="post">` of a page, its fields filled by `fill` (name -> value).
fn post_forms(page: &str, html: &str, fill: &dyn Fn(&str) -> String) -> Vec<Form> {
    let mut out = Vec::new();
    for chunk in html.split("<form").skip(1) {
        let open = chunk.split('>').next().unwrap();
        if !attr(open, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
            continue;
        }
        let action = attr(open, "action").unwrap_or_default();
        let body = chunk.split("</form>").next().unwrap();
        let mut fields = Vec::new();
        for input in body.split("<input").skip(1) {
            let tag = input.split('>').next().unwrap();
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            let value = match attr(tag, "type").as_deref() {
                Some("hidden") | Some("checkbox") | Some("radio") => {
                    attr(tag, "value").unwrap_or_default()
                }
                _ => fill(&name),
            };
            if !fields.iter().any(|(n, _): &(String, String)| *n == name) {
                fields.push((name, value));
            }
        }
        let buttons: Vec<(String, String)> = body
            .split("<button")
            .skip(1)
            .filter_map(|b| {
                let tag = b.split('>').next().unwrap();
                Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
            })
            .collect();
        if let Some(b) = buttons
            .iter()
            .find(|(_, v)| v == "allow")
            .or(buttons.first())
        {
            fields.push(b.clone());
        }
        out.push(Form {
            page: page.to_owned(),
            action,
            fields,
        });
    }
    out
}

fn csrf_refused(page: &Page) -> bool {
    page.status == 403 && page.body.contains("页面已过期")
}

struct World {
    server: TestServer,
    citizen: String,
    sub: String,
    /// The citizen's browser: logged in, a passkey bound, an app consented.
    browser: Browser,
    /// A consenting app, and one with a request parked at the consent page.
    app: TestClient,
    parked_app: TestClient,
    parked: String,
    kiosk: TestClient,
    device_code: String,
    user_code: String,
    phone: (app::Device, String),
    passkey: String,
}

async fn world() -> World {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 231);
    let sub = server.user(&citizen, PASSWORD).await;
    // Another region is connected: the login page offers "an account in another region".
    server
        .with(|svc| {
            let new = NewUpstream {
                code: "51",
                name: "四川",
                issuer: "http://127.0.0.1:9",
                client_id: "node-51",
                client_secret: "a-secret-of-node-51",
            };
            upstreams::add(svc, &new, "test").unwrap().unwrap();
        })
        .await;
    let app = server.client(ClientSpec::default()).await;
    let parked_app = server
        .client(ClientSpec {
            name: "待同意的应用".into(),
            redirect_uri: "http://127.0.0.1:9/parked".into(),
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    flow::code(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    let mut phone = Phone::new(&server.base);
    assert_eq!(phone.bind(&browser, "手机").await.status, 201);
    let passkey = phone.credential_id.clone().unwrap();
    let gov_app = app::register(&server).await;
    let phone_app = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;
    // A request of the second app waits for the citizen's consent.
    let page = browser
        .get(&flow::authorize_url(&server, &parked_app, &[]))
        .await;
    let consent = page.location.unwrap();
    assert!(consent.starts_with("/consent?req="), "{consent}");
    let parked = query_of(&consent)["req"].clone();
    // A kiosk shows a code.
    let kiosk = server
        .client(ClientSpec {
            name: "政务自助终端".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::DeviceCode],
            ..ClientSpec::default()
        })
        .await;
    let start = flow::post_form(
        &server,
        "/device_authorization",
        None,
        &[("client_id", &kiosk.client_id), ("scope", "openid profile")],
    )
    .await;
    World {
        citizen,
        sub,
        browser,
        app,
        parked_app,
        parked,
        kiosk,
        device_code: start.str("device_code"),
        user_code: start.str("user_code"),
        phone: phone_app,
        passkey,
        server,
    }
}

impl World {
    /// Every POST form on every page the citizen can open.
    async fn forms(&self) -> Vec<Form> {
        let fill = |name: &str| match name {
            "username" | "id_number" => self.citizen.clone(),
            "password" => PASSWORD.to_owned(),
            _ => "x".to_owned(),
        };
        let mut forms = Vec::new();
        for path in [
            "/login".to_owned(),
            format!("/login?req={}", self.parked),
            format!("/consent?req={}", self.parked),
            "/logout".to_owned(),
            "/account".to_owned(),
            format!("/device?user_code={}", self.user_code),
        ] {
            let page = self.browser.get(&path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.body);
            forms.extend(post_forms(&path, &page.body, &fill));
        }
        forms
    }

    /// What the forgeries must not have changed.
    async fn unchanged(&self, after: &str) {
        assert_eq!(
            self.browser.get("/account").await.status,
            200,
            "{after}: the session ended"
        );
        let (sub, parked_app) = (self.sub.clone(), self.parked_app.client_id.clone());
        let consent = self
            .server
            .with(move |s| s.store.consent(&sub, &parked_app).unwrap())
            .await;
        assert_eq!(consent, None, "{after}: a consent was stored");
        let id = self.passkey.clone();
        let passkey = self
            .server
            .with(move |s| s.store.passkey(&id).unwrap())
            .await;
        assert!(passkey.is_some(), "{after}: the passkey was removed");
        let (device, token) = &self.phone;
        let (status, _) = app::get(&self.server, device, token, "/app/devices").await;
        assert_eq!(status, 200, "{after}: the phone was unbound");
        let poll = flow::post_form(
            &self.server,
            "/token",
            None,
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", &self.device_code),
                ("client_id", &self.kiosk.client_id),
            ],
        )
        .await;
        assert!(
            ["authorization_pending", "slow_down"].contains(&poll.error()),
            "{after}: the kiosk code was answered: {}",
            poll.json
        );
        let t = flow::tokens(
            &self.server,
            &self.browser,
            &self.app,
            &self.citizen,
            PASSWORD,
            &[("prompt", "none")],
        )
        .await;
        assert_eq!(t.status, 200, "{after}: the app lost its consent");
    }
}

#[actix_web::test]
async fn every_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let w = world().await;
    let forms = w.forms().await;
    let actions: Vec<&str> = forms.iter().map(|f| f.action.as_str()).collect();
    for needed in [
        "/login",
        "/federation/route",
        "/consent",
        "/logout",
        "/account/passkeys/remove",
        "/account/devices/remove",
        "/device",
    ] {
        assert!(
            actions.contains(&needed),
            "no {needed} form found: {actions:?}"
        );
    }
    // A token that is valid, but for another browser's cookie (an attacker's own page).
    let attacker = Browser::new(&w.server.base);
    let theirs = post_forms("/login", &attacker.get("/login").await.body, &|_| {
        String::new()
    });
    let their_token = theirs[0]
        .fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .unwrap()
        .1
        .clone();
    for form in &forms {
        assert!(
            form.fields.iter().any(|(k, _)| k == "csrf"),
            "{} on {} has no CSRF token",
            form.action,
            form.page
        );
        for (variant, token) in [
            ("without a token", None),
            ("with an empty token", Some(String::new())),
            (
                "with a wrong token",
                Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned()),
            ),
            ("with another browser's token", Some(their_token.clone())),
        ] {
            let mut fields: Vec<(String, String)> = form
                .fields
                .iter()
                .filter(|(k, _)| k != "csrf")
                .cloned()
                .collect();
            if let Some(t) = token {
                fields.push(("csrf".into(), t));
            }
            let what = format!("{} from {} {variant}", form.action, form.page);
            let answer = w.browser.post(&form.action, &fields).await;
            assert!(
                csrf_refused(&answer),
                "{what}: {} {:?}",
                answer.status,
                answer.location
            );
            assert!(
                flow::set_cookie(&answer, "idp_session").is_none(),
                "{what}: a session cookie"
            );
            w.unchanged(&what).await;
        }
    }
    // The same forms with their own tokens are accepted (whatever they then do).
    for form in w.forms().await {
        let answer = w.browser.post(&form.action, &form.fields).await;
        assert!(
            !csrf_refused(&answer),
            "{} from {} with its own token: {}",
            form.action,
            form.page,
            answer.body
        );
    }
    w.server.stop().await;
}

/// The JSON APIs that act on the browser's cookies take only `application/json` from our own
/// origin: what a cross-site form (`text/plain` included, which can carry a JSON-looking body)
/// or a cross-site script sends is refused before anything happens.
#[actix_web::test]
async fn cookie_json_apis_refuse_what_another_site_can_send() {
    let w = world().await;
    let passkeys_before = w.server.with({
        let sub = w.sub.clone();
        move |s| idp::flows::passkeys::list(s, &sub).unwrap().len()
    });
    let passkeys_before = passkeys_before.await;
    for path in [
        "/webauthn/register/start",
        "/webauthn/register/finish",
        "/webauthn/login/start",
        "/webauthn/login/finish",
        "/qr/start",
    ] {
        let body = json!({"name": "evil", "ceremony": "x", "credential": {}}).to_string();
        let attempts = [
            (
                "from another origin",
                "application/json",
                Some("https://evil.example"),
            ),
            ("from an opaque origin", "application/json", Some("null")),
            ("as text/plain", "text/plain", None),
            ("as a form", "application/x-www-form-urlencoded", None),
            ("as multipart", "multipart/form-data; boundary=x", None),
        ];
        for (what, content_type, origin) in attempts {
            let mut req = w
                .browser
                .http
                .post(w.server.url(path))
                .header("content-type", content_type)
                .body(body.clone());
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            assert!(status == 400 || status == 403, "{path} {what}: {status}");
            assert!(
                !resp.headers().contains_key("set-cookie"),
                "{path} {what}: a cookie was set"
            );
            let json: serde_json::Value = resp.json().await.unwrap();
            assert!(json["error"].is_string(), "{path} {what}: {json}");
        }
    }
    // Our own origin is accepted: the refusals above were about the sender.
    let ours = post_json(
        &w.browser,
        "/webauthn/register/start",
        &json!({"name": "x"}),
    )
    .await;
    assert_eq!(ours.status, 200, "{}", ours.json);
    let passkeys_after = w
        .server
        .with({
            let sub = w.sub.clone();
            move |s| idp::flows::passkeys::list(s, &sub).unwrap().len()
        })
        .await;
    assert_eq!(passkeys_before, passkeys_after);
    w.server.stop().await;
}

/// Clickjacking: every page, error pages and the form_post answer included, forbids framing.
#[actix_web::test]
async fn every_page_forbids_framing() {
    let w = world().await;
    let mut pages = Vec::new();
    for path in [
        "/".to_owned(),
        "/login".to_owned(),
        format!("/login?req={}", w.parked),
        format!("/consent?req={}", w.parked),
        "/consent?req=no-such-request".to_owned(),
        "/logout".to_owned(),
        "/account".to_owned(),
        "/device".to_owned(),
        format!("/device?user_code={}", w.user_code),
        "/device?user_code=BCDF-GHJK".to_owned(),
        "/authorize?client_id=nobody".to_owned(),
        "/authorize/resume?req=nothing".to_owned(),
        "/federation/start?upstream=99".to_owned(),
        "/federation/callback?state=x&code=y".to_owned(),
        "/no-such-page".to_owned(),
    ] {
        pages.push((path.clone(), w.browser.get(&path).await));
    }
    let form_post = w
        .browser
        .get(&flow::authorize_url(
            &w.server,
            &w.app,
            &[("response_mode", "form_post"), ("prompt", "none")],
        ))
        .await;
    assert!(form_post.body.contains("form_post"), "{}", form_post.body);
    pages.push(("form_post".to_owned(), form_post));
    let forged = w
        .browser
        .post("/logout", &[("confirm".into(), "yes".into())])
        .await;
    pages.push(("a CSRF refusal".to_owned(), forged));
    for (path, page) in pages {
        let csp = page
            .headers
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'"),
            "{path} ({}): {csp:?}",
            page.status
        );
        assert_eq!(
            page.headers
                .get("x-frame-options")
                .map(|v| v.to_str().unwrap()),
            Some("DENY"),
            "{path}"
        );
        assert_eq!(
            page.headers
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{path}"
        );
    }
    w.server.stop().await;
}
