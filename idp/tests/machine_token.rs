//! client_credentials answered by the async worker when the app is already in memory: the
//! same answers as the full exchange, every token audited before it is handed out, and every
//! refusal still judged (and counted) once.
#![allow(clippy::unwrap_used)]
mod common;

use base64::Engine as _;
use common::flow::{as_client, post_form, Reply};
use common::{ClientSpec, TestClient, TestServer};
use diesel::connection::SimpleConnection;
use idp::domain::client::ClientStatus;

const CC: (&str, &str) = ("grant_type", "client_credentials");

fn jti_of(access_token: &str) -> String {
    let payload = access_token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

/// `token.issued` entries of the audit log for this app, as their `jti`s.
async fn audited_jtis(server: &TestServer, app: &TestClient) -> Vec<String> {
    let client_id = app.client_id.clone();
    server
        .with(move |s| s.store.audit_recent(Some("token.issued"), 100).unwrap())
        .await
        .into_iter()
        .filter(|e| e.event.client_id.as_deref() == Some(client_id.as_str()))
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.event.detail).unwrap();
            detail["jti"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn token(server: &TestServer, app: &TestClient, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![CC];
    form.extend_from_slice(extra);
    as_client(server, app, "/token", &form).await
}

#[actix_web::test]
async fn every_token_of_a_cached_app_is_audited_with_its_jti() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    // The first request reads the app from the database; the rest find it in memory.
    let mut jtis = Vec::new();
    for _ in 0..4 {
        let r = token(&server, &app, &[]).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["token_type"], "Bearer");
        assert!(r.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store"));
        jtis.push(jti_of(&r.str("access_token")));
    }
    let mut audited = audited_jtis(&server, &app).await;
    audited.sort();
    jtis.sort();
    assert_eq!(audited, jtis);
    server.stop().await;
}

#[actix_web::test]
async fn a_cached_app_is_refused_exactly_as_before() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    assert_eq!(token(&server, &app, &[]).await.status, 200);

    let wrong = post_form(
        &server,
        "/token",
        Some((&app.client_id, "not-the-secret")),
        &[CC],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error(), "invalid_client");
    assert!(wrong.headers.contains_key("www-authenticate"));

    let user_scope = token(&server, &app, &[("scope", "openid")]).await;
    assert_eq!(
        (user_scope.status, user_scope.error()),
        (400, "invalid_scope")
    );

    let twice = token(&server, &app, &[CC]).await;
    assert_eq!((twice.status, twice.error()), (400, "invalid_request"));

    // Suspended by an operator of this replica: refused at once, cache or not.
    let id = app.client_id.clone();
    server
        .with(move |s| {
            idp::flows::clients::set_status(s, &id, ClientStatus::Suspended, Some("abuse"), "op")
                .unwrap()
        })
        .await;
    let suspended = token(&server, &app, &[]).await;
    assert_eq!(
        (suspended.status, suspended.error()),
        (400, "unauthorized_client"),
        "{}",
        suspended.json
    );
    // Only the first token was issued.
    assert_eq!(audited_jtis(&server, &app).await.len(), 1);
    server.stop().await;
}

#[actix_web::test]
async fn an_app_bound_to_dpop_still_needs_a_proof_when_cached() {
    let server = TestServer::start().await;
    let app = server
        .client(ClientSpec {
            dpop: true,
            ..ClientSpec::default()
        })
        .await;
    for _ in 0..2 {
        let r = token(&server, &app, &[]).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_dpop_proof"),
            "{}",
            r.json
        );
    }
    server.stop().await;
}

#[actix_web::test]
async fn no_token_is_handed_out_when_its_audit_entry_cannot_be_stored() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    assert_eq!(token(&server, &app, &[]).await.status, 200);
    server
        .with(|s| {
            s.store
                .conn()
                .unwrap()
                .batch_execute("ALTER TABLE audit_log RENAME TO audit_log_gone")
                .unwrap()
        })
        .await;
    for _ in 0..2 {
        let r = token(&server, &app, &[]).await;
        assert_eq!(r.status, 503, "{}", r.json);
        assert!(r.json.get("access_token").is_none(), "{}", r.json);
    }
    server.stop().await;
}
