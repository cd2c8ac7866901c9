//! Account enumeration beyond the first answer (which `login_throttle::
//! wrong_password_and_unknown_account_look_the_same` covers): the lock that guessing earns looks
//! the same for an account that exists and one that does not, and neither the home-region
//! routing nor the registration read tells whether a citizen or an app is known here.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{Browser, Page};
use common::flow;
use common::{id_number, TestServer, PASSWORD};
use idp::flows::upstreams::{self, NewUpstream};

async fn attempt(server: &TestServer, user: &str, password: &str) -> Page {
    flow::login(&Browser::new(&server.base), user, password).await
}

/// A page with the per-request parts (the CSRF token) taken out.
fn comparable(page: &Page) -> (u16, String) {
    let mut body = page.body.clone();
    while let Some(start) = body.find(r#"name="csrf" value=""#) {
        let from = start + r#"name="csrf" value=""#.len();
        let end = body[from..].find('"').unwrap() + from;
        body.replace_range(start..end, "CSRF");
    }
    (page.status.as_u16(), body)
}

#[actix_web::test]
async fn the_lock_that_guessing_earns_looks_the_same_for_known_and_unknown_accounts() {
    let server = TestServer::start().await;
    let known = id_number(33, 271);
    server.user(&known, PASSWORD).await; // phone 13800138000
    for (known, unknown) in [
        (known.as_str(), id_number(33, 272)),
        ("13800138000", "13900139000".to_owned()),
    ] {
        let mut answers = Vec::new();
        for user in [known, unknown.as_str()] {
            let mut seen = Vec::new();
            for _ in 0..6 {
                seen.push(comparable(&attempt(&server, user, "wrong guess!").await));
            }
            answers.push(seen);
        }
        let statuses: Vec<u16> = answers[0].iter().map(|(s, _)| *s).collect();
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429], "{known}");
        for (i, ((status_a, a), (status_b, b))) in answers[0].iter().zip(&answers[1]).enumerate() {
            // The page keeps what was typed on a wrong password (not once locked): nothing else.
            let b = b.replace(unknown.as_str(), known);
            assert_eq!(status_a, status_b, "{known} attempt {i}");
            assert_eq!(*a, b, "{known} attempt {i}: the pages differ");
        }
        server.clock.advance(901);
    }
    server.stop().await;
}

#[actix_web::test]
async fn finding_the_home_region_tells_nothing_about_the_account() {
    let server = TestServer::start().await;
    server
        .with(|svc| {
            let new = NewUpstream {
                code: "51",
                name: "四川",
                issuer: "http://127.0.0.1:9",
                client_id: "node-51",
                client_secret: "a-secret-of-node-51",
            };
            upstreams::add(svc, &new, "test").unwrap().unwrap();
        })
        .await;
    // One citizen of 51 has an account here (they roamed before), the other not.
    let (registered, stranger) = (id_number(51, 273), id_number(51, 274));
    server.another_user(&registered, "王五").await;
    let mut answers = Vec::new();
    for number in [&registered, &stranger] {
        let browser = Browser::new(&server.base);
        let page = browser.get("/login").await;
        let routed = browser
            .submit(&page, "id_number", &[("id_number", number.as_str())])
            .await;
        assert!(!routed.body.contains(number.as_str()));
        let home = flow::set_cookie(&routed, "idp_home");
        answers.push((routed.status, routed.location, home));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 303, "{:?}", answers[0]);
    server.stop().await;
}

#[actix_web::test]
async fn reading_a_registration_tells_nothing_about_which_apps_exist() {
    let server = TestServer::start().await;
    let token = server
        .with(|s| idp::flows::clients::issue_registration_token(s, false, 3600, "test").unwrap())
        .await;
    let r: serde_json::Value = flow::http()
        .post(server.url("/register"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({ "client_name": "x", "redirect_uris": ["https://app.example/cb"] }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let known = r["client_id"].as_str().unwrap();
    let mut answers = Vec::new();
    for id in [known, "no-such-app"] {
        let resp = flow::http()
            .get(server.url(&format!("/register/{id}")))
            .bearer_auth("a-wrong-registration-token")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        answers.push((status, challenge, resp.text().await.unwrap()));
    }
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0], answers[1]);
    server.stop().await;
}
