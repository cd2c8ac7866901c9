//! The token endpoint (RFC 6749 5.2) and UserInfo (RFC 6750 3.1) refuse what they must, in
//! the protocol's own error format.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow::{self, as_client, post_form, redeem, userinfo, Reply};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use hmac::{Hmac, Mac};
use idp::domain::client::ClientStatus;
use serde_json::json;

fn assert_oauth_error(r: &Reply, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(r.error(), error, "{}", r.json);
    let cache = r.headers["cache-control"].to_str().unwrap();
    assert_eq!(cache, "no-store");
}

fn assert_invalid_token(r: &Reply) {
    assert_eq!(r.status, 401, "{}", r.json);
    let challenge = r.www_authenticate().expect("a Bearer challenge");
    assert!(
        challenge.starts_with(r#"Bearer realm="idp""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

struct Setup {
    server: TestServer,
    browser: Browser,
    app: TestClient,
    citizen: String,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let citizen = id_number(33, 31);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    Setup {
        server,
        browser,
        app,
        citizen,
    }
}

impl Setup {
    async fn code(&self, extra: &[(&str, &str)]) -> String {
        flow::code(
            &self.server,
            &self.browser,
            &self.app,
            &self.citizen,
            PASSWORD,
            extra,
        )
        .await
    }
}

#[actix_web::test]
async fn pkce_mismatch_missing_verifier_and_downgrade_are_invalid_grant() {
    let s = setup().await;
    let (verifier, challenge) = flow::pkce();
    let with_pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (other_verifier, _) = flow::pkce();
    let code = s.code(&with_pkce).await;
    let r = redeem(
        &s.server,
        &s.app,
        &code,
        &[("code_verifier", &other_verifier)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let code = s.code(&with_pkce).await;
    assert_oauth_error(
        &redeem(&s.server, &s.app, &code, &[]).await,
        400,
        "invalid_grant",
    );
    // A verifier for a code that had no challenge: a downgrade attempt (RFC 9700 2.1.1).
    let code = s.code(&[]).await;
    let r = redeem(&s.server, &s.app, &code, &[("code_verifier", &verifier)]).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    // The right verifier works.
    let code = s.code(&with_pkce).await;
    let r = redeem(&s.server, &s.app, &code, &[("code_verifier", &verifier)]).await;
    assert_eq!(r.status, 200, "{}", r.json);
    s.server.stop().await;
}

#[actix_web::test]
async fn a_replayed_code_is_refused_and_revokes_the_tokens_it_gave() {
    let s = setup().await;
    let code = s.code(&[("scope", "openid offline_access")]).await;
    let first = redeem(&s.server, &s.app, &code, &[]).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let access = first.str("access_token");
    assert_eq!(userinfo(&s.server, Some(&access)).await.status, 200);

    let replay = redeem(&s.server, &s.app, &code, &[]).await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    assert_invalid_token(&userinfo(&s.server, Some(&access)).await);
    let refresh = first.str("refresh_token");
    let r = as_client(
        &s.server,
        &s.app,
        "/token",
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    s.server.stop().await;
}

#[actix_web::test]
async fn codes_expire_after_sixty_seconds() {
    let s = setup().await;
    let code = s.code(&[]).await;
    s.server.clock.advance(59);
    assert_eq!(redeem(&s.server, &s.app, &code, &[]).await.status, 200);
    let code = s.code(&[]).await;
    s.server.clock.advance(61);
    assert_oauth_error(
        &redeem(&s.server, &s.app, &code, &[]).await,
        400,
        "invalid_grant",
    );
    s.server.stop().await;
}

#[actix_web::test]
async fn a_code_presented_by_another_client_is_refused_and_not_spent() {
    let s = setup().await;
    let other = s.server.client(ClientSpec::default()).await;
    let code = s.code(&[]).await;
    let stolen = redeem(&s.server, &other, &code, &[]).await;
    assert_oauth_error(&stolen, 400, "invalid_grant");
    let own = redeem(&s.server, &s.app, &code, &[]).await;
    assert_eq!(own.status, 200, "{}", own.json);
    s.server.stop().await;
}

#[actix_web::test]
async fn forged_tampered_and_truncated_codes_are_refused_and_spend_nothing() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let grants_before = grant_count(&s.server).await;
    let mut flipped = code.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let oversized = "A".repeat(5000);
    for bad in [
        flipped.as_str(),
        &code[..code.len() - 2],
        "a-code-we-never-issued",
        oversized.as_str(),
    ] {
        let r = redeem(&s.server, &s.app, bad, &[]).await;
        assert_oauth_error(&r, 400, "invalid_grant");
    }
    let empty = redeem(&s.server, &s.app, "", &[]).await;
    assert_oauth_error(&empty, 400, "invalid_request");
    assert_eq!(grant_count(&s.server).await, grants_before);
    assert_eq!(redeem(&s.server, &s.app, &code, &[]).await.status, 200);
    s.server.stop().await;
}

#[actix_web::test]
async fn issuing_a_code_stores_nothing_and_redeeming_it_stores_one_grant() {
    let s = setup().await;
    let first = s.code(&[]).await;
    let before = grant_count(&s.server).await;
    let second = s.code(&[]).await;
    assert_eq!(grant_count(&s.server).await, before);
    assert_ne!(first, second);
    assert_eq!(redeem(&s.server, &s.app, &second, &[]).await.status, 200);
    assert_eq!(grant_count(&s.server).await, before + 1);
    s.server.stop().await;
}

#[actix_web::test]
async fn of_concurrent_redemptions_of_one_code_exactly_one_gets_tokens() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let (a, b, c, d, e, f) = tokio::join!(
        redeem(&s.server, &s.app, &code, &[]),
        redeem(&s.server, &s.app, &code, &[]),
        redeem(&s.server, &s.app, &code, &[]),
        redeem(&s.server, &s.app, &code, &[]),
        redeem(&s.server, &s.app, &code, &[]),
        redeem(&s.server, &s.app, &code, &[]),
    );
    let replies = [a, b, c, d, e, f];
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        replies.iter().map(|r| &r.json).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_oauth_error(r, 400, "invalid_grant");
    }
    // The replays revoked what the one winner got (RFC 6749 4.1.2).
    assert_invalid_token(&userinfo(&s.server, Some(&won[0].str("access_token"))).await);
    s.server.stop().await;
}

#[actix_web::test]
async fn a_code_is_refused_once_its_session_has_logged_out() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let confirm = s.browser.get("/logout").await;
    let done = s
        .browser
        .submit(&confirm, "confirm", &[("confirm", "yes")])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let r = redeem(&s.server, &s.app, &code, &[]).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.json["error_description"]
        .as_str()
        .unwrap()
        .contains("session ended"));
    // Spent all the same: trying again is a replay.
    let again = redeem(&s.server, &s.app, &code, &[]).await;
    assert_oauth_error(&again, 400, "invalid_grant");
    assert!(again.json["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    s.server.stop().await;
}

async fn grant_count(server: &TestServer) -> usize {
    server
        .with(|svc| {
            use diesel::prelude::*;
            let mut conn = svc.store.conn().unwrap();
            idp::store::schema::grants::table
                .count()
                .get_result::<i64>(&mut *conn)
                .unwrap() as usize
        })
        .await
}

#[actix_web::test]
async fn bad_client_credentials_are_401_invalid_client() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", s.app.redirect_uri.as_str()),
    ];
    let wrong = post_form(
        &s.server,
        "/token",
        Some((&s.app.client_id, "wrong")),
        &form,
    )
    .await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(
        wrong.www_authenticate().unwrap().starts_with("Basic "),
        "{:?}",
        wrong.www_authenticate()
    );
    let unknown = post_form(&s.server, "/token", Some(("nobody", "x")), &form).await;
    assert_oauth_error(&unknown, 401, "invalid_client");
    assert!(unknown.www_authenticate().unwrap().starts_with("Basic "));
    // No credentials at all.
    assert_oauth_error(
        &post_form(&s.server, "/token", None, &form).await,
        401,
        "invalid_client",
    );
    // The failed attempts did not spend the code.
    assert_eq!(redeem(&s.server, &s.app, &code, &[]).await.status, 200);
    s.server.stop().await;
}

#[actix_web::test]
async fn malformed_token_requests_are_refused() {
    let s = setup().await;
    // The body must be a form, not JSON.
    let json_body = flow::http()
        .post(s.server.url("/token"))
        .basic_auth(&s.app.client_id, s.app.client_secret.as_deref())
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
    let body: serde_json::Value = json_body.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let r = as_client(&s.server, &s.app, "/token", &[("grant_type", grant)]).await;
        assert_oauth_error(&r, 400, "unsupported_grant_type");
    }
    // A grant the provider supports but this app was not registered for.
    let r = as_client(
        &s.server,
        &s.app,
        "/token",
        &[("grant_type", "urn:ietf:params:oauth:grant-type:device_code")],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    let r = as_client(&s.server, &s.app, "/token", &[("scope", "openid")]).await;
    assert_oauth_error(&r, 400, "invalid_request");
    let code = s.code(&[]).await;
    let r = redeem(&s.server, &s.app, &code, &[("code", &code)]).await;
    assert_oauth_error(&r, 400, "invalid_request");
    // redirect_uri must be the one of the authorization request.
    let r = as_client(
        &s.server,
        &s.app,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
        ],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        r.str("error_description").contains("redirect_uri"),
        "{}",
        r.json
    );
    let code = s.code(&[]).await;
    let r = as_client(
        &s.server,
        &s.app,
        "/token",
        &[("grant_type", "authorization_code"), ("code", &code)],
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(
        r.str("error_description").contains("redirect_uri"),
        "{}",
        r.json
    );
    s.server.stop().await;
}

#[actix_web::test]
async fn a_suspended_client_gets_no_tokens() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let id = s.app.client_id.clone();
    s.server
        .with(move |svc| {
            idp::flows::clients::set_status(svc, &id, ClientStatus::Suspended, Some("t"), "t")
                .unwrap()
        })
        .await;
    assert_oauth_error(
        &redeem(&s.server, &s.app, &code, &[]).await,
        400,
        "unauthorized_client",
    );
    let r = as_client(
        &s.server,
        &s.app,
        "/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    s.server.stop().await;
}

#[actix_web::test]
async fn userinfo_without_a_token_gets_a_bare_challenge() {
    let s = setup().await;
    let r = userinfo(&s.server, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.www_authenticate().as_deref(),
        Some(r#"Bearer realm="idp""#)
    );
    s.server.stop().await;
}

#[actix_web::test]
async fn forged_tampered_and_expired_access_tokens_are_refused() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let access = redeem(&s.server, &s.app, &code, &[])
        .await
        .str("access_token");
    assert_eq!(userinfo(&s.server, Some(&access)).await.status, 200);
    let parts: Vec<&str> = access.split('.').collect();
    let (header, claims) = flow::jwt_parts(&access);

    // One character of the payload changed.
    let mut payload: Vec<u8> = parts[1].bytes().collect();
    let i = payload.len() / 2;
    payload[i] = if payload[i] == b'A' { b'B' } else { b'A' };
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        String::from_utf8(payload).unwrap(),
        parts[2]
    );
    assert_invalid_token(&userinfo(&s.server, Some(&tampered)).await);

    // alg none with our claims.
    let none_header = json!({ "alg": "none", "typ": "at+jwt", "kid": header["kid"] });
    let body = flow::b64url(claims.to_string().as_bytes());
    let unsigned = format!(
        "{}.{body}.",
        flow::b64url(none_header.to_string().as_bytes())
    );
    assert_invalid_token(&userinfo(&s.server, Some(&unsigned)).await);

    // HS256 keyed with the public key (algorithm confusion), with and without kid.
    let jwks: serde_json::Value = flow::http()
        .get(s.server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap()
        .clone();
    for with_kid in [true, false] {
        let mut h = json!({ "alg": "HS256", "typ": "at+jwt" });
        if with_kid {
            h["kid"] = header["kid"].clone();
        }
        let input = format!("{}.{body}", flow::b64url(h.to_string().as_bytes()));
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(jwk.to_string().as_bytes()).unwrap();
        mac.update(input.as_bytes());
        let forged = format!("{input}.{}", flow::b64url(&mac.finalize().into_bytes()));
        assert_invalid_token(&userinfo(&s.server, Some(&forged)).await);
    }

    // Our own ID token is no access token (typ at+jwt is required).
    let id_token = flow::redeem(&s.server, &s.app, &s.code(&[]).await, &[])
        .await
        .str("id_token");
    assert_invalid_token(&userinfo(&s.server, Some(&id_token)).await);

    // Expiry: still fine just before 600 s, refused after.
    s.server.clock.advance(599);
    assert_eq!(userinfo(&s.server, Some(&access)).await.status, 200);
    s.server.clock.advance(2);
    assert_invalid_token(&userinfo(&s.server, Some(&access)).await);
    s.server.stop().await;
}

#[actix_web::test]
async fn a_token_in_header_and_body_at_once_is_invalid_request() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let access = redeem(&s.server, &s.app, &code, &[])
        .await
        .str("access_token");
    let both = flow::http()
        .post(s.server.url("/userinfo"))
        .bearer_auth(&access)
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
    let challenge = both.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_request""#),
        "{challenge}"
    );
    // The body alone is fine (RFC 6750 2.2).
    let body_only = flow::http()
        .post(s.server.url("/userinfo"))
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(body_only.status(), 200);
    s.server.stop().await;
}
