//! The hash-chained audit log finds altered, removed and truncated entries; /metrics counts
//! per client.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow::{self, as_client};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use diesel::connection::SimpleConnection;
use idp::domain::audit::ChainBreak;
use idp::flows::audit::{self, VerifyError};

/// A server with a few audited events: a user, an app, a login, a consent, tokens.
async fn busy_server() -> TestServer {
    let server = TestServer::start().await;
    let citizen = id_number(33, 101);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    as_client(
        &server,
        &app,
        "/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    server
}

async fn verify(server: &TestServer) -> Result<i64, ChainBreak> {
    server
        .with(|s| match audit::verify(&s.store, &s.secrets.audit) {
            Ok(n) => Ok(n),
            Err(VerifyError::Broken(b)) => Err(b),
            Err(VerifyError::Store(e)) => panic!("store: {e}"),
        })
        .await
}

async fn sql(server: &TestServer, statement: &'static str) {
    server
        .with(move |s| s.store.conn().unwrap().batch_execute(statement).unwrap())
        .await;
}

#[actix_web::test]
async fn an_intact_log_verifies_and_an_altered_entry_is_found() {
    let server = busy_server().await;
    let n = verify(&server).await.unwrap();
    assert!(n >= 5, "{n} entries");
    let kinds: Vec<String> = server
        .with(|s| s.store.audit_recent(None, 100).unwrap())
        .await
        .into_iter()
        .map(|e| e.event.kind)
        .collect();
    for k in [
        "user.created",
        "client.registered",
        "login.success",
        "consent.granted",
        "token.issued",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    sql(&server, "UPDATE audit_log SET actor = 'x' WHERE seq = 2").await;
    assert_eq!(verify(&server).await, Err(ChainBreak::Altered(2)));
    server.stop().await;
}

#[actix_web::test]
async fn a_removed_entry_is_found() {
    let server = busy_server().await;
    verify(&server).await.unwrap();
    sql(&server, "DELETE FROM audit_log WHERE seq = 3").await;
    assert_eq!(verify(&server).await, Err(ChainBreak::Missing(3)));
    server.stop().await;
}

#[actix_web::test]
async fn a_truncated_log_is_found() {
    let server = busy_server().await;
    let n = verify(&server).await.unwrap();
    sql(
        &server,
        "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
    )
    .await;
    assert_eq!(
        verify(&server).await,
        Err(ChainBreak::Truncated {
            expected: n,
            found: n - 1
        })
    );
    server.stop().await;
}

#[actix_web::test]
async fn rewriting_an_entry_with_a_fresh_hash_breaks_the_next_link() {
    let server = busy_server().await;
    verify(&server).await.unwrap();
    // Someone who knows the hash function rewrites entry 2 consistently...
    server
        .with(|s| {
            let mut e = s
                .store
                .audit_entries(1, 1)
                .unwrap()
                .into_iter()
                .next()
                .unwrap();
            e.event.actor = "x".into();
            let hash = idp::domain::audit::entry_hash(
                &s.secrets.audit,
                &e.prev_hash,
                e.seq,
                e.at,
                &e.event,
            );
            let stmt = format!("UPDATE audit_log SET actor = 'x', hash = '{hash}' WHERE seq = 2");
            s.store.conn().unwrap().batch_execute(&stmt).unwrap();
        })
        .await;
    // ...but entry 3 still points at the old hash.
    assert_eq!(verify(&server).await, Err(ChainBreak::Relinked(3)));
    server.stop().await;
}

#[actix_web::test]
async fn metrics_count_tokens_and_errors_per_client() {
    let server = TestServer::start().await;
    let app = server.client(ClientSpec::default()).await;
    let quiet = server.client(ClientSpec::default()).await;
    for _ in 0..3 {
        let r = as_client(
            &server,
            &app,
            "/token",
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let bad = [("grant_type", "client_credentials"), ("scope", "openid")];
    assert_eq!(as_client(&server, &app, "/token", &bad).await.status, 400);
    let resp = flow::http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    let line = |name: &str, id: &str| format!("{name}{{client_id=\"{id}\"}} ");
    let value = |name: &str, id: &str| -> Option<i64> {
        let prefix = line(name, id);
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(|v| v.trim().parse().unwrap())
    };
    assert_eq!(
        value("idp_client_tokens_total", &app.client_id),
        Some(3),
        "{text}"
    );
    assert_eq!(
        value("idp_client_errors_total", &app.client_id),
        Some(1),
        "{text}"
    );
    assert_eq!(
        value("idp_client_logins_total", &app.client_id),
        Some(0),
        "{text}"
    );
    assert!(value("idp_client_tokens_total", &quiet.client_id).unwrap_or(0) == 0);
    assert!(text.contains("# TYPE idp_client_tokens_total counter"));
    // Counts add up across scrapes (flushed, not reset).
    as_client(
        &server,
        &app,
        "/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    let text = flow::http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!(
            "{}4",
            line("idp_client_tokens_total", &app.client_id)
        )),
        "{text}"
    );
    server.stop().await;
}

#[actix_web::test]
async fn the_audit_log_never_holds_an_id_number_or_a_password() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 102);
    server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, "a wrong password").await;
    flow::login(&browser, &id_number(33, 103), PASSWORD).await;
    flow::login(&browser, &citizen, PASSWORD).await;
    let entries = server
        .with(|s| s.store.audit_recent(None, 100).unwrap())
        .await;
    let kinds: Vec<&str> = entries.iter().map(|e| e.event.kind.as_str()).collect();
    assert!(
        kinds.contains(&"login.failure") && kinds.contains(&"login.success"),
        "{kinds:?}"
    );
    let text = serde_json::to_string(&entries).unwrap();
    for secret in [
        citizen.as_str(),
        &id_number(33, 103),
        PASSWORD,
        "a wrong password",
    ] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
    server.stop().await;
}
