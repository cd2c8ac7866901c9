//! Roaming with a third-party province: province 33 is not an `idp` node but the npm
//! `oidc-provider` (the OpenID-certified reference provider). A citizen of 33 opens an app of
//! 51, is sent home through the hub, logs in at the third-party provider, lands at the app, and
//! then roams to 44 without any page.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::federation::{link, Traveller};
use common::flow::{jwt_parts, redeem};
use common::reference_op::ReferenceOp;
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use idp::flows::upstreams::{self, NewUpstream};

#[actix_web::test]
async fn a_citizen_of_a_third_party_province_roams_through_the_hub() {
    let roam = |c: &mut idp::config::Config| c.roaming_upstream = Some("00".into());
    let hub = TestServer::start_on_host("127.0.0.2", |_| {}).await;
    let p51 = TestServer::start_on_host("127.0.0.4", roam).await;
    let p44 = TestServer::start_on_host("127.0.0.5", roam).await;
    let zhejiang = ReferenceOp::start().await;
    for p in [&p51, &p44] {
        link(p, &hub, "00", "国家枢纽").await;
    }
    // The hub is a client of the third-party province, like any relying party there.
    let (client_id, secret) = zhejiang
        .client(
            "国家枢纽",
            &hub.url("/federation/callback"),
            &["openid", "profile", "id_number"],
        )
        .await;
    let issuer = zhejiang.base.clone();
    hub.with(move |svc| {
        let new = NewUpstream {
            code: "33",
            name: "浙江",
            issuer: &issuer,
            client_id: &client_id,
            client_secret: &secret,
        };
        upstreams::add(svc, &new, "test").unwrap().unwrap();
    })
    .await;
    let citizen = id_number(33, 77);
    zhejiang.user(&citizen, "王五", PASSWORD).await;
    let first_party = |name: &str| ClientSpec {
        name: name.into(),
        first_party: true,
        ..ClientSpec::default()
    };
    let app51 = p51.client(first_party("四川社保")).await;
    let app44 = p44.client(first_party("广东公积金")).await;
    let traveller = Traveller {
        browser: Browser::new(&p51.base),
    };

    // 1. At 51 the citizen types their ID number; the hub sends them home to oidc-provider.
    let start = common::flow::authorize_url(&p51, &app51, &[("nonce", "n51")]);
    let (login51, _) = traveller.travel(&p51.base, &start, &app51).await;
    let routed = traveller
        .at(&p51.base)
        .submit(&login51, "id_number", &[("id_number", &citizen)])
        .await;
    let (at_home, _) = traveller
        .travel(&p51.base, &routed.location.unwrap(), &app51)
        .await;
    assert!(
        at_home.body.contains("Sign in"),
        "oidc-provider's page: {}",
        at_home.body
    );
    let home = traveller.at(&zhejiang.base);
    let signed_in = home
        .submit(
            &at_home,
            "password",
            &[("username", &citizen), ("password", PASSWORD)],
        )
        .await;
    let (consent, _) = traveller
        .travel(&zhejiang.base, &signed_in.location.unwrap(), &app51)
        .await;
    let allowed = home
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    let (arrival, _) = traveller
        .travel(&zhejiang.base, &allowed.location.unwrap(), &app51)
        .await;
    let at_app51 = arrival
        .location
        .unwrap_or_else(|| panic!("a page instead of the app: {}", arrival.body));
    let tokens = redeem(&p51, &app51, &query_of(&at_app51)["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, id51) = jwt_parts(&tokens.str("id_token"));
    assert_eq!(id51["iss"], p51.base.as_str());
    assert_eq!(id51["nonce"], "n51");
    assert_eq!(
        id51["name"],
        serde_json::Value::Null,
        "no profile scope asked"
    );

    // The hub linked the citizen by the ID number oidc-provider signed.
    let number = citizen.clone();
    let linked = hub
        .with(move |svc| {
            idp::flows::users::find_by_login_name(svc, &number)
                .unwrap()
                .map(|u| u.password_hash.is_none())
        })
        .await;
    assert_eq!(linked, Some(true), "a roaming account at the hub");

    // 2. An app of 44: no page at all.
    let start = common::flow::authorize_url(&p44, &app44, &[("nonce", "n44")]);
    let (arrival, hops) = traveller.travel(&p44.base, &start, &app44).await;
    let at_app44 = arrival
        .location
        .unwrap_or_else(|| panic!("a page was shown: {}", arrival.body));
    assert!(hops > 2, "it went through the hub");
    let tokens = redeem(&p44, &app44, &query_of(&at_app44)["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
}
