//! Dynamic Client Registration (RFC 7591) and reading a registration back (RFC 7592 2.1).
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::flow::{self, post_form, Reply};
use common::{id_number, TestClient, TestServer, PASSWORD};
use serde_json::{json, Value};

async fn register(server: &TestServer, token: Option<&str>, body: &Value) -> Reply {
    let mut req = flow::http().post(server.url("/register")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let json = resp.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
    }
}

async fn registration_token(server: &TestServer, approve: bool) -> String {
    server
        .with(move |s| {
            idp::flows::clients::issue_registration_token(s, approve, 3600, "test").unwrap()
        })
        .await
}

fn metadata() -> Value {
    json!({
        "client_name": "社保查询",
        "redirect_uris": ["https://app.example/cb"],
        "contacts": ["ops@app.example"],
    })
}

fn as_test_client(r: &Reply) -> TestClient {
    TestClient {
        client_id: r.str("client_id"),
        client_secret: Some(r.str("client_secret")),
        redirect_uri: "https://app.example/cb".into(),
    }
}

#[actix_web::test]
async fn without_an_initial_access_token_the_app_waits_for_review() {
    let server = TestServer::start().await;
    let r = register(&server, None, &metadata()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["status"], "pending");
    assert_eq!(r.json["client_name"], "社保查询");
    assert_eq!(r.json["contacts"], json!(["ops@app.example"]));
    assert_eq!(r.json["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(r.headers["cache-control"], "no-store");
    let app = as_test_client(&r);
    let page = Browser::new(&server.base)
        .get(&flow::authorize_url(&server, &app, &[]))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.location.is_none(), "a pending app gets no redirect");
    // Nor tokens.
    let r = flow::as_client(
        &server,
        &app,
        "/token",
        &[("grant_type", "authorization_code"), ("code", "x")],
    )
    .await;
    assert_eq!(
        (r.status, r.error()),
        (400, "unauthorized_client"),
        "{}",
        r.json
    );
    // A made-up initial access token is refused.
    let r = register(&server, Some("made-up"), &metadata()).await;
    assert_eq!(r.status, 401);
    assert!(r
        .www_authenticate()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    // A token without approval also gives a pending app.
    let t = registration_token(&server, false).await;
    assert_eq!(
        register(&server, Some(&t), &metadata()).await.json["status"],
        "pending"
    );
    server.stop().await;
}

#[actix_web::test]
async fn with_an_approving_token_the_app_works_at_once_and_signs_rs256() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 81);
    server.user(&citizen, PASSWORD).await;
    let token = registration_token(&server, true).await;
    let r = register(&server, Some(&token), &metadata()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["status"], "approved");
    assert_eq!(r.json["id_token_signed_response_alg"], "RS256");
    let app = as_test_client(&r);
    let browser = Browser::new(&server.base);
    let landed = browser
        .authorize(&flow::authorize_url(&server, &app, &[]), &citizen, PASSWORD)
        .await;
    let loc = landed.location.unwrap();
    assert!(loc.starts_with("https://app.example/cb?"), "{loc}");
    let code = query_of(&loc)["code"].clone();
    let tokens = flow::redeem(&server, &app, &code, &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id_token = tokens.str("id_token");
    let (header, _) = flow::jwt_parts(&id_token);
    assert_eq!(header["alg"], "RS256");
    let jwks: Value = flow::http()
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let set = keys::KeySet::from_jwks(&jwks).unwrap();
    let verified = keys::verify_jwt(&id_token, &set, &[keys::Alg::RS256], None).unwrap();
    assert_eq!(verified.claims["aud"], app.client_id.as_str());
    server.stop().await;
}

#[actix_web::test]
async fn bad_metadata_is_refused_with_the_rfc_7591_error_codes() {
    let server = TestServer::start().await;
    let with = |key: &str, value: Value| {
        let mut m = metadata();
        m[key] = value;
        m
    };
    let cases = [
        (
            "plain http",
            with("redirect_uris", json!(["http://app.example/cb"])),
            "invalid_redirect_uri",
        ),
        (
            "fragment",
            with("redirect_uris", json!(["https://app.example/cb#x"])),
            "invalid_redirect_uri",
        ),
        (
            "relative",
            with("redirect_uris", json!(["/cb"])),
            "invalid_redirect_uri",
        ),
        (
            "no redirect_uris",
            with("redirect_uris", json!([])),
            "invalid_redirect_uri",
        ),
        (
            "unknown auth method",
            with("token_endpoint_auth_method", json!("client_secret_jwt")),
            "invalid_client_metadata",
        ),
        (
            "implicit",
            with("response_types", json!(["token"])),
            "invalid_client_metadata",
        ),
        (
            "unknown grant",
            with("grant_types", json!(["password"])),
            "invalid_client_metadata",
        ),
        (
            "alg none",
            with("id_token_signed_response_alg", json!("none")),
            "invalid_client_metadata",
        ),
        (
            "not strings",
            with("redirect_uris", json!([1])),
            "invalid_client_metadata",
        ),
        (
            "private_key_jwt without keys",
            with("token_endpoint_auth_method", json!("private_key_jwt")),
            "invalid_client_metadata",
        ),
        (
            "the government app's scope",
            with("scope", json!("openid gov_app")),
            "invalid_client_metadata",
        ),
    ];
    for (what, body, expected) in cases {
        let r = register(&server, None, &body).await;
        assert_eq!((r.status, r.error()), (400, expected), "{what}: {}", r.json);
    }
    let raw = flow::http()
        .post(server.url("/register"))
        .header("content-type", "application/json")
        .body("[not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    // Nothing of that was stored.
    let count = server.with(|s| s.store.clients().unwrap().len()).await;
    assert_eq!(count, 0);
    server.stop().await;
}

#[actix_web::test]
async fn the_registration_can_be_read_back_only_with_its_own_token() {
    let server = TestServer::start().await;
    let first = register(&server, None, &metadata()).await;
    let second = register(&server, None, &metadata()).await;
    let uri = first.str("registration_client_uri");
    assert_eq!(
        uri,
        server.url(&format!("/register/{}", first.str("client_id")))
    );
    let read = |token: Option<String>| {
        let mut req = flow::http().get(&uri);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let ok = read(Some(first.str("registration_access_token")))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["client_id"], first.json["client_id"]);
    assert_eq!(body["redirect_uris"], json!(["https://app.example/cb"]));
    assert_eq!(body["status"], "pending");
    assert!(body.get("client_secret").is_none(), "{body}");
    for token in [
        None,
        Some("wrong".to_owned()),
        Some(second.str("registration_access_token")),
    ] {
        let r = read(token.clone()).await.unwrap();
        assert_eq!(r.status(), 401, "{token:?}");
    }
    // The registration token is no client secret.
    let form = [("grant_type", "client_credentials")];
    let r = post_form(
        &server,
        "/token",
        Some((
            &first.str("client_id"),
            &first.str("registration_access_token"),
        )),
        &form,
    )
    .await;
    assert_eq!(r.status, 401);
    server.stop().await;
}
