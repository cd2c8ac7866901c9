//! The government app bound to a phone: the citizen sees it among their devices and can unbind
//! it (its tokens die at once); from the phone, the app approves a kiosk's code.
#![allow(clippy::unwrap_used)]
mod common;

use common::app;
use common::browser::Browser;
use common::flow;
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, GrantType};
use serde_json::{json, Value};

#[actix_web::test]
async fn a_citizen_sees_and_unbinds_their_devices() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 111);
    server.user(&citizen, PASSWORD).await;
    let gov_app = app::register(&server).await;
    let (device, token) = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;

    let (status, listed) = app::get(&server, &device, &token, "/app/devices").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["devices"][0]["app"], "国家政务服务App");
    assert_eq!(
        listed["devices"][0]["key"],
        device.jkt().chars().take(8).collect::<String>()
    );

    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("国家政务服务App"), "{}", page.body);
    let form = common::browser::form_containing(&page.body, "id").unwrap();
    let grant = listed["devices"][0]["id"].as_str().unwrap();
    assert!(page.body.contains(grant));
    let mut fields = form.hidden.clone();
    fields.retain(|(k, _)| k != "id");
    fields.push(("id".into(), grant.into()));
    let unbound = browser.post("/account/devices/remove", &fields).await;
    assert_eq!(unbound.location.as_deref(), Some("/account?done=unbound"));
    // The app's token no longer works, on any endpoint.
    let (status, _) = app::get(&server, &device, &token, "/app/devices").await;
    assert_eq!(status, 401);
    assert!(!browser.get("/account").await.body.contains(grant));
}

/// A kiosk that has just asked for a device code: (the kiosk, its device authorization answer).
async fn kiosk_showing_a_code(server: &TestServer) -> (TestClient, flow::Reply) {
    let kiosk = server
        .client(ClientSpec {
            name: "政务自助终端".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::DeviceCode],
            ..ClientSpec::default()
        })
        .await;
    let start = flow::post_form(
        server,
        "/device_authorization",
        None,
        &[("client_id", &kiosk.client_id)],
    )
    .await;
    (kiosk, start)
}

#[actix_web::test]
async fn the_app_approves_a_kiosk_code_from_the_phone() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 112);
    let sub = server.user(&citizen, PASSWORD).await;
    let gov_app = app::register(&server).await;
    let (device, token) = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;
    let (kiosk, start) = kiosk_showing_a_code(&server).await;
    let user_code = start.str("user_code");
    let call = |path: &'static str, body: Value| {
        let (server, device, token) = (&server, &device, &token);
        async move { app::call(server, &server.base, device, token, path, &body).await }
    };
    let (status, wrong) = call(
        "/app/device_code",
        json!({ "user_code": "BCDF-GHJK", "client_id": kiosk.client_id, "decision": "approve" }),
    )
    .await;
    assert_eq!(
        (status, wrong["error"].as_str()),
        (404, Some("unknown_code"))
    );
    // The phone first shows who asks and for what (RFC 8628 5.4).
    let (status, asks) = call(
        "/app/device_code/describe",
        json!({ "user_code": user_code }),
    )
    .await;
    assert_eq!(status, 200, "{asks}");
    assert_eq!(asks["client_name"], "政务自助终端");
    assert_eq!(asks["client_id"], kiosk.client_id.as_str());
    assert!(asks["scopes"]
        .as_array()
        .unwrap()
        .contains(&json!("openid")));
    // An answer that names another app than the code's is not taken.
    let (status, _) = call(
        "/app/device_code",
        json!({ "user_code": user_code, "client_id": "another-app", "decision": "approve" }),
    )
    .await;
    assert_eq!(status, 404);
    let (status, answered) = call(
        "/app/device_code",
        json!({ "user_code": user_code, "client_id": kiosk.client_id, "decision": "approve" }),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    let tokens = flow::post_form(
        &server,
        "/token",
        None,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", &start.str("device_code")),
            ("client_id", &kiosk.client_id),
        ],
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, claims) = flow::jwt_parts(&tokens.str("id_token"));
    assert_eq!(claims["sub"], sub.as_str());
}

#[actix_web::test]
async fn the_apps_code_guesses_are_throttled_like_typed_ones() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 113);
    server.user(&citizen, PASSWORD).await;
    let gov_app = app::register(&server).await;
    let (device, token) = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;
    let (kiosk, start) = kiosk_showing_a_code(&server).await;
    let answer = |code: String| {
        let (server, device, token, kiosk) = (&server, &device, &token, &kiosk);
        async move {
            app::call(
                server,
                &server.base,
                device,
                token,
                "/app/device_code",
                &json!({ "user_code": code, "client_id": kiosk.client_id, "decision": "approve" }),
            )
            .await
        }
    };
    let mut last = (0, Value::Null);
    for i in 0..60 {
        last = answer(format!("BCDF-GH{}", ["JK", "JL"][i % 2])).await;
        if last.0 == 429 {
            break;
        }
    }
    assert_eq!(
        (last.0, last.1["error"].as_str()),
        (429, Some("too_many_attempts"))
    );
    // Locked out, even the right code is not looked at, and the kiosk stays logged out.
    let (status, _) = answer(start.str("user_code")).await;
    assert_eq!(status, 429);
    let pending = flow::post_form(
        &server,
        "/token",
        None,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", &start.str("device_code")),
            ("client_id", &kiosk.client_id),
        ],
    )
    .await;
    assert_eq!(pending.error(), "authorization_pending");
}
