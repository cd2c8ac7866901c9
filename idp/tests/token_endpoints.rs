//! client_credentials, introspection (RFC 7662), revocation (RFC 7009), private_key_jwt client
//! authentication (RFC 7523) and refresh tokens bound to their client.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow::{self, as_client, post_form, userinfo, Reply};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::{AuthMethod, GrantType};
use serde_json::json;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn cc(scope: Option<&str>) -> Vec<(&str, &str)> {
    let mut f = vec![("grant_type", "client_credentials")];
    if let Some(s) = scope {
        f.push(("scope", s));
    }
    f
}

/// A citizen's tokens (with a refresh token) for `app`.
async fn citizen_tokens(server: &TestServer, app: &TestClient) -> Reply {
    let citizen = id_number(33, 61);
    server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    let extra = [("scope", "openid profile offline_access")];
    flow::tokens(server, &browser, app, &citizen, PASSWORD, &extra).await
}

async fn refresh(server: &TestServer, client: &TestClient, token: &str) -> Reply {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token)];
    as_client(server, client, "/token", &form).await
}

#[actix_web::test]
async fn client_credentials_with_basic_and_post_authentication() {
    let server = TestServer::start().await;
    let basic = server.client(ClientSpec::default()).await;
    let post = server
        .client(ClientSpec {
            auth_method: AuthMethod::ClientSecretPost,
            ..ClientSpec::default()
        })
        .await;
    let r = as_client(&server, &basic, "/token", &cc(Some("api.read"))).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["scope"], "api.read");
    assert_eq!(r.json["token_type"], "Bearer");
    assert!(r.json.get("refresh_token").is_none() && r.json.get("id_token").is_none());
    let (header, claims) = flow::jwt_parts(&r.str("access_token"));
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(claims["sub"], basic.client_id.as_str());
    assert_eq!(claims["client_id"], basic.client_id.as_str());
    // A token for an app acting for itself opens no citizen's data.
    assert_eq!(
        userinfo(&server, Some(&r.str("access_token"))).await.status,
        403
    );
    // Without a scope: the app's own non-user scopes.
    let r = as_client(&server, &basic, "/token", &cc(None)).await;
    assert_eq!(r.json["scope"], "api.read", "{}", r.json);

    let secret = post.client_secret.clone().unwrap();
    let mut form = cc(Some("api.read"));
    form.extend([
        ("client_id", post.client_id.as_str()),
        ("client_secret", &secret),
    ]);
    let r = post_form(&server, "/token", None, &form).await;
    assert_eq!(r.status, 200, "{}", r.json);
    // Each client only with the method it registered.
    let r = as_client(&server, &post, "/token", &cc(None)).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));

    for scope in ["openid", "api.read profile", "id_number", "api.write"] {
        let r = as_client(&server, &basic, "/token", &cc(Some(scope))).await;
        assert_eq!((r.status, r.error()), (400, "invalid_scope"), "{scope}");
    }
    let public = server
        .client(ClientSpec {
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode],
            ..ClientSpec::default()
        })
        .await;
    let mut form = cc(Some("api.read"));
    form.push(("client_id", &public.client_id));
    let r = post_form(&server, "/token", None, &form).await;
    assert_eq!(
        (r.status, r.error()),
        (400, "unauthorized_client"),
        "{}",
        r.json
    );
    server.stop().await;
}

#[actix_web::test]
async fn introspection_describes_only_the_callers_live_tokens() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let other = server.client(ClientSpec::default()).await;
    let tokens = citizen_tokens(&server, &app).await;
    let (access, refresh_token) = (tokens.str("access_token"), tokens.str("refresh_token"));
    let introspect = |c: &TestClient, t: &str| {
        let (c, t) = (c.clone(), t.to_owned());
        let server = &server;
        async move { as_client(server, &c, "/introspect", &[("token", t.as_str())]).await }
    };
    let r = introspect(&app, &access).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["active"], true, "{}", r.json);
    assert_eq!(r.json["client_id"], app.client_id.as_str());
    assert_eq!(r.json["scope"], "offline_access openid profile");
    let (_, claims) = flow::jwt_parts(&access);
    assert_eq!(r.json["sub"], claims["sub"]);
    assert_eq!(r.json["exp"], claims["exp"]);
    assert_eq!(r.headers["cache-control"], "no-store");

    assert_eq!(
        introspect(&other, &access).await.json,
        json!({ "active": false })
    );
    assert_eq!(
        introspect(&app, "garbage").await.json,
        json!({ "active": false })
    );
    let r = introspect(&app, &refresh_token).await;
    assert_eq!(r.json["active"], true, "{}", r.json);
    assert_eq!(r.json["client_id"], app.client_id.as_str());
    assert_eq!(
        introspect(&other, &refresh_token).await.json["active"],
        false
    );
    let rotated = refresh(&server, &app, &refresh_token).await;
    assert_eq!(rotated.status, 200);
    assert_eq!(introspect(&app, &refresh_token).await.json["active"], false);
    assert_eq!(
        introspect(&app, &rotated.str("refresh_token")).await.json["active"],
        true
    );

    let revoke = as_client(&server, &app, "/revoke", &[("token", access.as_str())]).await;
    assert_eq!(revoke.status, 200);
    assert_eq!(introspect(&app, &access).await.json["active"], false);

    let public = server
        .client(ClientSpec {
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode],
            ..ClientSpec::default()
        })
        .await;
    let form = [("token", access.as_str()), ("client_id", &public.client_id)];
    let r = post_form(&server, "/introspect", None, &form).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let r = post_form(&server, "/introspect", None, &[("token", access.as_str())]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    server.stop().await;
}

#[actix_web::test]
async fn revoking_a_refresh_token_ends_its_grant() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let tokens = citizen_tokens(&server, &app).await;
    let (access, refresh_token) = (tokens.str("access_token"), tokens.str("refresh_token"));
    let r = as_client(
        &server,
        &app,
        "/revoke",
        &[("token", refresh_token.as_str())],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = refresh(&server, &app, &refresh_token).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
    let info = userinfo(&server, Some(&access)).await;
    assert_eq!(info.status, 401);
    assert!(info
        .www_authenticate()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    server.stop().await;
}

#[actix_web::test]
async fn revoking_access_tokens_unknown_tokens_and_other_clients_tokens() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let other = server.client(ClientSpec::default()).await;
    let tokens = citizen_tokens(&server, &app).await;
    let (access, refresh_token) = (tokens.str("access_token"), tokens.str("refresh_token"));
    // Another client's attempt: 200 (RFC 7009 2.2), and nothing happens.
    for t in [&access, &refresh_token] {
        let r = as_client(&server, &other, "/revoke", &[("token", t.as_str())]).await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(userinfo(&server, Some(&access)).await.status, 200);
    let r = as_client(&server, &app, "/revoke", &[("token", "no-such-token")]).await;
    assert_eq!(r.status, 200);
    // Revoking a token requires knowing who asks.
    let r = post_form(
        &server,
        "/revoke",
        Some((&app.client_id, "bad")),
        &[("token", &access)],
    )
    .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    assert_eq!(userinfo(&server, Some(&access)).await.status, 200);

    let r = as_client(&server, &app, "/revoke", &[("token", access.as_str())]).await;
    assert_eq!(r.status, 200);
    assert_eq!(userinfo(&server, Some(&access)).await.status, 401);
    // The refresh token (other client's attempt ignored) still works.
    assert_eq!(refresh(&server, &app, &refresh_token).await.status, 200);
    server.stop().await;
}

#[actix_web::test]
async fn a_refresh_token_works_only_for_its_own_client() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let thief = server.client(ClientSpec::default()).await;
    let tokens = citizen_tokens(&server, &app).await;
    let stolen = refresh(&server, &thief, &tokens.str("refresh_token")).await;
    assert_eq!((stolen.status, stolen.error()), (400, "invalid_grant"));
    let own = refresh(&server, &app, &tokens.str("refresh_token")).await;
    assert_eq!(own.status, 200, "{}", own.json);
    // A refresh may narrow the scope, never widen it.
    let r = as_client(
        &server,
        &app,
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &own.str("refresh_token")),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!((r.status, r.error()), (400, "invalid_scope"));
    server.stop().await;
}

struct KeyClient {
    client: TestClient,
    key: keys::SigningKey,
}

impl KeyClient {
    fn assertion(
        &self,
        server: &TestServer,
        adjust: impl FnOnce(&mut serde_json::Value),
    ) -> String {
        let now = flow::now(server);
        let mut claims = json!({
            "iss": self.client.client_id,
            "sub": self.client.client_id,
            "aud": server.url("/token"),
            "iat": now,
            "exp": now + 60,
            "jti": keys::random_token(16),
        });
        adjust(&mut claims);
        self.key
            .sign_jwt("JWT", claims.as_object().unwrap())
            .unwrap()
    }

    async fn token(&self, server: &TestServer, assertion: &str) -> Reply {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ];
        post_form(server, "/token", None, &form).await
    }
}

#[actix_web::test]
async fn private_key_jwt_client_authentication() {
    let server = TestServer::start().await;
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let jwks = json!({ "keys": [key.public_jwk()] });
    let client = server
        .client(ClientSpec {
            auth_method: AuthMethod::PrivateKeyJwt,
            jwks: Some(jwks),
            ..ClientSpec::default()
        })
        .await;
    assert!(client.client_secret.is_none());
    let kc = KeyClient { client, key };

    let good = kc.assertion(&server, |_| {});
    let r = kc.token(&server, &good).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["scope"], "api.read");
    let replay = kc.token(&server, &good).await;
    assert_eq!(
        (replay.status, replay.error()),
        (401, "invalid_client"),
        "replayed jti"
    );

    let issuer = server.base.clone();
    let refused: Vec<(&str, String)> = vec![
        (
            "wrong audience",
            kc.assertion(&server, |c| {
                c["aud"] = json!("https://elsewhere.example/token")
            }),
        ),
        (
            "expired",
            kc.assertion(&server, |c| {
                c["exp"] = json!(c["iat"].as_i64().unwrap() - 60);
                c["iat"] = json!(c["iat"].as_i64().unwrap() - 120);
            }),
        ),
        (
            "sub is not the client",
            kc.assertion(&server, |c| c["sub"] = json!("someone-else")),
        ),
        (
            "no jti",
            kc.assertion(&server, |c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
        ),
        (
            "lives too long",
            kc.assertion(&server, |c| {
                c["exp"] = json!(c["iat"].as_i64().unwrap() + 86_400)
            }),
        ),
    ];
    for (what, assertion) in refused {
        let r = kc.token(&server, &assertion).await;
        assert_eq!((r.status, r.error()), (401, "invalid_client"), "{what}");
    }
    // The issuer itself is an accepted audience (RFC 7523 3).
    let r = kc
        .token(
            &server,
            &kc.assertion(&server, |c| c["aud"] = json!(issuer)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // Signed with another key.
    let stranger = KeyClient {
        client: kc.client.clone(),
        key: keys::SigningKey::generate(keys::Alg::ES256).unwrap(),
    };
    let r = kc
        .token(&server, &stranger.assertion(&server, |_| {}))
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    // An assertion is not accepted together with a secret.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", &kc.assertion(&server, |_| {})),
        ("client_secret", "x"),
    ];
    let r = post_form(&server, "/token", None, &form).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
    // Expired once the clock moves past exp (plus the leeway).
    let later = kc.assertion(&server, |_| {});
    server.clock.advance(91);
    let r = kc.token(&server, &later).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    server.stop().await;
}
