//! DPoP (RFC 9449): the government app binds its tokens to a device key. A stolen token without
//! the key is useless, a proof cannot be replayed, and the server's nonce keeps proofs fresh.
#![allow(clippy::unwrap_used)]
mod common;

use common::app::Device;
use common::browser::{query_of, Browser};
use common::flow::{self, jwt_parts};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, GrantType};
use serde_json::{json, Value};

struct Answer {
    status: u16,
    json: Value,
    headers: reqwest::header::HeaderMap,
}

async fn token_request(server: &TestServer, form: &[(&str, &str)], proof: Option<&str>) -> Answer {
    let mut req = flow::http().post(server.url("/token")).form(form);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let resp = req.send().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        json: resp.json().await.unwrap_or(Value::Null),
    }
}

async fn userinfo(
    server: &TestServer,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (u16, String) {
    let mut req = flow::http()
        .get(server.url("/userinfo"))
        .header("Authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let resp = req.send().await.unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), challenge)
}

/// The government app: a public client that must use DPoP.
async fn app(server: &TestServer) -> TestClient {
    server
        .client(ClientSpec {
            name: "政务App".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            dpop: true,
            ..ClientSpec::default()
        })
        .await
}

/// Logs in with PKCE and returns (code, verifier).
async fn code(server: &TestServer, app: &TestClient) -> (String, String) {
    let citizen = id_number(33, 81);
    server.user(&citizen, PASSWORD).await;
    let (verifier, challenge) = flow::pkce();
    let browser = Browser::new(&server.base);
    let page = browser
        .authorize(
            &flow::authorize_url(
                server,
                app,
                &[
                    ("scope", "openid profile offline_access"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            ),
            &citizen,
            PASSWORD,
        )
        .await;
    (query_of(&page.location.unwrap())["code"].clone(), verifier)
}

/// Token request with the nonce dance: first without a nonce, then with the one the server gave.
async fn with_nonce(server: &TestServer, device: &Device, form: &[(&str, &str)]) -> Answer {
    let url = server.url("/token");
    let first = token_request(server, form, Some(&device.proof("POST", &url, None, None))).await;
    assert_eq!(first.status, 400, "{}", first.json);
    assert_eq!(first.json["error"], "use_dpop_nonce");
    let nonce = first.headers["dpop-nonce"].to_str().unwrap().to_owned();
    token_request(
        server,
        form,
        Some(&device.proof("POST", &url, Some(&nonce), None)),
    )
    .await
}

#[actix_web::test]
async fn the_app_binds_its_tokens_to_its_device_key() {
    let server = TestServer::start().await;
    let app = app(&server).await;
    let (code, verifier) = code(&server, &app).await;
    let device = Device::new(&server);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("client_id", app.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    // An app registered for DPoP gets nothing without a proof (and the code is not spent).
    let bare = token_request(&server, &form, None).await;
    assert_eq!(
        (bare.status, bare.json["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let tokens = with_nonce(&server, &device, &form).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    assert_eq!(tokens.json["token_type"], "DPoP");
    let access = tokens.json["access_token"].as_str().unwrap().to_owned();
    let (_, claims) = jwt_parts(&access);
    assert_eq!(claims["cnf"]["jkt"], device.jkt());

    // Userinfo: the right proof works once; the token alone, or with anything else, does not.
    let url = server.url("/userinfo");
    let proof = device.proof("GET", &url, None, Some(&access));
    assert_eq!(
        userinfo(&server, "DPoP", &access, Some(&proof)).await.0,
        200
    );
    let (status, challenge) = userinfo(&server, "DPoP", &access, Some(&proof)).await;
    assert_eq!(status, 401, "a replayed proof");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("invalid_dpop_proof"),
        "{challenge}"
    );
    let (status, challenge) = userinfo(&server, "Bearer", &access, None).await;
    assert_eq!(status, 401, "a stolen token used as a Bearer token");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(
        userinfo(&server, "DPoP", &access, None).await.0,
        401,
        "no proof"
    );
    let thief = Device::new(&server);
    let stolen = thief.proof("GET", &url, None, Some(&access));
    assert_eq!(
        userinfo(&server, "DPoP", &access, Some(&stolen)).await.0,
        401,
        "another key"
    );
    let no_ath = device.proof("GET", &url, None, None);
    assert_eq!(
        userinfo(&server, "DPoP", &access, Some(&no_ath)).await.0,
        401,
        "no ath"
    );
    let wrong_method = device.proof("POST", &url, None, Some(&access));
    assert_eq!(
        userinfo(&server, "DPoP", &access, Some(&wrong_method))
            .await
            .0,
        401
    );
    let wrong_url = device.proof("GET", &server.url("/token"), None, Some(&access));
    assert_eq!(
        userinfo(&server, "DPoP", &access, Some(&wrong_url)).await.0,
        401
    );

    // The refresh token is bound too: another key cannot use it, and cannot spend it.
    let refresh = tokens.json["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", app.client_id.as_str()),
    ];
    let by_thief = with_nonce(&server, &thief, &refresh_form).await;
    assert_eq!(
        (by_thief.status, by_thief.json["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let renewed = with_nonce(&server, &device, &refresh_form).await;
    assert_eq!(renewed.status, 200, "{}", renewed.json);
    assert_eq!(renewed.json["token_type"], "DPoP");
    let (_, claims) = jwt_parts(renewed.json["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], device.jkt());
}

#[actix_web::test]
async fn proofs_are_single_use_fresh_and_carry_the_current_nonce() {
    let server = TestServer::start().await;
    let client = server
        .client(ClientSpec {
            auth_method: AuthMethod::ClientSecretPost,
            ..ClientSpec::default()
        })
        .await;
    let secret = client.client_secret.clone().unwrap();
    let device = Device::new(&server);
    let url = server.url("/token");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client.client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let first = token_request(
        &server,
        &form,
        Some(&device.proof("POST", &url, None, None)),
    )
    .await;
    let nonce = first.headers["dpop-nonce"].to_str().unwrap().to_owned();
    let proof = device.proof("POST", &url, Some(&nonce), None);
    let ok = token_request(&server, &form, Some(&proof)).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["token_type"], "DPoP");
    let replay = token_request(&server, &form, Some(&proof)).await;
    assert_eq!(
        (replay.status, replay.json["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    // A made-up nonce is not the server's.
    let made_up = device.proof("POST", &url, Some("AAAAAAAAAAAAAAAAAAAAAAAA"), None);
    assert_eq!(
        token_request(&server, &form, Some(&made_up)).await.json["error"],
        "use_dpop_nonce"
    );
    // A nonce lives at most ten minutes.
    server.clock.advance(601);
    let stale = token_request(
        &server,
        &form,
        Some(&device.proof("POST", &url, Some(&nonce), None)),
    )
    .await;
    assert_eq!(stale.json["error"], "use_dpop_nonce");
    // Two DPoP headers, or garbage, are refused.
    let two = flow::http()
        .post(&url)
        .form(&form)
        .header("DPoP", "a.b.c")
        .header("DPoP", "a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(two.status(), 400);
    let garbage = token_request(&server, &form, Some("not-a-jwt")).await;
    assert_eq!(garbage.json["error"], "invalid_dpop_proof");
    // Without a proof, an app not registered for DPoP still gets a Bearer token.
    let plain = token_request(&server, &form, None).await;
    assert_eq!(plain.json["token_type"], "Bearer");
}

#[actix_web::test]
async fn introspection_describes_a_bound_token_as_dpop() {
    let server = TestServer::start().await;
    let client = server
        .client(ClientSpec {
            auth_method: AuthMethod::ClientSecretPost,
            ..ClientSpec::default()
        })
        .await;
    let secret = client.client_secret.clone().unwrap();
    let device = Device::new(&server);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client.client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let tokens = with_nonce(&server, &device, &form).await;
    let access = tokens.json["access_token"].as_str().unwrap();
    let r = flow::post_form(
        &server,
        "/introspect",
        None,
        &[
            ("token", access),
            ("client_id", &client.client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(r.json["active"], true, "{}", r.json);
    assert_eq!(r.json["token_type"], "DPoP");
    assert_eq!(r.json["cnf"]["jkt"], device.jkt());
    let discovery: Value = flow::http()
        .get(server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["dpop_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
}
