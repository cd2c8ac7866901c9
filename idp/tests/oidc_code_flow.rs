//! The code flow end to end with the `openidconnect` crate as the relying party.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};

fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[actix_web::test]
async fn code_flow_with_pkce_refresh_rotation_and_reuse_detection() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 7);
    let sub = server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let http = rp_http();

    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.client_id.clone()),
        app.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(app.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("phone".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&server.base);
    let landing = browser
        .authorize(auth_url.as_str(), &citizen, PASSWORD)
        .await;
    let back = landing.location.expect("redirect back to the app");
    assert!(back.starts_with(&app.redirect_uri), "{back}");
    let q = query_of(&back);
    assert_eq!(q.get("state"), Some(state.secret()));
    assert_eq!(
        q.get("iss"),
        Some(&server.base),
        "RFC 9207 iss in the response"
    );

    let tokens = rp
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier().set_allowed_algs(vec![
        openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ]);
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), sub);
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.issuer().as_str(), server.base);

    // UserInfo with the access token: the released claims follow the scopes.
    let info: serde_json::Value = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["name"], "张三");
    assert_eq!(info["phone_number"], "+8613800138000");
    assert!(
        info.get("id_number").is_none(),
        "no id_number without its scope"
    );
    assert!(info.get("email").is_none(), "no email without its scope");

    // Refresh rotates the token...
    let first_refresh = tokens
        .refresh_token()
        .expect("offline_access gives a refresh token")
        .clone();
    let rotated = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let second_refresh = rotated.refresh_token().unwrap().clone();
    assert_ne!(first_refresh.secret(), second_refresh.secret());

    // ...and reusing the old one revokes the whole family, the new one included.
    let reuse = rp
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reuse.is_err());
    let after = rp
        .exchange_refresh_token(&RefreshToken::new(second_refresh.secret().clone()))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(after.is_err(), "the successor is revoked with its family");
    let userinfo_status = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(rotated.access_token().secret())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        userinfo_status, 401,
        "access tokens of a revoked family stop working"
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_second_app_gets_in_without_a_login_page_after_sso() {
    let server = TestServer::start().await;
    let citizen = id_number(51, 3);
    server.user(&citizen, PASSWORD).await;
    let first = server.client(ClientSpec::default()).await;
    let second = server
        .client(ClientSpec {
            redirect_uri: "http://127.0.0.1:9/second".into(),
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    let url = |c: &common::TestClient| {
        format!(
            "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s",
            server.base, c.client_id, c.redirect_uri
        )
    };
    let landed = browser.authorize(&url(&first), &citizen, PASSWORD).await;
    assert!(landed.location.unwrap().starts_with(&first.redirect_uri));
    // Same browser, other app: consent once, no password.
    let page = browser.follow(browser.get(&url(&second)).await).await;
    assert!(
        !page.body.contains(r#"name="password""#),
        "SSO: no login page the second time"
    );
    let landed = browser
        .follow(
            browser
                .submit(&page, "decision", &[("decision", "allow")])
                .await,
        )
        .await;
    assert!(landed.location.unwrap().starts_with(&second.redirect_uri));
    // Third visit: consent remembered, nothing shown at all.
    let again = browser.follow(browser.get(&url(&second)).await).await;
    assert!(again.location.unwrap().starts_with(&second.redirect_uri));
    server.stop().await;
}
