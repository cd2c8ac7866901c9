//! Authorization request options of OIDC Core 3.1.2.1 and 5.5: id_token_hint with prompt=none,
//! max_age, the claims parameter, and the sensitive id_number scope.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::flow::{self, authorize_url, userinfo};
use common::{id_number, ClientSpec, TestServer, PASSWORD};

#[actix_web::test]
async fn id_token_hint_with_prompt_none() {
    let server = TestServer::start().await;
    let alice = id_number(33, 71);
    let bob = id_number(51, 72);
    server.user(&alice, PASSWORD).await;
    server.another_user(&bob, "李四").await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let alice_id = flow::tokens(&server, &browser, &app, &alice, PASSWORD, &[])
        .await
        .str("id_token");
    let bob_id = flow::tokens(
        &server,
        &Browser::new(&server.base),
        &app,
        &bob,
        PASSWORD,
        &[],
    )
    .await
    .str("id_token");

    let silent = |hint: &str| {
        authorize_url(
            &server,
            &app,
            &[("prompt", "none"), ("id_token_hint", hint)],
        )
    };
    let page = browser.get(&silent(&alice_id)).await;
    let q = query_of(page.location.as_deref().unwrap());
    assert!(q.contains_key("code"), "{q:?}");
    // The hint names someone else than the browser's user.
    let page = browser.get(&silent(&bob_id)).await;
    let q = query_of(page.location.as_deref().unwrap());
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("login_required"),
        "{q:?}"
    );
    // A hint we did not sign.
    let mut forged = alice_id.clone();
    forged.pop();
    forged.push(if alice_id.ends_with('A') { 'B' } else { 'A' });
    let page = browser.get(&silent(&forged)).await;
    let q = query_of(page.location.as_deref().unwrap());
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("invalid_request"),
        "{q:?}"
    );
    assert_eq!(q.get("state").map(String::as_str), Some("st-1"));
    server.stop().await;
}

#[actix_web::test]
async fn max_age_forces_a_new_login_and_auth_time_moves() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 73);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let first = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    let (_, claims) = flow::jwt_parts(&first.str("id_token"));
    let first_auth = claims["auth_time"].as_i64().unwrap();

    server.clock.advance(10);
    // Recent enough: no login page.
    let page = browser
        .get(&authorize_url(&server, &app, &[("max_age", "20")]))
        .await;
    let code = query_of(page.location.as_deref().unwrap())["code"].clone();
    let r = flow::redeem(&server, &app, &code, &[]).await;
    let (_, claims) = flow::jwt_parts(&r.str("id_token"));
    assert_eq!(claims["auth_time"].as_i64(), Some(first_auth));

    for max_age in ["5", "0"] {
        server.clock.advance(1);
        let url = authorize_url(&server, &app, &[("max_age", max_age)]);
        let page = browser.follow(browser.get(&url).await).await;
        assert!(
            page.body.contains(r#"name="password""#),
            "max_age={max_age}: login again"
        );
        let page = browser
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
        let code = query_of(page.location.as_deref().unwrap())["code"].clone();
        let r = flow::redeem(&server, &app, &code, &[]).await;
        let (_, claims) = flow::jwt_parts(&r.str("id_token"));
        assert_eq!(
            claims["auth_time"].as_i64(),
            Some(flow::now(&server)),
            "{max_age}"
        );
        assert!(claims["auth_time"].as_i64().unwrap() > first_auth);
    }
    // Malformed max_age goes back to the app.
    let page = browser
        .get(&authorize_url(&server, &app, &[("max_age", "-1")]))
        .await;
    let q = query_of(page.location.as_deref().unwrap());
    assert_eq!(q.get("error").map(String::as_str), Some("invalid_request"));
    server.stop().await;
}

#[actix_web::test]
async fn the_claims_parameter_releases_what_it_asks_for_but_never_the_id_number() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 74);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let claims = r#"{"userinfo":{"email":null,"id_number":{"essential":true}},"id_token":{"phone_number":null}}"#;
    let r = flow::tokens(
        &server,
        &browser,
        &app,
        &citizen,
        PASSWORD,
        &[("claims", claims)],
    )
    .await;
    let info = userinfo(&server, Some(&r.str("access_token"))).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json["email"], "zhangsan@example.cn");
    assert!(info.json.get("name").is_none(), "{}", info.json);
    assert!(info.json.get("id_number").is_none(), "{}", info.json);
    assert!(!info.json.to_string().contains(&citizen));
    let (_, id_claims) = flow::jwt_parts(&r.str("id_token"));
    assert_eq!(id_claims["phone_number"], "+8613800138000");
    assert!(id_claims.get("email").is_none());
    // Not JSON: refused at the redirect URI.
    let page = browser
        .get(&authorize_url(&server, &app, &[("claims", "{not json")]))
        .await;
    let q = query_of(page.location.as_deref().unwrap());
    assert_eq!(q.get("error").map(String::as_str), Some("invalid_request"));
    server.stop().await;
}

#[actix_web::test]
async fn the_id_number_needs_its_scope_and_the_citizens_consent() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 75);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    // First only openid: no id_number.
    let r = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    let info = userinfo(&server, Some(&r.str("access_token"))).await;
    assert!(info.json.get("id_number").is_none());

    // Asking for it shows the consent page again, with the item marked sensitive.
    let url = authorize_url(&server, &app, &[("scope", "openid id_number")]);
    let page = browser.follow(browser.get(&url).await).await;
    assert!(
        page.body
            .contains(r#"<li class="sensitive">您的身份证号码（敏感信息）</li>"#),
        "{}",
        page.body
    );
    let landed = browser
        .submit(&page, "decision", &[("decision", "allow")])
        .await;
    let code = query_of(landed.location.as_deref().unwrap())["code"].clone();
    let r = flow::redeem(&server, &app, &code, &[]).await;
    assert_eq!(r.json["scope"], "id_number openid");
    let info = userinfo(&server, Some(&r.str("access_token"))).await;
    assert_eq!(info.json["id_number"], citizen.as_str());
    assert!(!r.str("id_token").is_empty());
    let (_, id_claims) = flow::jwt_parts(&r.str("id_token"));
    assert!(id_claims.get("id_number").is_none(), "not in the ID token");

    // An app not registered for the scope never gets it, consent or not.
    let limited = server
        .client(ClientSpec {
            scopes: vec!["openid".into(), "profile".into()],
            ..ClientSpec::default()
        })
        .await;
    let r = flow::tokens(
        &server,
        &browser,
        &limited,
        &citizen,
        PASSWORD,
        &[("scope", "openid id_number")],
    )
    .await;
    assert_eq!(r.json["scope"], "openid");
    let info = userinfo(&server, Some(&r.str("access_token"))).await;
    assert!(info.json.get("id_number").is_none());
    server.stop().await;
}

#[actix_web::test]
async fn prompt_login_and_prompt_consent_ask_again() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 76);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let first = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    let (_, claims) = flow::jwt_parts(&first.str("id_token"));
    server.clock.advance(3);
    let page = browser
        .follow(
            browser
                .get(&authorize_url(&server, &app, &[("prompt", "login")]))
                .await,
        )
        .await;
    assert!(
        page.body.contains(r#"name="password""#),
        "prompt=login shows the login page"
    );
    let code = flow::code(
        &server,
        &browser,
        &app,
        &citizen,
        PASSWORD,
        &[("prompt", "login")],
    )
    .await;
    let r = flow::redeem(&server, &app, &code, &[]).await;
    let (_, again) = flow::jwt_parts(&r.str("id_token"));
    assert!(again["auth_time"].as_i64() > claims["auth_time"].as_i64());
    let page = browser
        .follow(
            browser
                .get(&authorize_url(&server, &app, &[("prompt", "consent")]))
                .await,
        )
        .await;
    assert!(
        page.body.contains(r#"name="decision""#),
        "prompt=consent asks again"
    );
    server.stop().await;
}

#[actix_web::test]
async fn sessions_and_unfinished_requests_expire() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 77);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    // A request left on the login page for more than 15 minutes is gone.
    let page = browser
        .follow(browser.get(&authorize_url(&server, &app, &[])).await)
        .await;
    server.clock.advance(15 * 60 + 1);
    let late = browser
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
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(late.location.is_none());
    assert!(late.body.contains("已过期"), "{}", late.body);
    // The login itself happened: a new request needs no password, only consent.
    flow::code(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    let silent = authorize_url(&server, &app, &[("prompt", "none")]);
    let q = query_of(browser.get(&silent).await.location.as_deref().unwrap());
    assert!(q.contains_key("code"), "{q:?}");
    // After eight hours the session is over.
    server.clock.advance(8 * 3600 + 1);
    let q = query_of(browser.get(&silent).await.location.as_deref().unwrap());
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("login_required"),
        "{q:?}"
    );
    server.stop().await;
}
