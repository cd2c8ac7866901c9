//! The pages a citizen sees: CSRF, clear error messages, cookies,
//! security headers, language, elder mode, safe redirects and the form_post response mode.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_containing, query_of, Browser, Page};
use common::flow::{self, authorize_url, browser_with, set_cookie};
use common::{id_number, ClientSpec, TestServer, PASSWORD};

async fn try_login(browser: &Browser, user: &str, password: &str) -> Page {
    flow::login(browser, user, password).await
}

/// The error paragraph of a login page.
fn error_text(page: &Page) -> &str {
    let start = page
        .body
        .find(r#"<p class="error""#)
        .expect("an error message");
    let end = page.body[start..].find("</p>").unwrap() + start;
    &page.body[start..end]
}

async fn logged_in(browser: &Browser) -> bool {
    let home = browser.get("/").await;
    home.status == 200 && home.location.is_none()
}

#[actix_web::test]
async fn login_without_a_valid_csrf_token_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 41);
    server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    let page = browser.get("/login").await;
    let token = form_containing(&page.body, "password")
        .unwrap()
        .hidden
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .unwrap()
        .1;
    let creds = |csrf: Option<&str>| {
        let mut f = vec![
            ("username".to_owned(), citizen.clone()),
            ("password".to_owned(), PASSWORD.to_owned()),
        ];
        if let Some(c) = csrf {
            f.push(("csrf".to_owned(), c.to_owned()));
        }
        f
    };
    for (what, csrf) in [("missing", None), ("wrong", Some("AAAA"))] {
        let r = browser.post("/login", &creds(csrf)).await;
        assert_eq!(r.status, 403, "{what}");
        assert!(r.body.contains("页面已过期"), "{what}: {}", r.body);
        assert!(set_cookie(&r, "idp_session").is_none(), "{what}");
    }
    // A valid token from another browser's page does not fit this browser's cookie.
    let other = Browser::new(&server.base);
    other.get("/login").await;
    let r = other.post("/login", &creds(Some(&token))).await;
    assert_eq!(r.status, 403);
    assert!(!logged_in(&browser).await && !logged_in(&other).await);
    // With its own token the same form logs in.
    let ok = browser.post("/login", &creds(Some(&token))).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(logged_in(&browser).await);
    server.stop().await;
}

#[actix_web::test]
async fn consent_without_a_valid_csrf_token_stores_nothing() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 42);
    let sub = server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let mut page = browser
        .follow(browser.get(&authorize_url(&server, &app, &[])).await)
        .await;
    page = browser
        .follow(
            browser
                .submit(
                    &page,
                    "password",
                    &[("username", &citizen), ("password", PASSWORD)],
                )
                .await,
        )
        .await;
    let form = form_containing(&page.body, "decision").unwrap();
    let req = form
        .hidden
        .iter()
        .find(|(k, _)| k == "req")
        .unwrap()
        .1
        .clone();
    for csrf in [None, Some("forged")] {
        let mut f = vec![
            ("req".to_owned(), req.clone()),
            ("decision".to_owned(), "allow".to_owned()),
        ];
        if let Some(c) = csrf {
            f.push(("csrf".to_owned(), c.to_owned()));
        }
        let r = browser.post("/consent", &f).await;
        assert_eq!(r.status, 403, "{csrf:?}");
        assert!(r.location.is_none());
    }
    let (s, c) = (sub.clone(), app.client_id.clone());
    let stored = server
        .with(move |svc| svc.store.consent(&s, &c).unwrap())
        .await;
    assert_eq!(stored, None);
    // The genuine form still works afterwards.
    let done = browser
        .submit(&page, "decision", &[("decision", "allow")])
        .await;
    assert!(query_of(done.location.as_deref().unwrap()).contains_key("code"));
    let c = app.client_id.clone();
    let stored = server
        .with(move |svc| svc.store.consent(&sub, &c).unwrap())
        .await;
    assert_eq!(stored.as_deref(), Some("openid"));
    server.stop().await;
}

#[actix_web::test]
async fn a_wrong_check_digit_is_told_precisely_in_the_users_language() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 43);
    server.user(&citizen, PASSWORD).await;
    let last = citizen.chars().last().unwrap();
    let typo = format!("{}{}", &citizen[..17], if last == '1' { '2' } else { '1' });
    let zh = try_login(&Browser::new(&server.base), &typo, PASSWORD).await;
    assert_eq!(zh.status, 400);
    assert!(error_text(&zh).contains("校验位"), "{}", zh.body);
    assert!(
        !zh.body.contains(&typo),
        "the typed ID number is not echoed"
    );
    let en = try_login(
        &browser_with(&server.base, Some("en"), &[]),
        &typo,
        PASSWORD,
    )
    .await;
    assert_eq!(en.status, 400);
    assert!(error_text(&en).contains("check digit"), "{}", en.body);
    assert!(en.body.contains(r#"lang="en""#));
    server.stop().await;
}

#[actix_web::test]
async fn the_session_cookie_is_strict_and_new_at_every_login() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 49);
    server.user(&citizen, PASSWORD).await;
    let planted = "idp_session=attacker-chosen-value-0123456789";
    let browser = browser_with(&server.base, None, &[planted]);
    assert!(!logged_in(&browser).await, "a planted value is no session");
    let first = try_login(&browser, &citizen, PASSWORD).await;
    assert_eq!(first.status, 303);
    let cookie = set_cookie(&first, "idp_session").expect("a session cookie");
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    let value = attrs[0].trim_start_matches("idp_session=").to_owned();
    assert_ne!(value, "attacker-chosen-value-0123456789");
    assert!(value.len() >= 40, "{value}");
    for needed in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attrs.contains(&needed), "{needed} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "http issuer: no Secure: {cookie}"
    );
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "{cookie}"
    );
    assert!(logged_in(&browser).await);
    let second = try_login(&browser, &citizen, PASSWORD).await;
    let again = set_cookie(&second, "idp_session").unwrap();
    assert_ne!(
        again.split(';').next().unwrap(),
        attrs[0],
        "a new id each login"
    );
    server.stop().await;
}

#[actix_web::test]
async fn pages_carry_the_security_headers() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let bad = authorize_url(&server, &app, &[("redirect_uri", "https://evil.example/")]);
    for page in [
        browser.get("/login").await,
        browser.get(&bad).await,
        browser.get("/logout").await,
    ] {
        let h = |n: &str| page.headers.get(n).map(|v| v.to_str().unwrap().to_owned());
        let csp = h("content-security-policy").expect("CSP");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(h("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"));
    }
    server.stop().await;
}

#[actix_web::test]
async fn ui_locales_chooses_the_language_of_the_login_page() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let zh = browser
        .follow(browser.get(&authorize_url(&server, &app, &[])).await)
        .await;
    assert!(zh.body.contains(r#"<html lang="zh-CN">"#) && zh.body.contains("身份证号码"));
    let en = browser
        .follow(
            browser
                .get(&authorize_url(&server, &app, &[("ui_locales", "fr en")]))
                .await,
        )
        .await;
    assert!(en.body.contains(r#"<html lang="en">"#), "{}", en.body);
    assert!(en.body.contains("Log in with your ID number"));
    server.stop().await;
}

#[actix_web::test]
async fn elder_mode_is_remembered_and_return_to_stays_on_the_site() {
    let server = TestServer::start().await;
    let browser = Browser::new(&server.base);
    assert!(browser
        .get("/login")
        .await
        .body
        .contains(r#"<body class="">"#));
    let set = browser.get("/prefs?elder=1&return_to=/login").await;
    assert_eq!(set.status, 302);
    assert_eq!(set.location.as_deref(), Some("/login"));
    let cookie = set_cookie(&set, "idp_elder").expect("elder cookie");
    assert!(cookie.starts_with("idp_elder=1;"), "{cookie}");
    assert!(browser
        .get("/login")
        .await
        .body
        .contains(r#"<body class="elder">"#));
    for evil in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "evil",
    ] {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("elder", "0")
            .append_pair("return_to", evil)
            .finish();
        let r = browser.get(&format!("/prefs?{q}")).await;
        assert_eq!(r.location.as_deref(), Some("/"), "{evil}");
    }
    assert!(browser
        .get("/login")
        .await
        .body
        .contains(r#"<body class="">"#));
    server.stop().await;
}

#[actix_web::test]
async fn form_post_answers_with_an_auto_post_form_to_the_app() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 50);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let state = r#"s"><script>alert(1)</script>"#;
    let url = authorize_url(
        &server,
        &app,
        &[("response_mode", "form_post"), ("state", state)],
    );
    let page = browser.authorize(&url, &citizen, PASSWORD).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.location.is_none());
    assert!(!page.body.contains("<script>alert"), "state is escaped");
    let form = form_containing(&page.body, "code").expect("an auto-post form");
    assert_eq!(form.action, app.redirect_uri);
    let hidden: std::collections::HashMap<_, _> = form.hidden.into_iter().collect();
    assert!(hidden["code"].len() >= 40);
    assert_eq!(hidden["state"], state);
    assert_eq!(hidden["iss"], server.base);
    assert!(page.body.contains(r#"method="post""#));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action http://127.0.0.1:9"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // The code in the form is a real one.
    let r = flow::redeem(&server, &app, &hidden["code"], &[]).await;
    assert_eq!(r.status, 200, "{}", r.json);
    server.stop().await;
}

#[actix_web::test]
async fn on_an_https_issuer_cookies_are_secure_and_host_bound() {
    let server = TestServer::start_with(|c| c.issuer = "https://idp.example".into()).await;
    let page = Browser::new(&server.base).get("/login").await;
    let csrf = set_cookie(&page, "__Host-idp_csrf").expect("a __Host- CSRF cookie");
    for needed in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            csrf.split(';').any(|a| a.trim() == needed),
            "{needed} in {csrf}"
        );
    }
    assert!(!csrf.contains("Domain"), "{csrf}");
    server.stop().await;
}

#[actix_web::test]
async fn a_login_hint_is_prefilled_only_when_it_is_not_an_id_number() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let citizen = id_number(33, 52);
    let page = browser
        .follow(
            browser
                .get(&authorize_url(&server, &app, &[("login_hint", &citizen)]))
                .await,
        )
        .await;
    assert!(page.body.contains(r#"name="password""#));
    assert!(
        !page.body.contains(&citizen),
        "an ID number is not put into the page"
    );
    let page = browser
        .follow(
            browser
                .get(&authorize_url(
                    &server,
                    &app,
                    &[("login_hint", "13800138000")],
                ))
                .await,
        )
        .await;
    assert!(
        page.body.contains(r#"value="13800138000""#),
        "{}",
        page.body
    );
    server.stop().await;
}

/// Browsers apply `form-action` to the redirects that follow a form submission: the login,
/// consent and logout forms, whose answers end at the app, must allow the app's origin (and
/// only it) besides our own.
#[actix_web::test]
async fn forms_that_end_at_the_app_allow_exactly_the_apps_origin() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let form_action = |page: &common::browser::Page| {
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with("form-action"))
            .unwrap()
            .to_owned()
    };
    let login = browser
        .follow(browser.get(&flow::authorize_url(&server, &app, &[])).await)
        .await;
    assert_eq!(form_action(&login), "form-action 'self' http://127.0.0.1:9");
    let failed = browser
        .submit(
            &login,
            "password",
            &[("username", "13900000000"), ("password", "x")],
        )
        .await;
    assert_eq!(failed.status, 401);
    assert_eq!(
        form_action(&failed),
        "form-action 'self' http://127.0.0.1:9"
    );
    assert_eq!(
        form_action(&browser.get("/login").await),
        "form-action 'self'",
        "the plain login page allows nothing else"
    );
    server.user(&id_number(33, 71), PASSWORD).await;
    let consent = browser
        .follow(
            browser
                .submit(
                    &login,
                    "password",
                    &[("username", &id_number(33, 71)), ("password", PASSWORD)],
                )
                .await,
        )
        .await;
    assert!(
        consent.body.contains(r#"name="decision""#),
        "{}",
        consent.body
    );
    assert_eq!(
        form_action(&consent),
        "form-action 'self' http://127.0.0.1:9"
    );
    server.stop().await;
}
