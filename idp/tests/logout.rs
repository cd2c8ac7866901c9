//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout tokens
//! delivered to the apps of the session (OpenID Connect Back-Channel Logout 1.0).
#![allow(clippy::unwrap_used)]
mod common;

use actix_web::{web, App, HttpResponse, HttpServer};
use common::browser::Browser;
use common::flow::{self, browser_with, set_cookie};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// An app's back-channel logout endpoint that passes each POSTed logout_token to the test.
async fn receiver() -> (
    String,
    mpsc::UnboundedReceiver<String>,
    actix_web::dev::ServerHandle,
) {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let tx = tx.clone();
        App::new().route(
            "/backchannel",
            web::post().to(move |form: web::Form<HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(form.get("logout_token").cloned().unwrap_or_default());
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (url, rx, handle)
}

async fn logged_in(browser: &Browser) -> bool {
    let home = browser.get("/").await;
    home.status == 200 && home.location.is_none()
}

#[actix_web::test]
async fn rp_initiated_logout_notifies_the_app_over_the_back_channel() {
    let server = TestServer::start().await;
    let (uri, mut rx, receiver_handle) = receiver().await;
    let citizen = id_number(33, 91);
    server.user(&citizen, PASSWORD).await;
    let app = server
        .client(ClientSpec {
            backchannel_logout_uri: Some(uri),
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    let extra = [("nonce", "n-123")];
    let tokens = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &extra).await;
    let id_token = tokens.str("id_token");
    let (_, id_claims) = flow::jwt_parts(&id_token);
    assert_eq!(id_claims["nonce"], "n-123");

    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye")
        .append_pair("state", "s")
        .finish();
    let out = browser.get(&format!("/logout?{q}")).await;
    assert_eq!(out.status, 302, "{}", out.body);
    assert_eq!(
        out.location.as_deref(),
        Some("http://127.0.0.1:9/bye?state=s")
    );
    assert!(!logged_in(&browser).await);

    let logout_token = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a logout token within 10 s")
        .unwrap();
    let jwks: serde_json::Value = flow::http()
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let set = keys::KeySet::from_jwks(&jwks).unwrap();
    let verified = keys::verify_jwt(
        &logout_token,
        &set,
        &[keys::Alg::ES256, keys::Alg::RS256],
        Some("logout+jwt"),
    )
    .unwrap();
    let c = &verified.claims;
    assert_eq!(c["iss"], server.base.as_str());
    assert_eq!(c["aud"], app.client_id.as_str());
    assert_eq!(c["sub"], id_claims["sub"]);
    assert_eq!(c["sid"], id_claims["sid"]);
    assert!(c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(c.get("nonce").is_none(), "a logout token has no nonce");
    assert!(c["jti"].is_string() && c["iat"].is_i64());
    // The ID token no longer names a live session: the tokens of the session stay as issued,
    // but a second logout has nothing left to end.
    let again = browser.get(&format!("/logout?{q}")).await;
    assert_eq!(again.status, 302);
    receiver_handle.stop(true).await;
    server.stop().await;
}

#[actix_web::test]
async fn an_unregistered_post_logout_redirect_uri_gets_an_error_page() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 92);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    let id_token = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[])
        .await
        .str("id_token");
    let cases = [
        vec![
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/bye"),
        ],
        vec![
            ("client_id", app.client_id.as_str()),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye/more"),
        ],
        // Nothing names the app the URI would belong to.
        vec![("post_logout_redirect_uri", "http://127.0.0.1:9/bye")],
        vec![
            ("id_token_hint", id_token.as_str()),
            ("client_id", "another-app"),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
        ],
    ];
    for params in cases {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let page = browser.get(&format!("/logout?{q}")).await;
        assert_eq!(page.status, 400, "{params:?}");
        assert!(page.location.is_none(), "{params:?}");
        assert!(page.body.contains(r#"class="message""#));
        assert!(
            logged_in(&browser).await,
            "the session survives a bad request"
        );
    }
    server.stop().await;
}

#[actix_web::test]
async fn logout_without_a_hint_asks_first_and_only_the_post_ends_the_session() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 93);
    server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    let login = flow::login(&browser, &citizen, PASSWORD).await;
    let session = set_cookie(&login, "idp_session").unwrap();
    let session = session.split(';').next().unwrap().to_owned();

    let confirm = browser.get("/logout").await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains(r#"name="confirm""#),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains(r#"name="csrf""#));
    assert!(logged_in(&browser).await, "a GET alone ends nothing");

    let forged = browser
        .post("/logout", &[("confirm".to_owned(), "yes".to_owned())])
        .await;
    assert_eq!(forged.status, 403);
    assert!(logged_in(&browser).await, "no CSRF token, no logout");

    let done = browser
        .submit(&confirm, "confirm", &[("confirm", "yes")])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("您已安全退出"));
    let expired = set_cookie(&done, "idp_session").expect("the cookie is cleared");
    assert!(expired.contains("Max-Age=0"), "{expired}");
    assert!(!logged_in(&browser).await);
    // The old cookie value is dead on the server, not just forgotten by the browser.
    let replay = browser_with(&server.base, None, &[&session]);
    assert!(!logged_in(&replay).await);
    server.stop().await;
}
