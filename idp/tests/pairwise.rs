//! Pairwise subject identifiers (OIDC Core 8.1): apps of different sectors see different,
//! stable `sub` values for one citizen, apps of one sector the same; every place a client meets
//! the `sub` (ID token, access token, userinfo, introspection, id_token_hint) agrees.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow::{as_client, jwt_parts, tokens, userinfo};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use serde_json::{json, Value};

fn in_sector(name: &str, sector: Option<&str>, redirect: &str) -> ClientSpec {
    ClientSpec {
        name: name.into(),
        redirect_uri: redirect.into(),
        pairwise_sector: sector.map(str::to_owned),
        ..ClientSpec::default()
    }
}

/// Logs the citizen in at `app` (one browser, so one session) and returns its token response.
async fn sub_at(server: &TestServer, browser: &Browser, app: &TestClient, user: &str) -> Value {
    tokens(
        server,
        browser,
        app,
        user,
        PASSWORD,
        &[("scope", "openid profile")],
    )
    .await
    .json
}

#[actix_web::test]
async fn apps_of_different_sectors_cannot_correlate_a_citizen() {
    let server = TestServer::start().await;
    let citizen = id_number(11, 31);
    let local = server.user(&citizen, PASSWORD).await;
    let health = server
        .client(in_sector(
            "医保",
            Some("health.gov.example"),
            "http://127.0.0.1:9/h",
        ))
        .await;
    let health_too = server
        .client(in_sector(
            "医院挂号",
            Some("health.gov.example"),
            "http://127.0.0.1:9/h2",
        ))
        .await;
    let tax = server
        .client(in_sector(
            "个税",
            Some("tax.gov.example"),
            "http://127.0.0.1:9/t",
        ))
        .await;
    let public = server
        .client(in_sector("公共应用", None, "http://127.0.0.1:9/p"))
        .await;
    let browser = Browser::new(&server.base);
    let mut subs = Vec::new();
    for app in [&health, &health_too, &tax, &public] {
        let t = sub_at(&server, &browser, app, &citizen).await;
        let (_, id) = jwt_parts(t["id_token"].as_str().unwrap());
        let (_, at) = jwt_parts(t["access_token"].as_str().unwrap());
        let sub = id["sub"].as_str().unwrap().to_owned();
        assert_eq!(
            at["sub"],
            sub.as_str(),
            "the access token names the same sub"
        );
        let info = userinfo(&server, t["access_token"].as_str()).await;
        assert_eq!(info.status, 200, "{}", info.json);
        assert_eq!(info.json["sub"], sub.as_str(), "userinfo agrees");
        let seen = as_client(
            &server,
            app,
            "/introspect",
            &[("token", t["access_token"].as_str().unwrap())],
        )
        .await;
        assert_eq!(seen.json["active"], true, "{}", seen.json);
        assert_eq!(seen.json["sub"], sub.as_str(), "introspection agrees");
        subs.push(sub);
    }
    assert_eq!(subs[0], subs[1], "one sector, one sub");
    assert_ne!(subs[0], subs[2], "another sector, another sub");
    assert_eq!(subs[3], local, "a public client sees the citizen's own sub");
    assert!(
        !subs[..3].contains(&local),
        "pairwise subs do not reveal it"
    );
    // Stable: a second login gives the same pairwise sub.
    let again = sub_at(&server, &Browser::new(&server.base), &tax, &citizen).await;
    let (_, id) = jwt_parts(again["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], subs[2].as_str());
    // Another citizen gets another pairwise sub in the same sector.
    let other = id_number(11, 32);
    server.another_user(&other, "李四").await;
    let theirs = sub_at(&server, &Browser::new(&server.base), &tax, &other).await;
    let (_, id) = jwt_parts(theirs["id_token"].as_str().unwrap());
    assert_ne!(id["sub"], subs[2].as_str());

    // An id_token_hint carries the pairwise sub: it matches the session's citizen.
    let (_, hinted) = jwt_parts(again["id_token"].as_str().unwrap());
    assert_eq!(hinted["sub"], subs[2].as_str());
    let hint = again["id_token"].as_str().unwrap();
    let silent = common::flow::authorize_url(
        &server,
        &tax,
        &[("prompt", "none"), ("id_token_hint", hint)],
    );
    let browser = Browser::new(&server.base);
    sub_at(&server, &browser, &tax, &citizen).await;
    let back = browser.get(&silent).await;
    let loc = back.location.unwrap();
    assert!(
        loc.contains("code="),
        "the hint names the session's citizen: {loc}"
    );
    // The other citizen's hint does not.
    let other_hint = theirs["id_token"].as_str().unwrap();
    let wrong = common::flow::authorize_url(
        &server,
        &tax,
        &[("prompt", "none"), ("id_token_hint", other_hint)],
    );
    let back = browser.get(&wrong).await;
    assert!(back.location.unwrap().contains("error=login_required"));
}

#[actix_web::test]
async fn registration_checks_the_sector() {
    let server = TestServer::start_localhost().await;
    // The sector document, served like a client would (loopback is allowed for a loopback
    // development provider only).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sector_base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server_doc = actix_web::HttpServer::new(|| {
        actix_web::App::new()
            .route(
                "/sector.json",
                actix_web::web::get().to(|| async {
                    actix_web::HttpResponse::Ok()
                        .json(json!(["http://127.0.0.1:9/a", "http://localhost:9/b"]))
                }),
            )
            .route(
                "/not-a-list.json",
                actix_web::web::get()
                    .to(|| async { actix_web::HttpResponse::Ok().json(json!({ "a": 1 })) }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server_doc);
    let register = |body: Value| {
        let url = server.url("/register");
        async move {
            let r = common::flow::http()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let sector = format!("{sector_base}/sector.json");
    let (status, body) = register(json!({
        "redirect_uris": ["http://127.0.0.1:9/a", "http://localhost:9/b"],
        "subject_type": "pairwise", "sector_identifier_uri": sector,
    }))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["subject_type"], "pairwise");
    assert_eq!(body["sector_identifier_uri"], sector.as_str());
    let (status, body) = register(json!({
        "redirect_uris": ["http://127.0.0.1:9/a"], "subject_type": "pairwise",
    }))
    .await;
    assert_eq!(status, 201, "one host is its own sector: {body}");
    let (status, body) = register(json!({ "redirect_uris": ["http://127.0.0.1:9/a"] })).await;
    assert_eq!(
        (status, body["subject_type"].as_str()),
        (201, Some("public"))
    );

    let refused = [
        json!({ "redirect_uris": ["http://127.0.0.1:9/c"], "subject_type": "pairwise",
                "sector_identifier_uri": sector }),
        json!({ "redirect_uris": ["http://127.0.0.1:9/a", "http://localhost:9/b"],
                "subject_type": "pairwise" }),
        json!({ "redirect_uris": ["http://127.0.0.1:9/a"], "subject_type": "pairwise",
                "sector_identifier_uri": format!("{sector_base}/not-a-list.json") }),
        json!({ "redirect_uris": ["http://127.0.0.1:9/a"], "subject_type": "pairwise",
                "sector_identifier_uri": format!("{sector_base}/missing.json") }),
        json!({ "redirect_uris": ["http://127.0.0.1:9/a"], "subject_type": "anonymous" }),
    ];
    for body in refused {
        let (status, answer) = register(body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"], "invalid_client_metadata", "{body}");
    }
}
