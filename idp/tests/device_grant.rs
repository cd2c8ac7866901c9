//! Kiosk and TV login: the OAuth 2.0 Device Authorization Grant (RFC 8628), with every answer a
//! polling device can get, and the approval taken on another replica than the polling.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_containing, Browser, Page};
use common::flow::{self, jwt_parts, Reply};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, GrantType};

async fn kiosk(server: &TestServer) -> TestClient {
    server
        .client(ClientSpec {
            name: "政务自助终端".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::DeviceCode],
            ..ClientSpec::default()
        })
        .await
}

async fn authorize_device(server: &TestServer, kiosk: &TestClient) -> Reply {
    flow::post_form(
        server,
        "/device_authorization",
        None,
        &[("client_id", &kiosk.client_id), ("scope", "openid profile")],
    )
    .await
}

async fn poll(server: &TestServer, kiosk: &TestClient, device_code: &str) -> Reply {
    flow::post_form(
        server,
        "/token",
        None,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", &kiosk.client_id),
        ],
    )
    .await
}

/// The citizen opens the verification link (as if scanned), logs in, and answers.
async fn answer_on_phone(browser: &Browser, link: &str, citizen: &str, decision: &str) -> Page {
    let page = browser.get(link).await;
    let login = page.location.expect("to the login page first");
    assert!(login.starts_with("/login?next="), "{login}");
    let login_page = browser.get(&login).await;
    let back = browser
        .submit(
            &login_page,
            "password",
            &[("username", citizen), ("password", PASSWORD)],
        )
        .await;
    let confirm = browser.follow(back).await;
    assert!(confirm.body.contains("政务自助终端"), "{}", confirm.body);
    browser
        .submit(&confirm, "decision", &[("decision", decision)])
        .await
}

#[actix_web::test]
async fn a_kiosk_logs_in_when_the_citizen_approves_and_hears_every_polling_answer() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 91);
    let sub = server.user(&citizen, PASSWORD).await;
    let kiosk = kiosk(&server).await;
    let start = authorize_device(&server, &kiosk).await;
    assert_eq!(start.status, 200, "{}", start.json);
    let user_code = start.str("user_code");
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    assert_eq!(start.str("verification_uri"), server.url("/device"));
    let link = start.str("verification_uri_complete");
    assert!(link.ends_with(&format!("user_code={user_code}")), "{link}");
    assert_eq!(start.json["interval"], 5);
    // For kiosks that do not draw QR codes, the provider draws the link's.
    let qr = Browser::new(&server.base)
        .get(&format!("/device/qr?user_code={user_code}"))
        .await;
    assert_eq!(qr.headers["content-type"], "image/svg+xml");
    assert!(qr.body.contains("<svg"));
    let unknown = Browser::new(&server.base)
        .get("/device/qr?user_code=BCDF-GHJK")
        .await;
    assert_eq!(unknown.status, 404);
    let device_code = start.str("device_code");

    assert_eq!(
        poll(&server, &kiosk, &device_code).await.error(),
        "authorization_pending"
    );
    // Polling again at once is too fast: the interval grows by 5 s each time (10 s, then 15 s).
    let fast = poll(&server, &kiosk, &device_code).await;
    assert_eq!((fast.status, fast.error()), (400, "slow_down"));
    server.clock.advance(6);
    assert_eq!(
        poll(&server, &kiosk, &device_code).await.error(),
        "slow_down"
    );
    server.clock.advance(15);
    assert_eq!(
        poll(&server, &kiosk, &device_code).await.error(),
        "authorization_pending"
    );

    let browser = Browser::new(&server.base);
    let done = answer_on_phone(&browser, &link, &citizen, "allow").await;
    assert!(done.body.contains("已授权"), "{}", done.body);

    server.clock.advance(15);
    let tokens = poll(&server, &kiosk, &device_code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, claims) = jwt_parts(&tokens.str("id_token"));
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["aud"], kiosk.client_id.as_str());
    let info = flow::userinfo(&server, Some(&tokens.str("access_token"))).await;
    assert_eq!(info.json["name"], "张三");
    server.clock.advance(15);
    assert_eq!(
        poll(&server, &kiosk, &device_code).await.error(),
        "invalid_grant",
        "single use"
    );
}

#[actix_web::test]
async fn a_denied_or_expired_code_logs_nobody_in() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 92);
    server.user(&citizen, PASSWORD).await;
    let kiosk = kiosk(&server).await;
    let denied = authorize_device(&server, &kiosk).await;
    let browser = Browser::new(&server.base);
    let done = answer_on_phone(
        &browser,
        &denied.str("verification_uri_complete"),
        &citizen,
        "deny",
    )
    .await;
    assert!(done.body.contains("已拒绝"), "{}", done.body);
    assert_eq!(
        poll(&server, &kiosk, &denied.str("device_code"))
            .await
            .error(),
        "access_denied"
    );

    let late = authorize_device(&server, &kiosk).await;
    server.clock.advance(601);
    assert_eq!(
        poll(&server, &kiosk, &late.str("device_code"))
            .await
            .error(),
        "expired_token"
    );
    // The verification page no longer knows it either.
    let page = browser.get(&late.str("verification_uri_complete")).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("已过期"), "{}", page.body);
}

#[actix_web::test]
async fn codes_belong_to_their_kiosk_and_guessing_is_throttled() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 93);
    server.user(&citizen, PASSWORD).await;
    let kiosk = kiosk(&server).await;
    let other = server
        .client(ClientSpec {
            name: "另一终端".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::DeviceCode],
            ..ClientSpec::default()
        })
        .await;
    let start = authorize_device(&server, &kiosk).await;
    assert_eq!(
        poll(&server, &other, &start.str("device_code"))
            .await
            .error(),
        "invalid_grant"
    );
    assert_eq!(
        poll(&server, &kiosk, "made-up").await.error(),
        "invalid_grant"
    );
    // An app without the grant cannot start one.
    let web_app = server.client(ClientSpec::default()).await;
    let refused = flow::as_client(&server, &web_app, "/device_authorization", &[]).await;
    assert_eq!(refused.error(), "unauthorized_client");

    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let wrong = browser.get("/device?user_code=BCDF-GHJK").await;
    assert_eq!(wrong.status, 400);
    let mut last = wrong;
    for i in 0..60 {
        last = browser
            .get(&format!(
                "/device?user_code=BCDF-GH{}",
                ["JK", "JL", "JM"][i % 3]
            ))
            .await;
        if last.status == 429 {
            break;
        }
    }
    assert_eq!(last.status, 429, "guessing stops");
    // Even the right code is refused while the address is locked out.
    let right = browser.get(&start.str("verification_uri_complete")).await;
    assert_eq!(right.status, 429);
    assert!(form_containing(&right.body, "decision").is_none());
    // The kiosk's QR image (no login) is no way around it.
    let image = Browser::new(&server.base)
        .get(&format!("/device/qr?user_code={}", start.str("user_code")))
        .await;
    assert_eq!(image.status, 429);
}

#[actix_web::test]
async fn the_kiosk_qr_image_is_no_free_oracle() {
    let server = TestServer::start().await;
    let kiosk = kiosk(&server).await;
    let start = authorize_device(&server, &kiosk).await;
    let anyone = Browser::new(&server.base);
    let own = anyone
        .get(&format!("/device/qr?user_code={}", start.str("user_code")))
        .await;
    assert_eq!(own.status, 200);
    let mut last = 0u16;
    for i in 0..60 {
        last = anyone
            .get(&format!(
                "/device/qr?user_code=BCDF-GH{}",
                ["JK", "JL"][i % 2]
            ))
            .await
            .status
            .as_u16();
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "misses are counted");
}

#[actix_web::test]
async fn the_approval_on_one_replica_reaches_the_kiosk_polling_another() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 94);
    server.user(&citizen, PASSWORD).await;
    let kiosk = kiosk(&server).await;
    let config = server.svc.config.clone();
    let other = common::replica::start(
        &config.database_url,
        config.kek_file.as_ref().unwrap(),
        &config.issuer,
    )
    .await;
    let start = authorize_device(&server, &kiosk).await;
    let link = start
        .str("verification_uri_complete")
        .replace(&server.base, &other.base);
    let browser = Browser::new(&other.base);
    let done = answer_on_phone(&browser, &link, &citizen, "allow").await;
    assert!(done.body.contains("已授权"), "{}", done.body);
    let tokens = poll(&server, &kiosk, &start.str("device_code")).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
}

/// A kiosk asking for a licence (一证通办 at a self-service terminal): the phone's confirmation
/// page names the licence and marks it sensitive, as the consent page does.
#[actix_web::test]
async fn the_confirmation_page_names_a_licence_the_kiosk_asks_for() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 91);
    server.user(&citizen, PASSWORD).await;
    let kiosk = server
        .client(ClientSpec {
            name: "政务自助终端".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::DeviceCode],
            scopes: ["openid", "licence:driving_licence"]
                .map(String::from)
                .to_vec(),
            ..ClientSpec::default()
        })
        .await;
    let started = flow::post_form(
        &server,
        "/device_authorization",
        None,
        &[
            ("client_id", &kiosk.client_id),
            ("scope", "openid licence:driving_licence"),
        ],
    )
    .await;
    assert_eq!(started.status, 200, "{}", started.json);
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let link = started.str("verification_uri_complete");
    let path = link.strip_prefix(&server.base).unwrap_or(&link).to_owned();
    let confirm = browser.follow(browser.get(&path).await).await;
    assert!(
        confirm
            .body
            .contains(r#"<li class="sensitive">您的电子证照（敏感信息）：驾驶证</li>"#),
        "{}",
        confirm.body
    );
    server.stop().await;
}
