//! Seamless roaming (无感漫游) across a federation of four nodes, each on its own database (the
//! hub's on PostgreSQL): the hub and provinces 33, 51 and 44. A citizen of 33 opens an app of 51, tells 51 their ID number
//! once, logs in at home, and lands at the app; then an app of 44 lets them in without any page.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::federation::{link, Traveller};
use common::flow::{jwt_parts, redeem};
use common::{id_number, ClientSpec, TestServer, PASSWORD};

#[actix_web::test]
async fn a_citizen_logs_in_once_at_home_and_roams_to_another_province_without_a_page() {
    let roam = |c: &mut idp::config::Config| c.roaming_upstream = Some("00".into());
    // The hub on PostgreSQL, the provinces on SQLite (all four on PostgreSQL in that run).
    let hub = TestServer::start_on_host_with_postgres("127.0.0.2", |_| {}).await;
    let p33 = TestServer::start_on_host("127.0.0.3", roam).await;
    let p51 = TestServer::start_on_host("127.0.0.4", roam).await;
    let p44 = TestServer::start_on_host("127.0.0.5", roam).await;
    link(&hub, &p33, "33", "浙江").await;
    for p in [&p33, &p51, &p44] {
        link(p, &hub, "00", "国家枢纽").await;
    }
    let citizen = id_number(33, 41);
    p33.user(&citizen, PASSWORD).await;
    let app51 = p51
        .client(ClientSpec {
            name: "四川社保".into(),
            ..ClientSpec::default()
        })
        .await;
    let app44 = p44
        .client(ClientSpec {
            name: "广东公积金".into(),
            first_party: true,
            ..ClientSpec::default()
        })
        .await;
    let traveller = Traveller {
        browser: Browser::new(&p51.base),
    };

    // 1. The app of 51: the federation has no session yet, so 51 shows its login page.
    let start = common::flow::authorize_url(&p51, &app51, &[("nonce", "n51")]);
    let (login51, _) = traveller.travel(&p51.base, &start, &app51).await;
    assert!(login51.body.contains("其他地区的账号"), "{}", login51.body);
    // The citizen types their ID number once; the hub sends them straight home to 33.
    let routed = traveller
        .at(&p51.base)
        .submit(&login51, "id_number", &[("id_number", &citizen)])
        .await;
    let (login33, _) = traveller
        .travel(&p51.base, &routed.location.unwrap(), &app51)
        .await;
    assert!(
        login33.body.contains(r#"name="password""#),
        "{}",
        login33.body
    );
    assert!(
        !login33.body.contains("其他地区的账号") || login33.body.contains("password"),
        "the home's own login page"
    );
    let logged_in = traveller
        .at(&p33.base)
        .submit(
            &login33,
            "password",
            &[("username", &citizen), ("password", PASSWORD)],
        )
        .await;
    let (consent51, _) = traveller
        .travel(&p33.base, &logged_in.location.unwrap(), &app51)
        .await;
    // 51's own app asks for consent once (it is not a first-party service).
    let allowed = traveller
        .at(&p51.base)
        .submit(&consent51, "decision", &[("decision", "allow")])
        .await;
    let at_app51 = allowed.location.unwrap();
    assert!(at_app51.starts_with(&app51.redirect_uri), "{at_app51}");
    let tokens = redeem(&p51, &app51, &query_of(&at_app51)["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id_token_51 = tokens.str("id_token");
    let (_, id51) = jwt_parts(&id_token_51);
    assert_eq!(id51["iss"], p51.base.as_str());
    assert_eq!(
        id51["acr"],
        idp::domain::acr::ACR_PASSWORD,
        "home's level travels"
    );

    // 2. The app of 44: 无感漫游, not a single page on the way.
    let start = common::flow::authorize_url(&p44, &app44, &[("nonce", "n44")]);
    let (arrival, hops) = traveller.travel(&p44.base, &start, &app44).await;
    let at_app44 = arrival
        .location
        .unwrap_or_else(|| panic!("a page was shown: {}", arrival.body));
    assert!(hops > 2, "it went through the hub");
    let tokens = redeem(&p44, &app44, &query_of(&at_app44)["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, id44) = jwt_parts(&tokens.str("id_token"));
    assert_eq!(id44["nonce"], "n44");

    // 3. Logout at 51 ends the session along the whole chain: 51, the hub, home 33 and 44.
    let app33 = p33.client(ClientSpec::default()).await;
    let out = traveller
        .at(&p51.base)
        .get(&format!("/logout?id_token_hint={}", id_token_51))
        .await;
    assert_eq!(out.status.as_u16(), 200, "{}", out.body);
    for (node, app) in [(&p51, &app51), (&p44, &app44), (&p33, &app33)] {
        let silent = common::flow::authorize_url(node, app, &[("prompt", "none")]);
        let (back, _) = traveller.travel(&node.base, &silent, app).await;
        let at_app = back
            .location
            .unwrap_or_else(|| panic!("a page: {}", back.body));
        assert_eq!(
            query_of(&at_app).get("error").map(String::as_str),
            Some("login_required"),
            "still logged in at {}",
            node.base
        );
    }

    // One national subject at the hub: the citizen was linked once, by ID number.
    let number = citizen.clone();
    let at_hub = hub
        .with(move |svc| {
            idp::flows::users::find_by_login_name(svc, &number)
                .unwrap()
                .map(|u| u.password_hash.is_none())
        })
        .await;
    assert_eq!(
        at_hub,
        Some(true),
        "a roaming account at the hub, no password"
    );
}
