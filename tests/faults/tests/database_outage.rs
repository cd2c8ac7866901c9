//! Acceptance 1: PostgreSQL stops while the provider is under load. Every request gets a clear
//! 503 (a page for the browser, the OAuth error JSON for the app), nothing panics, the service
//! comes back by itself when the database does, and nothing half-issued survives: no code the
//! app never received, no refresh token from a redemption that was answered with an error.
use fault_tests::browser::{client, Browser};
use fault_tests::db::Db;
use fault_tests::load::{signed_in, Load, SCOPE};
use fault_tests::node::Node;
use fault_tests::oauth::{id_number, stored_hash, App};
use fault_tests::postgres::Cluster;
use fault_tests::{poll, PASSWORD, REDIRECT};
use std::collections::HashSet;

const BEFORE: u8 = 0;
const OUTAGE: u8 = 1;
const AFTER: u8 = 2;
const WORKERS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_under_load_gets_clear_503s_and_service_resumes_by_itself() {
    let mut pg = Cluster::primary(false);
    pg.create_database("idp");
    let mut node = Node::new("127.0.0.1", Some(pg.url("idp")));
    let (client_id, secret) = node.app("负载应用", REDIRECT, &[]);
    let citizens: Vec<String> = (0..WORKERS).map(|i| id_number(11, 100 + i)).collect();
    for c in &citizens {
        node.user(c, "王五");
    }
    node.serve().await;
    let app = App {
        base: node.base.clone(),
        client_id,
        secret,
        redirect_uri: REDIRECT.into(),
    };
    let mut acknowledged: HashSet<String> = HashSet::new();
    let mut browsers = Vec::new();
    for c in &citizens {
        let (browser, tokens) = signed_in(&app, c).await;
        acknowledged.insert(
            tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        );
        browsers.push(browser);
    }
    let (_, probe_tokens) = signed_in(&app, &citizens[0]).await;
    acknowledged.insert(
        probe_tokens["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    );
    let access = probe_tokens["access_token"].as_str().expect("access token");
    // A citizen who has the login page open when the database goes.
    let late = Browser::new();
    let parked = late
        .get(&app.authorize(SCOPE, &[]).url)
        .await
        .expect("authorize");
    let login_page = late
        .get(&parked.next().expect("to the login page"))
        .await
        .expect("login page");

    let load = Load::start(&app, browsers);
    load.wait_each(BEFORE, true, 3).await;

    // The database goes at the worst moment, on purpose: while audit appends queue for the
    // chain's head (another session holds it, as a burst of writers would), so a redemption has
    // stored its tokens and waits to record them.
    let _head = pg.session(
        "idp",
        "BEGIN; SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE;",
    );
    poll::until(
        "an audit append waits for the chain's head",
        300,
        std::time::Duration::from_millis(50),
        || async {
            let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'";
            pg.count("idp", waiting) >= 1
        },
    )
    .await;
    pg.stop_immediately();
    load.phase(OUTAGE);
    let http = client(false);
    poll::readyz(&http, &node.base, 503).await;
    load.wait_each(OUTAGE, false, 2).await;
    // What a person sees: a page in their language saying to try again shortly.
    let page = Browser::new()
        .get(&app.authorize(SCOPE, &[]).url)
        .await
        .expect("an answer during the outage");
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.is_html(), "a page for the browser: {page:?}");
    assert!(page.body.contains("服务暂时不可用"), "{}", page.body);
    assert!(
        page.retry_after.is_some(),
        "Retry-After tells when to come back"
    );
    let login = late
        .submit(
            &login_page,
            "password",
            &[("username", &citizens[0]), ("password", PASSWORD)],
        )
        .await
        .expect("an answer during the outage");
    assert_eq!(login.status, 503, "{}", login.body);
    assert!(
        login.is_html() && login.body.contains("服务暂时不可用"),
        "{login:?}"
    );
    // What an app sees: the protocol's own error.
    let token = app
        .redeem(&http, "a-code-nobody-can-check-now", "v")
        .await
        .expect("an answer");
    assert_eq!(token.status, 503, "{}", token.body);
    assert_eq!(
        token.json()["error"],
        "temporarily_unavailable",
        "{}",
        token.body
    );
    let info = http
        .get(format!("{}/userinfo", node.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("an answer");
    assert_eq!(info.status(), 503, "userinfo cannot check revocation now");

    pg.start();
    load.phase(AFTER);
    poll::readyz(&http, &node.base, 200).await;
    load.wait_each(AFTER, true, 3).await;
    let record = load.stop().await;
    eprintln!(
        "{}\n{}",
        record.summary(OUTAGE, 503),
        record.summary(AFTER, 200)
    );

    assert!(node.server_alive(), "idp serve died:\n{}", node.log());
    node.assert_log_clean();
    let unclear = record.unclear();
    assert!(
        unclear.is_empty(),
        "{} answers were neither a success nor a clear 503, e.g.:\n{}",
        unclear.len(),
        unclear
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Nothing half-issued: every live code was delivered, every live refresh token acknowledged.
    // (Read before anything below spends or rotates them.)
    acknowledged.extend(record.refresh_tokens.iter().cloned());
    let delivered: HashSet<String> = record
        .unredeemed
        .iter()
        .map(|(c, _)| stored_hash(c))
        .collect();
    let db = Db::Postgres(&pg, "idp");
    // Codes are sealed and stored only when redeemed (spent), so none should be live at all;
    // this guards against a code ever being stored again before the app has it.
    let live_codes = db.texts(
        "SELECT code_hash AS line FROM grants WHERE code_hash IS NOT NULL \
         AND code_used_at IS NULL AND revoked_at IS NULL",
    );
    let undelivered = live_codes
        .iter()
        .filter(|h| !delivered.contains(*h))
        .count();
    let known: HashSet<String> = acknowledged.iter().map(|t| stored_hash(t)).collect();
    // Each live refresh token with the code of its grant.
    let live_refresh: Vec<(String, String)> = db
        .texts(
            "SELECT r.token_hash || ' ' || COALESCE(g.code_hash, '-') AS line \
             FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id \
             WHERE r.used_at IS NULL AND g.revoked_at IS NULL",
        )
        .iter()
        .filter_map(|l| l.split_once(' '))
        .map(|(t, c)| (t.to_owned(), c.to_owned()))
        .collect();
    let half_issued: Vec<_> = live_refresh
        .iter()
        .filter(|(t, _)| !known.contains(t))
        .collect();
    let after_an_error = half_issued
        .iter()
        .filter(|(_, c)| delivered.contains(c))
        .count();

    // Every acknowledged refresh token works: nothing acknowledged was lost.
    for token in &record.refresh_tokens {
        let refreshed = app.refresh(&http, token).await.expect("an answer");
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    }
    // An app retrying a code that got a 503 gets tokens or a clean invalid_grant.
    for (code, verifier) in &record.unredeemed {
        let retried = app.redeem(&http, code, verifier).await.expect("an answer");
        assert!(
            retried.status == 200 || retried.json()["error"] == "invalid_grant",
            "{}",
            retried.body
        );
    }
    let audit = node.ok(&["audit", "verify"], None);
    assert_eq!(audit["intact"], true, "{audit}");

    assert_eq!(
        undelivered, 0,
        "codes are live that no app received (half-issued)"
    );
    assert!(
        half_issued.is_empty(),
        "{} live refresh tokens (of {}) were never acknowledged to the app; {after_an_error} of \
         them come from a code whose redemption was answered 503, yet the tokens were stored",
        half_issued.len(),
        live_refresh.len(),
    );
}
