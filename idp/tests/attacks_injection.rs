//! SQL and HTML injection in every text field a stranger or an app controls: an app's name,
//! contacts and URIs through dynamic registration, a citizen's name, a passkey's name, login
//! names, client ids, codes, hints, `state`, `ui_locales`. Stored and echoed verbatim (JSON),
//! shown escaped (pages), never executed; the queries they pass through are unaffected.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser, Page};
use common::flow;
use common::passkey::Phone;
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, GrantType};
use serde_json::{json, Value};

/// SQL and markup at once: whatever interprets it would show.
const PAYLOAD: &str =
    "<script>alert('x')</script>\"><img src=x onerror=alert(1)>'; DROP TABLE clients; -- {{7*7}}";
/// Fits a passkey name (40 characters at most).
const SHORT: &str = "\"><svg onload=alert(1)>' OR '1'='1";
const SQL: [&str; 5] = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "x'); DROP TABLE users; --",
    "\" OR \"\"=\"",
    "1; SELECT pg_sleep(10) --",
];

/// Nothing of the markup survives as markup, and the text is there, escaped.
fn assert_shown_escaped(page: &Page, what: &str) {
    for raw in [
        "<script>alert",
        "<img src=x",
        "<svg onload",
        "onerror=alert(1)>",
    ] {
        assert!(!page.body.contains(raw), "{what}: {raw} in the page");
    }
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
            || page.body.contains("&quot;&gt;&lt;svg onload=alert(1)&gt;"),
        "{what}: the escaped text is missing:\n{}",
        page.body
    );
}

fn assert_no_markup(page: &Page, what: &str) {
    for raw in ["<script>alert", "<img src=x", "<svg onload"] {
        assert!(!page.body.contains(raw), "{what}: {raw} in the page");
    }
}

async fn counts(server: &TestServer) -> (usize, usize) {
    server
        .with(|s| {
            let clients = s.store.clients().unwrap().len();
            let audit = s.store.audit_recent(None, 10_000).unwrap().len();
            (clients, audit)
        })
        .await
}

#[actix_web::test]
async fn what_apps_and_citizens_name_is_stored_verbatim_and_shown_escaped() {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 261);
    server.another_user(&citizen, PAYLOAD).await;
    let token = server
        .with(|s| idp::flows::clients::issue_registration_token(s, true, 3600, "test").unwrap())
        .await;
    let metadata = json!({
        "client_name": PAYLOAD,
        "redirect_uris": ["https://app.example/cb"],
        "contacts": [PAYLOAD],
        "logo_uri": "https://app.example/logo.png?a=\"><script>alert(1)</script>",
        "client_uri": "javascript:alert(1)",
        "policy_uri": PAYLOAD,
        "tos_uri": PAYLOAD,
        "software_id": PAYLOAD,
        "scope": "openid profile",
    });
    let r = flow::http()
        .post(server.url("/register"))
        .bearer_auth(&token)
        .json(&metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let registered: Value = r.json().await.unwrap();
    for key in [
        "client_name",
        "contacts",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
        "software_id",
    ] {
        assert_eq!(registered[key], metadata[key], "{key} is echoed verbatim");
    }
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let read: Value = flow::http()
        .get(server.url(&format!("/register/{client_id}")))
        .bearer_auth(registered["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["client_name"], PAYLOAD, "and read back verbatim");
    assert_eq!(read["contacts"], json!([PAYLOAD]));
    let app = TestClient {
        client_id,
        client_secret: registered["client_secret"].as_str().map(str::to_owned),
        redirect_uri: "https://app.example/cb".into(),
    };

    // The login page of the app's request, then its consent page.
    let browser = Browser::new(&server.base);
    let url = flow::authorize_url(&server, &app, &[("scope", "openid profile")]);
    let login = browser.follow(browser.get(&url).await).await;
    assert!(login.body.contains(r#"name="password""#), "{}", login.body);
    assert_shown_escaped(&login, "the login page");
    let consent = browser
        .follow(
            browser
                .submit(
                    &login,
                    "password",
                    &[("username", &citizen), ("password", PASSWORD)],
                )
                .await,
        )
        .await;
    assert!(
        consent.body.contains(r#"name="decision""#),
        "{}",
        consent.body
    );
    assert_shown_escaped(&consent, "the consent page");
    let back = browser
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    let location = back.location.unwrap();
    assert!(
        location.starts_with("https://app.example/cb?"),
        "{location}"
    );
    // The citizen's name reaches the app verbatim, in JSON.
    let tokens = flow::redeem(&server, &app, &query_of(&location)["code"], &[]).await;
    let info = flow::userinfo(&server, Some(&tokens.str("access_token"))).await;
    assert_eq!(info.json["name"], PAYLOAD);

    // A passkey named by the citizen, and the account page that lists name, passkey and app.
    let mut phone = Phone::new(&server.base);
    let bound = phone.bind(&browser, SHORT).await;
    assert_eq!(bound.status, 201, "{}", bound.json);
    assert_eq!(bound.json["name"], SHORT);
    let account = browser.get("/account").await;
    assert_eq!(account.status, 200);
    assert_shown_escaped(&account, "the account page");
    assert!(
        account
            .body
            .contains("&quot;&gt;&lt;svg onload=alert(1)&gt;&#39; OR &#39;1&#39;=&#39;1"),
        "the passkey's name, escaped"
    );

    // A kiosk operators named so: its confirmation page.
    let kiosk = server
        .client(ClientSpec {
            name: PAYLOAD.into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::DeviceCode],
            ..ClientSpec::default()
        })
        .await;
    let start = flow::post_form(
        &server,
        "/device_authorization",
        None,
        &[("client_id", &kiosk.client_id), ("scope", "openid")],
    )
    .await;
    let confirm = browser
        .get(&format!("/device?user_code={}", start.str("user_code")))
        .await;
    assert!(
        confirm.body.contains(r#"name="decision""#),
        "{}",
        confirm.body
    );
    assert_shown_escaped(&confirm, "the kiosk confirmation page");
    server.stop().await;
}

#[actix_web::test]
async fn what_a_request_carries_is_never_markup_on_our_pages() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 262);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let anonymous = Browser::new(&server.base);
    let markup = "\"><script>alert(1)</script><img src=x onerror=alert(1)>";
    for (what, extra) in [
        ("login_hint", vec![("login_hint", markup)]),
        ("ui_locales", vec![("ui_locales", markup)]),
        ("acr_values", vec![("acr_values", markup)]),
        ("claims", vec![("claims", markup)]),
        ("nonce", vec![("nonce", markup)]),
    ] {
        let url = flow::authorize_url(&server, &app, &extra);
        let page = anonymous.follow(anonymous.get(&url).await).await;
        assert_no_markup(&page, what);
        if let Some(loc) = &page.location {
            assert!(!loc.contains('<') && !loc.contains('"'), "{what}: {loc}");
        }
    }
    // `state` travels back in an error redirect, encoded.
    let url = flow::authorize_url(&server, &app, &[("prompt", "none"), ("state", markup)]);
    let page = anonymous.get(&url).await;
    let loc = page.location.unwrap();
    assert!(!loc.contains('<') && !loc.contains('"'), "{loc}");
    assert_eq!(query_of(&loc)["state"], markup, "and comes back intact");
    // Error pages do not echo what they refuse.
    for (what, extra) in [
        ("client_id", vec![("client_id", markup)]),
        ("redirect_uri", vec![("redirect_uri", markup)]),
    ] {
        let page = anonymous
            .get(&flow::authorize_url(&server, &app, &extra))
            .await;
        assert_eq!(page.status, 400, "{what}");
        assert_no_markup(&page, what);
    }
    // The kiosk page shows back what was typed, escaped.
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("user_code", markup)
        .finish();
    let page = browser.get(&format!("/device?{q}")).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_no_markup(&page, "a typed kiosk code");
    // Logout carries its parameters into a confirmation form, escaped.
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", markup)
        .append_pair("ui_locales", markup)
        .finish();
    let page = browser.get(&format!("/logout?{q}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_no_markup(&page, "the logout confirmation");
    server.stop().await;
}

#[actix_web::test]
async fn sql_in_login_names_client_ids_and_codes_changes_no_query() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 263);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let before = counts(&server).await;
    let mut refused = 0;
    for sql in SQL {
        // As a login name and as a password: the same answer as any wrong password.
        for (user, password) in [(sql, sql), (citizen.as_str(), sql)] {
            let browser = Browser::new(&server.base);
            let page = flow::login(&browser, user, password).await;
            assert_eq!(page.status, 401, "{sql}: {}", page.body);
            assert!(flow::set_cookie(&page, "idp_session").is_none(), "{sql}");
            refused += 1;
        }
        // As a client id: at the authorization endpoint, and as credentials at the token endpoint.
        let page = Browser::new(&server.base)
            .get(&flow::authorize_url(&server, &app, &[("client_id", sql)]))
            .await;
        assert_eq!(page.status, 400, "{sql}");
        assert!(page.body.contains("未在平台注册"), "{sql}: {}", page.body);
        let r = flow::post_form(
            &server,
            "/token",
            Some((sql, sql)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!((r.status, r.error()), (401, "invalid_client"), "{sql}");
        // As a code, a refresh token, a token to introspect or revoke.
        for (grant, field) in [
            ("authorization_code", "code"),
            ("refresh_token", "refresh_token"),
        ] {
            let r = flow::as_client(
                &server,
                &app,
                "/token",
                &[
                    ("grant_type", grant),
                    (field, sql),
                    ("redirect_uri", &app.redirect_uri),
                ],
            )
            .await;
            assert_eq!(
                (r.status, r.error()),
                (400, "invalid_grant"),
                "{sql} as {field}"
            );
        }
        let r = flow::as_client(&server, &app, "/introspect", &[("token", sql)]).await;
        assert_eq!(r.json, json!({"active": false}), "{sql}");
        let r = flow::as_client(&server, &app, "/revoke", &[("token", sql)]).await;
        assert_eq!(r.status, 200, "{sql}");
        // As a registration to read, a parked request, a kiosk code.
        let r = flow::http()
            .get(server.url(&format!(
                "/register/{}",
                url::form_urlencoded::byte_serialize(sql.as_bytes()).collect::<String>()
            )))
            .bearer_auth(sql)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{sql}");
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("req", sql)
            .finish();
        let page = Browser::new(&server.base)
            .get(&format!("/consent?{q}"))
            .await;
        assert_eq!(page.status, 400, "{sql}: {}", page.body);
    }
    // The one real login still works (after the lock the wrong passwords earned), the tables
    // are all there and hold what they held.
    server.clock.advance(901);
    let browser = Browser::new(&server.base);
    assert_eq!(flow::login(&browser, &citizen, PASSWORD).await.status, 303);
    let (clients, audit) = counts(&server).await;
    assert_eq!(clients, before.0, "no client appeared or vanished");
    assert!(
        audit >= before.1 + refused,
        "every refused login was audited: {audit} < {} + {refused}",
        before.1
    );
    let ok = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    assert_eq!(ok.status, 200);
    server.stop().await;
}
