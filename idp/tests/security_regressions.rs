//! Regression tests for the findings of the security review of the foundation: each one
//! reproduces the attack and asserts it no longer works.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_containing, query_of, Browser};
use common::flow::{authorize_url, tokens, userinfo};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use idp::domain::client::ClientStatus;

#[actix_web::test]
async fn claims_asked_for_by_name_need_the_scope_and_its_consent() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 40);
    server.user(&citizen, PASSWORD).await;
    // An app allowed only openid asks for the phone number by name: nothing is released.
    let narrow = server
        .client(ClientSpec {
            scopes: vec!["openid".into()],
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    let claims =
        r#"{"userinfo":{"phone_number":null,"name":null},"id_token":{"phone_number":null}}"#;
    let t = tokens(
        &server,
        &browser,
        &narrow,
        &citizen,
        PASSWORD,
        &[("claims", claims)],
    )
    .await;
    let info = userinfo(&server, Some(&t.str("access_token"))).await;
    assert!(info.json.get("phone_number").is_none(), "{}", info.json);
    assert!(info.json.get("name").is_none(), "{}", info.json);
    let (_, id_claims) = common::flow::jwt_parts(&t.str("id_token"));
    assert!(id_claims.get("phone_number").is_none());

    // An app allowed the phone scope: asking by name puts the scope on the consent page.
    let app = server.client(ClientSpec::default()).await;
    let url = authorize_url(&server, &app, &[("claims", claims)]);
    let consent = browser.follow(browser.get(&url).await).await;
    assert!(
        consent.body.contains("您的手机号码"),
        "the consent page names the phone number"
    );
    let back = browser
        .follow(
            browser
                .submit(&consent, "decision", &[("decision", "allow")])
                .await,
        )
        .await;
    let code = query_of(&back.location.unwrap())["code"].clone();
    let t = common::flow::redeem(&server, &app, &code, &[]).await;
    let (_, id_claims) = common::flow::jwt_parts(&t.str("id_token"));
    assert_eq!(
        id_claims["phone_number"], "+8613800138000",
        "consented, asked for in the ID token"
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_consent_given_by_one_citizen_does_not_carry_over_to_another() {
    let server = TestServer::start().await;
    let (attacker, victim) = (id_number(33, 41), id_number(33, 42));
    server.user(&attacker, PASSWORD).await;
    server.another_user(&victim, "王五").await;
    let app = server.client(ClientSpec::default()).await;
    // The attacker has a session of their own.
    let attacker_browser = Browser::new(&server.base);
    let plain = authorize_url(&server, &app, &[]);
    let first = attacker_browser
        .authorize(&plain, &attacker, PASSWORD)
        .await;
    assert!(first.location.is_some());
    // They park a request that asks for the ID number and forces a fresh login...
    let url = authorize_url(
        &server,
        &app,
        &[("scope", "openid id_number"), ("prompt", "login")],
    );
    let login = attacker_browser
        .follow(attacker_browser.get(&url).await)
        .await;
    let form = form_containing(&login.body, "password").unwrap();
    let req = form
        .hidden
        .iter()
        .find(|(k, _)| k == "req")
        .unwrap()
        .1
        .clone();
    // ...open its consent page directly and allow it (the request still waits for a login)...
    let consent = attacker_browser.get(&format!("/consent?req={req}")).await;
    assert!(
        form_containing(&consent.body, "decision").is_some(),
        "{}",
        consent.body
    );
    let after_consent = attacker_browser
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    assert!(
        after_consent.location.unwrap().starts_with("/login"),
        "prompt=login still wants a login"
    );
    // ...and hand the request to the victim, who logs in.
    let victim_browser = Browser::new(&server.base);
    let page = victim_browser.get(&format!("/login?req={req}")).await;
    let after = victim_browser
        .follow(
            victim_browser
                .submit(
                    &page,
                    "password",
                    &[("username", &victim), ("password", PASSWORD)],
                )
                .await,
        )
        .await;
    assert!(
        after.location.is_none() && form_containing(&after.body, "decision").is_some(),
        "the victim must see the consent page, not be redirected with a code: {:?}",
        after.location
    );
    server.stop().await;
}

#[actix_web::test]
async fn return_to_with_a_tab_or_backslash_stays_on_the_site() {
    let server = TestServer::start().await;
    let browser = Browser::new(&server.base);
    for evil in ["/%09/evil.example", "/%5Cevil.example", "/%0A/evil.example"] {
        let page = browser
            .get(&format!("/prefs?elder=1&return_to={evil}"))
            .await;
        assert_eq!(page.location.as_deref(), Some("/"), "{evil}");
    }
    server.stop().await;
}

#[actix_web::test]
async fn client_named_urls_may_not_point_into_our_network() {
    let server = TestServer::start().await;
    let token = server
        .with(|s| idp::flows::clients::issue_registration_token(s, true, 3600, "test").unwrap())
        .await;
    for (field, value) in [
        ("jwks_uri", "https://10.0.0.1/jwks"),
        ("jwks_uri", "https://169.254.169.254/latest/meta-data"),
        ("jwks_uri", "https://[::ffff:192.168.1.1]/jwks"),
        ("backchannel_logout_uri", "https://192.168.0.10/logout"),
    ] {
        let body = serde_json::json!({
            "redirect_uris": ["http://127.0.0.1:9/cb"],
            "token_endpoint_auth_method": "private_key_jwt",
            field: value,
            "jwks_uri": if field == "jwks_uri" { value } else { "https://keys.example/jwks" },
        });
        let resp = common::flow::http()
            .post(server.url("/register"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{field}={value}");
        let json: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(json["error"], "invalid_client_metadata");
    }
    // request_uri into a private address: refused without saying what is there.
    let app = server.client(ClientSpec::default()).await;
    let url = authorize_url(
        &server,
        &app,
        &[("request_uri", "https://10.1.2.3:8443/admin")],
    );
    let page = Browser::new(&server.base).get(&url).await;
    let q = query_of(&page.location.unwrap());
    assert_eq!(q["error"], "invalid_request_uri");
    assert_eq!(
        q["error_description"],
        "the request_uri could not be fetched"
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_code_challenge_without_its_method_is_refused() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let page = Browser::new(&server.base)
        .get(&authorize_url(
            &server,
            &app,
            &[("code_challenge", challenge)],
        ))
        .await;
    let q = query_of(&page.location.unwrap());
    assert_eq!(q["error"], "invalid_request");
    server.stop().await;
}

#[actix_web::test]
async fn suspending_an_app_ends_its_access_tokens() {
    let server = TestServer::start().await;
    let citizen = id_number(51, 43);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let t = tokens(
        &server,
        &Browser::new(&server.base),
        &app,
        &citizen,
        PASSWORD,
        &[],
    )
    .await;
    let access = t.str("access_token");
    assert_eq!(userinfo(&server, Some(&access)).await.status, 200);
    let id = app.client_id.clone();
    server
        .with(move |s| {
            idp::flows::clients::set_status(s, &id, ClientStatus::Suspended, Some("test"), "test")
                .unwrap()
        })
        .await;
    let after = userinfo(&server, Some(&access)).await;
    assert_eq!(after.status, 401);
    assert!(after.www_authenticate().unwrap().contains("invalid_token"));
    server.stop().await;
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_citizen_address_has_its_own_counter() {
    let server =
        TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let citizen = id_number(44, 44);
    server.user(&citizen, PASSWORD).await;
    let attempt = |forwarded: &'static str, user: String, password: &'static str| {
        let base = server.base.clone();
        async move {
            let browser = common::flow::browser_with(&base, None, &[]);
            let page = browser.get("/login").await;
            let form = form_containing(&page.body, "password").unwrap();
            let mut fields = form.hidden.clone();
            fields.push(("username".into(), user));
            fields.push(("password".into(), password.into()));
            browser
                .http
                .post(format!("{base}/login"))
                .header("x-forwarded-for", forwarded)
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // 50 failures from one citizen address (different unknown accounts, so no account lock).
    for i in 0..50 {
        let status = attempt("203.0.113.7", id_number(11, 100 + i), "wrong password!").await;
        assert_eq!(status, 401, "attempt {i}");
    }
    assert_eq!(
        attempt("203.0.113.7", citizen.clone(), PASSWORD).await,
        429,
        "that address is locked"
    );
    assert_eq!(
        attempt("198.51.100.9", citizen.clone(), PASSWORD).await,
        303,
        "another address behind the same proxy is not"
    );
    server.stop().await;
}
