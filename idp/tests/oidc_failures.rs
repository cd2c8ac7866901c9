//! The authorization endpoint refuses bad requests: with an error page (and no redirect) while
//! the client or its redirect URI cannot be trusted, and afterwards with an error sent back to
//! the redirect URI (RFC 6749 4.1.2.1) carrying `state` and `iss` (RFC 9207).
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser, Page};
use common::flow::{self, authorize_url};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, ClientStatus, GrantType};
use idp::flows::clients;
use serde_json::json;

/// (what, extra parameters, expected page text)
type UntrustedCase<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
/// (what, extra parameters, expected error codes separated by `|`)
type RedirectCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

fn assert_error_page(page: &Page, what: &str) {
    assert_eq!(page.status, 400, "{what}: {}", page.body);
    assert!(page.location.is_none(), "{what}: must not redirect");
    let ct = page.headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("text/html"), "{what}: {ct}");
    assert!(page.body.contains(r#"class="message""#), "{what}");
}

/// The error redirected to the app: checks target, `state` and `iss`; returns `error`.
fn redirected_error(server: &TestServer, client: &TestClient, page: &Page) -> String {
    let loc = page
        .location
        .clone()
        .unwrap_or_else(|| panic!("expected a redirect, got {} {}", page.status, page.body));
    assert!(
        loc.starts_with(&format!("{}?", client.redirect_uri)),
        "{loc}"
    );
    let q = query_of(&loc);
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"), "{loc}");
    assert_eq!(q.get("iss"), Some(&server.base), "{loc}");
    assert!(!q.contains_key("code"), "{loc}");
    q.get("error").cloned().unwrap_or_default()
}

async fn client_with_status(server: &TestServer, status: Option<ClientStatus>) -> TestClient {
    let client = server
        .client(ClientSpec {
            approve: status.is_none(),
            ..ClientSpec::default()
        })
        .await;
    if let Some(status) = status.filter(|s| *s != ClientStatus::Pending) {
        let id = client.client_id.clone();
        server
            .with(move |s| clients::set_status(s, &id, status, Some("test"), "test").unwrap())
            .await;
    }
    client
}

#[actix_web::test]
async fn untrusted_client_or_redirect_uri_gets_an_error_page_and_no_redirect() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let cases: [UntrustedCase; 7] = [
        (
            "unregistered redirect_uri",
            &[("redirect_uri", "https://evil.example/cb")],
            "回调地址未经登记",
        ),
        (
            "redirect_uri with an extra path",
            &[("redirect_uri", "http://127.0.0.1:9/cb/more")],
            "回调地址未经登记",
        ),
        (
            "redirect_uri with a query added",
            &[("redirect_uri", "http://127.0.0.1:9/cb?x=1")],
            "回调地址未经登记",
        ),
        (
            "unknown client_id",
            &[("client_id", "no-such-app")],
            "未在平台注册",
        ),
        ("missing client_id", &[("client_id", "")], "缺少必要参数"),
        (
            "missing redirect_uri",
            &[("redirect_uri", "")],
            "缺少必要参数",
        ),
        (
            "unregistered redirect_uri with a bad response_type too",
            &[
                ("redirect_uri", "https://evil.example/cb"),
                ("response_type", "token"),
            ],
            "回调地址未经登记",
        ),
    ];
    for (what, extra, message) in cases {
        let page = browser.get(&authorize_url(&server, &app, extra)).await;
        assert_error_page(&page, what);
        assert!(page.body.contains(message), "{what}: {}", page.body);
        assert!(!page.body.contains("evil.example"), "{what}");
    }
    // redirect_uri sent twice: nothing can be trusted.
    let twice = format!(
        "{}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        authorize_url(&server, &app, &[])
    );
    assert_error_page(&browser.get(&twice).await, "duplicate redirect_uri");
    server.stop().await;
}

#[actix_web::test]
async fn apps_that_are_not_approved_cannot_start_a_login() {
    let server = TestServer::start().await;
    let browser = Browser::new(&server.base);
    for status in [
        ClientStatus::Pending,
        ClientStatus::Suspended,
        ClientStatus::Rejected,
    ] {
        let client = client_with_status(&server, Some(status)).await;
        let page = browser.get(&authorize_url(&server, &client, &[])).await;
        assert_error_page(&page, status.as_str());
        assert!(page.body.contains("尚未通过审核或已被暂停"), "{status}");
    }
    // English, for a browser that asks for it.
    let suspended = client_with_status(&server, Some(ClientStatus::Suspended)).await;
    let page = browser
        .get(&authorize_url(&server, &suspended, &[("ui_locales", "en")]))
        .await;
    assert_error_page(&page, "suspended, English");
    assert!(page.body.contains("suspended"), "{}", page.body);
    server.stop().await;
}

#[actix_web::test]
async fn once_client_and_redirect_are_trusted_errors_go_back_to_the_app() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let (_, challenge) = flow::pkce();
    let numeric_client_id = unsigned_object(&json!({ "client_id": 123 }));
    let string_exp = unsigned_object(&json!({ "exp": "9999999999" }));
    let cases: [RedirectCase; 9] = [
        (
            "missing response_type",
            vec![("response_type", "")],
            "invalid_request",
        ),
        (
            "response_type=token",
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            "code_challenge_method=plain",
            vec![
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            "code_challenge_method without challenge",
            vec![("code_challenge_method", "S256")],
            "invalid_request",
        ),
        (
            "a request object that is no JWT",
            vec![("request", "not-a-jwt")],
            "invalid_request_object|request_not_supported",
        ),
        // Kept from fuzzing (fuzz/regressions/authorize): a client_id that is not the string
        // client_id, and an exp that is not a number, in an unsigned request object.
        (
            "a request object whose client_id is a number",
            vec![("request", numeric_client_id.as_str())],
            "invalid_request_object",
        ),
        (
            "a request object whose exp is a string",
            vec![("request", string_exp.as_str())],
            "invalid_request_object",
        ),
        (
            "no openid scope",
            vec![("scope", "profile")],
            "invalid_scope",
        ),
        (
            "unknown prompt",
            vec![("prompt", "sudo")],
            "invalid_request",
        ),
    ];
    for (what, extra, expected) in cases {
        let page = browser.get(&authorize_url(&server, &app, &extra)).await;
        assert_eq!(page.status, 302, "{what}");
        let error = redirected_error(&server, &app, &page);
        assert!(expected.split('|').any(|e| e == error), "{what}: {error}");
    }
    // A parameter sent twice (RFC 6749 3.1).
    let twice = format!("{}&scope=openid+profile", authorize_url(&server, &app, &[]));
    let page = browser.get(&twice).await;
    assert_eq!(redirected_error(&server, &app, &page), "invalid_request");
    // Nothing was parked, nobody was asked to log in.
    assert!(!page.location.unwrap().contains("/login"));
    server.stop().await;
}

// BUG: a parameter sent twice is accepted when one of the copies is empty (RFC 6749 3.1).
#[actix_web::test]
async fn a_parameter_sent_twice_is_refused_even_when_one_copy_is_empty() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let url = authorize_url(&server, &app, &[("response_type", "")]);
    let twice = url.replace(
        "/authorize?",
        "/authorize?response_type=&response_type=code&",
    );
    let page = browser.get(&twice).await;
    assert_eq!(redirected_error(&server, &app, &page), "invalid_request");
    server.stop().await;
}

#[actix_web::test]
async fn public_clients_must_use_pkce_s256() {
    let server = TestServer::start().await;
    let public = server
        .client(ClientSpec {
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            ..ClientSpec::default()
        })
        .await;
    assert!(public.client_secret.is_none());
    let browser = Browser::new(&server.base);
    let page = browser.get(&authorize_url(&server, &public, &[])).await;
    assert_eq!(redirected_error(&server, &public, &page), "invalid_request");
    let (_, challenge) = flow::pkce();
    let page = browser
        .get(&authorize_url(
            &server,
            &public,
            &[
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "plain"),
            ],
        ))
        .await;
    assert_eq!(redirected_error(&server, &public, &page), "invalid_request");
    // With S256 the request is fine: the citizen is asked to log in.
    let page = browser
        .get(&authorize_url(
            &server,
            &public,
            &[
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    assert!(
        page.location.as_deref().unwrap().starts_with("/login?req="),
        "{:?}",
        page.location
    );
    server.stop().await;
}

#[actix_web::test]
async fn prompt_none_fails_with_login_required_then_consent_required() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 21);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let silent = authorize_url(&server, &app, &[("prompt", "none")]);

    let page = browser.get(&silent).await;
    assert_eq!(redirected_error(&server, &app, &page), "login_required");

    let logged_in = flow::login(&browser, &citizen, PASSWORD).await;
    assert_eq!(logged_in.status, 303, "{}", logged_in.body);
    let page = browser.get(&silent).await;
    assert_eq!(redirected_error(&server, &app, &page), "consent_required");

    // After consenting once, the silent request gets a code.
    flow::code(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    let page = browser.get(&silent).await;
    let q = query_of(page.location.as_deref().unwrap());
    assert!(q.contains_key("code"), "{q:?}");
    assert_eq!(q.get("iss"), Some(&server.base));
    // prompt=none together with login is contradictory.
    let page = browser
        .get(&authorize_url(&server, &app, &[("prompt", "none login")]))
        .await;
    assert_eq!(redirected_error(&server, &app, &page), "invalid_request");
    server.stop().await;
}

#[actix_web::test]
async fn denying_consent_sends_access_denied_and_stores_nothing() {
    let server = TestServer::start().await;
    let citizen = id_number(51, 22);
    let sub = server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let url = authorize_url(&server, &app, &[("scope", "openid profile")]);
    let mut page = browser.follow(browser.get(&url).await).await;
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
    assert!(page.body.contains(r#"name="decision""#), "{}", page.body);
    let denied = browser
        .submit(&page, "decision", &[("decision", "deny")])
        .await;
    assert_eq!(denied.status, 302);
    assert_eq!(redirected_error(&server, &app, &denied), "access_denied");
    let client_id = app.client_id.clone();
    let stored = server
        .with(move |s| s.store.consent(&sub, &client_id).unwrap())
        .await;
    assert_eq!(stored, None, "a denial stores no consent");
    // The consent page comes again next time.
    let again = browser.follow(browser.get(&url).await).await;
    assert!(again.body.contains(r#"name="decision""#), "{}", again.body);
    server.stop().await;
}

// BUG: parameters after the 64th are silently dropped (Params::from_pairs, MAX_PARAMS), so a
// request padded with junk loses prompt=none (or max_age, or state) and proceeds without it.
#[actix_web::test]
async fn a_request_with_too_many_parameters_is_refused_not_truncated() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let mut url = authorize_url(&server, &app, &[]);
    for i in 0..64 {
        url.push_str(&format!("&x{i}=1"));
    }
    url.push_str("&prompt=none");
    let page = browser.get(&url).await;
    let loc = page.location.clone().unwrap_or_default();
    assert!(
        !loc.starts_with("/login"),
        "the request must not go on as if prompt=none had not been sent: {loc}"
    );
    assert!(
        page.status == 400 || loc.starts_with(&app.redirect_uri),
        "{loc}"
    );
    server.stop().await;
}

/// An unsigned request object (`alg: none`) carrying `claims`.
fn unsigned_object(claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.",
        common::flow::b64url(br#"{"alg":"none"}"#),
        common::flow::b64url(claims.to_string().as_bytes())
    )
}
