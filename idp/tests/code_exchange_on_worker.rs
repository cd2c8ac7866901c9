//! Code exchanges answered by the async worker when the app is already in memory (see
//! `flows::code_exchange::without_blocking`): the same answers as the full exchange, the grant
//! and the audit entry stored in one commit before any token is handed out, and every refusal
//! judged as before. Each redemption below follows a client_credentials request, which puts
//! the app in the one-second client cache.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow::{self, as_client, post_form, redeem, userinfo, Reply};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use diesel::connection::SimpleConnection;

struct Setup {
    server: TestServer,
    browser: Browser,
    app: TestClient,
    citizen: String,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let citizen = id_number(33, 41);
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

    /// Redeems right after a client_credentials token, so the app is in the client cache.
    async fn redeem_cached(&self, code: &str, extra: &[(&str, &str)]) -> Reply {
        let warm = as_client(
            &self.server,
            &self.app,
            "/token",
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(warm.status, 200, "{}", warm.json);
        redeem(&self.server, &self.app, code, extra).await
    }

    async fn count(&self, sql: &'static str) -> i64 {
        self.server.count(sql).await
    }
}

fn jti_of(token: &str) -> String {
    flow::jwt_parts(token).1["jti"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn every_token_is_audited_and_its_grant_stored_in_the_same_commit() {
    let s = setup().await;
    let (verifier, challenge) = flow::pkce();
    for _ in 0..3 {
        let code = s
            .code(&[
                ("scope", "openid profile offline_access"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .await;
        let grants = s.count("SELECT COUNT(*) FROM grants").await;
        let r = s
            .redeem_cached(&code, &[("code_verifier", &verifier)])
            .await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert!(r.json["id_token"].is_string());
        assert_eq!(s.count("SELECT COUNT(*) FROM grants").await, grants + 1);
        let jti = jti_of(&r.str("access_token"));
        let audited = s
            .server
            .with(|svc| svc.store.audit_recent(Some("token.issued"), 100).unwrap())
            .await;
        assert!(
            audited.iter().any(|e| e.event.detail.contains(&jti)),
            "no audit entry names {jti}"
        );
        // The refresh token was stored in that commit too.
        let refreshed = as_client(
            &s.server,
            &s.app,
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &r.str("refresh_token")),
            ],
        )
        .await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    }
    s.server.stop().await;
}

#[actix_web::test]
async fn a_cached_app_gets_the_same_refusals() {
    let s = setup().await;
    let (verifier, challenge) = flow::pkce();
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // A wrong verifier: refused, and the code is spent.
    let code = s.code(&pkce).await;
    let (other, _) = flow::pkce();
    let wrong = s.redeem_cached(&code, &[("code_verifier", &other)]).await;
    assert_eq!((wrong.status, wrong.error()), (400, "invalid_grant"));
    let late = s
        .redeem_cached(&code, &[("code_verifier", &verifier)])
        .await;
    assert_eq!((late.status, late.error()), (400, "invalid_grant"));

    // A replay revokes what the first redemption gave.
    let code = s.code(&pkce).await;
    let first = s
        .redeem_cached(&code, &[("code_verifier", &verifier)])
        .await;
    assert_eq!(first.status, 200, "{}", first.json);
    let replay = s
        .redeem_cached(&code, &[("code_verifier", &verifier)])
        .await;
    assert_eq!((replay.status, replay.error()), (400, "invalid_grant"));
    assert!(replay.json["error_description"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    assert_eq!(
        userinfo(&s.server, Some(&first.str("access_token")))
            .await
            .status,
        401
    );

    // A wrong secret is 401, and does not spend the code.
    let code = s.code(&pkce).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", s.app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let bad = post_form(&s.server, "/token", Some((&s.app.client_id, "nope")), &form).await;
    assert_eq!((bad.status, bad.error()), (401, "invalid_client"));

    // The session logged out before the code was redeemed: no tokens.
    let confirm = s.browser.get("/logout").await;
    let done = s
        .browser
        .submit(&confirm, "confirm", &[("confirm", "yes")])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let ended = s
        .redeem_cached(&code, &[("code_verifier", &verifier)])
        .await;
    assert_eq!((ended.status, ended.error()), (400, "invalid_grant"));
    assert!(ended.json["error_description"]
        .as_str()
        .unwrap()
        .contains("session ended"));
    s.server.stop().await;
}

#[actix_web::test]
async fn when_the_commit_fails_nothing_is_handed_out_and_the_code_is_not_spent() {
    let s = setup().await;
    let code = s.code(&[]).await;
    let grants = s.count("SELECT COUNT(*) FROM grants").await;
    s.server
        .with(|svc| {
            svc.store
                .conn()
                .unwrap()
                .batch_execute("ALTER TABLE audit_log RENAME TO audit_log_gone")
                .unwrap()
        })
        .await;
    let r = s.redeem_cached_without_warming(&code).await;
    assert_eq!(r.status, 503, "{}", r.json);
    assert!(r.json.get("access_token").is_none(), "{}", r.json);
    assert_eq!(s.count("SELECT COUNT(*) FROM grants").await, grants);
    s.server
        .with(|svc| {
            svc.store
                .conn()
                .unwrap()
                .batch_execute("ALTER TABLE audit_log_gone RENAME TO audit_log")
                .unwrap()
        })
        .await;
    let retried = s.redeem_cached(&code, &[]).await;
    assert_eq!(retried.status, 200, "{}", retried.json);
    s.server.stop().await;
}

impl Setup {
    /// With the audit log gone a client_credentials token cannot be had either: the app is put
    /// in the cache by a refused request instead (the refusal reads the app first).
    async fn redeem_cached_without_warming(&self, code: &str) -> Reply {
        let scope = as_client(
            &self.server,
            &self.app,
            "/token",
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
        assert_eq!(scope.status, 400, "{}", scope.json);
        redeem(&self.server, &self.app, code, &[]).await
    }
}
