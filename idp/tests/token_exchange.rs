//! Token exchange (RFC 8693) at the hub, for cross-region work (跨省通办): a service of province
//! 51 that holds a citizen's access token gets a token for province 44's housing-fund API, on
//! the citizen's behalf; nothing wider, nothing for anyone else, nothing after revocation.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow::{as_client, jwt_parts, post_form, tokens, userinfo};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::client::GrantType;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

type Form = Vec<(String, String)>;

fn service(name: &str, redirect: &str, grants: Vec<GrantType>, first_party: bool) -> ClientSpec {
    ClientSpec {
        name: name.into(),
        redirect_uri: redirect.into(),
        grant_types: grants,
        first_party,
        ..ClientSpec::default()
    }
}

async fn exchange(
    hub: &TestServer,
    caller: &TestClient,
    form: &[(&str, &str)],
) -> common::flow::Reply {
    let mut all = vec![("grant_type", EXCHANGE)];
    all.extend_from_slice(form);
    as_client(hub, caller, "/token", &all).await
}

#[actix_web::test]
async fn a_service_gets_a_token_for_another_provinces_api_on_the_citizens_behalf() {
    let hub = TestServer::start().await;
    let citizen = id_number(33, 61);
    let sub = hub.user(&citizen, PASSWORD).await;
    let with_exchange = vec![
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::TokenExchange,
    ];
    let svc51 = hub
        .client(service(
            "四川社保跨省服务",
            "http://127.0.0.1:9/s51",
            with_exchange.clone(),
            false,
        ))
        .await;
    let api44 = hub
        .client(service(
            "广东公积金接口",
            "http://127.0.0.1:9/api44",
            vec![GrantType::ClientCredentials],
            true,
        ))
        .await;
    let plain_app = hub
        .client(service(
            "普通应用",
            "http://127.0.0.1:9/plain",
            vec![GrantType::AuthorizationCode],
            false,
        ))
        .await;
    let other_with_exchange = hub
        .client(service(
            "另一服务",
            "http://127.0.0.1:9/other",
            with_exchange,
            false,
        ))
        .await;

    let browser = Browser::new(&hub.base);
    let held = tokens(
        &hub,
        &browser,
        &svc51,
        &citizen,
        PASSWORD,
        &[
            ("scope", "openid profile offline_access"),
            ("prompt", "consent"),
        ],
    )
    .await;
    let subject_token = held.str("access_token");

    let r = exchange(
        &hub,
        &svc51,
        &[
            ("subject_token", &subject_token),
            ("subject_token_type", ACCESS_TOKEN),
            ("audience", &api44.client_id),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(r.json["token_type"], "Bearer");
    assert!(r.json.get("refresh_token").is_none() && r.json.get("id_token").is_none());
    assert_eq!(
        r.json["scope"], "profile",
        "openid and offline_access are not delegated"
    );
    let delegated = r.str("access_token");
    // The API verifies it with the hub's published keys, like any of the hub's tokens.
    let jwks: serde_json::Value = common::flow::http()
        .get(hub.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let set = keys::KeySet::from_jwks(&jwks).unwrap();
    let verified = keys::verify_jwt(&delegated, &set, &[keys::Alg::ES256], Some("at+jwt")).unwrap();
    let (_, original) = jwt_parts(&subject_token);
    let c = verified.claims;
    assert_eq!(c["aud"], api44.client_id.as_str());
    assert_eq!(c["sub"], sub.as_str(), "the citizen");
    assert_eq!(
        c["act"]["sub"],
        svc51.client_id.as_str(),
        "the service acts"
    );
    assert_eq!(c["client_id"], svc51.client_id.as_str());
    assert_eq!(c["acr"], original["acr"], "the login's level travels");
    assert!(c["exp"].as_i64().unwrap() <= original["exp"].as_i64().unwrap());

    // Meant for the API only: not for the hub's own userinfo.
    assert_eq!(userinfo(&hub, Some(&delegated)).await.status, 401);
    // The API can introspect it (it is the audience) and sees who acts.
    let seen = as_client(&hub, &api44, "/introspect", &[("token", &delegated)]).await;
    assert_eq!(seen.json["active"], true, "{}", seen.json);
    assert_eq!(seen.json["act"]["sub"], svc51.client_id.as_str());
    // A third party cannot.
    let seen = as_client(&hub, &plain_app, "/introspect", &[("token", &delegated)]).await;
    assert_eq!(seen.json["active"], false);

    // Every bad request gets its RFC 8693 error and issues nothing.
    let other_token = tokens(
        &hub,
        &Browser::new(&hub.base),
        &other_with_exchange,
        &citizen,
        PASSWORD,
        &[("scope", "openid profile")],
    )
    .await
    .str("access_token");
    let base = |token: &str, audience: &str| {
        vec![
            ("subject_token".to_owned(), token.to_owned()),
            ("subject_token_type".to_owned(), ACCESS_TOKEN.to_owned()),
            ("audience".to_owned(), audience.to_owned()),
        ]
    };
    let cases: Vec<(&str, Form, &str)> = vec![
        (
            "no subject token",
            base("", &api44.client_id),
            "invalid_request",
        ),
        (
            "a forged token",
            base("e30.e30.e30", &api44.client_id),
            "invalid_request",
        ),
        (
            "another client's token",
            base(&other_token, &api44.client_id),
            "invalid_request",
        ),
        (
            "the delegated token again",
            base(&delegated, &api44.client_id),
            "invalid_request",
        ),
        (
            "an unknown audience",
            base(&subject_token, "no-such-api"),
            "invalid_target",
        ),
        (
            "an ordinary app as audience",
            base(&subject_token, &plain_app.client_id),
            "invalid_target",
        ),
        (
            "itself as audience",
            base(&subject_token, &svc51.client_id),
            "invalid_target",
        ),
        (
            "a wider scope",
            [
                base(&subject_token, &api44.client_id),
                vec![("scope".into(), "email".into())],
            ]
            .concat(),
            "invalid_scope",
        ),
        (
            "an actor token",
            [
                base(&subject_token, &api44.client_id),
                vec![("actor_token".into(), "x".into())],
            ]
            .concat(),
            "invalid_request",
        ),
        (
            "an ID token as subject",
            vec![
                ("subject_token".into(), held.str("id_token")),
                (
                    "subject_token_type".into(),
                    "urn:ietf:params:oauth:token-type:id_token".into(),
                ),
                ("audience".into(), api44.client_id.clone()),
            ],
            "invalid_request",
        ),
    ];
    for (what, form, error) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = exchange(&hub, &svc51, &form).await;
        assert_eq!((r.status, r.error()), (400, error), "{what}: {}", r.json);
        assert!(r.json.get("access_token").is_none(), "{what}");
    }
    // An app without the grant may not exchange at all.
    let r = exchange(&hub, &plain_app, &[("subject_token", &subject_token)]).await;
    assert_eq!(r.error(), "unauthorized_client", "{}", r.json);
    // Dynamic registration does not hand the grant out.
    let reg = common::flow::http()
        .post(hub.url("/register"))
        .json(&serde_json::json!({
            "redirect_uris": ["http://127.0.0.1:9/x"],
            "grant_types": ["authorization_code", EXCHANGE],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status().as_u16(), 400);

    // The citizen's grant revoked (the service's refresh token revoked): the delegated token dies.
    let refresh = held.str("refresh_token");
    let secret = svc51.client_secret.clone().unwrap();
    let revoked = post_form(
        &hub,
        "/revoke",
        Some((&svc51.client_id, &secret)),
        &[("token", &refresh)],
    )
    .await;
    assert_eq!(revoked.status, 200);
    let seen = as_client(&hub, &api44, "/introspect", &[("token", &delegated)]).await;
    assert_eq!(seen.json["active"], false, "{}", seen.json);
}
