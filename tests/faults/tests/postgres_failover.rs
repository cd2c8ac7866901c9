//! Acceptance 6: PostgreSQL fails over. A primary and a synchronous streaming hot standby; the
//! provider is given both hosts (`target_session_attrs=read-write`). Under load, the primary
//! crashes and the standby is promoted: the provider finds the new primary by itself (no
//! restart), answers only successes or clear 503s meanwhile, and loses nothing it acknowledged.
use fault_tests::browser::client;
use fault_tests::db::Db;
use fault_tests::load::{signed_in, Load, SCOPE};
use fault_tests::node::Node;
use fault_tests::oauth::{code_of, id_number, App};
use fault_tests::postgres::Cluster;
use fault_tests::{poll, REDIRECT};

const WORKERS: u32 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_provider_follows_a_promoted_standby_and_loses_nothing_acknowledged() {
    let mut primary = Cluster::primary(true);
    let standby = primary.standby();
    poll::until(
        "the standby replicates synchronously",
        300,
        std::time::Duration::from_millis(100),
        || async {
            primary.query("postgres", "SELECT sync_state FROM pg_stat_replication") == "sync"
        },
    )
    .await;
    primary.create_database("idp");
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/idp?target_session_attrs=read-write",
        primary.port, standby.port
    );
    let mut node = Node::new("127.0.0.1", Some(url));
    let (client_id, secret) = node.app("切换应用", REDIRECT, &[]);
    let citizens: Vec<String> = (0..WORKERS).map(|i| id_number(11, 400 + i)).collect();
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
    let mut refresh_tokens = Vec::new();
    let mut browsers = Vec::new();
    for c in &citizens {
        let (browser, tokens) = signed_in(&app, c).await;
        refresh_tokens.push(
            tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        );
        browsers.push(browser);
    }
    let load = Load::start(&app, browsers.clone());
    load.wait_each(0, true, 3).await;
    // An admin write acknowledged just before the primary goes.
    let before = node.user(&id_number(12, 401), "切换前");

    primary.stop_immediately();
    load.phase(1);
    standby.promote();
    let http = client(false);
    poll::readyz(&http, &node.base, 200).await;
    load.wait_each(1, true, 3).await;
    let record = load.stop().await;
    eprintln!("{}\n{}", record.summary(1, 503), record.summary(1, 200));
    refresh_tokens.extend(record.refresh_tokens.iter().cloned());

    assert!(node.server_alive(), "idp serve died:\n{}", node.log());
    node.assert_log_clean();
    let unclear = record.unclear();
    assert!(
        unclear.is_empty(),
        "{} answers were neither a success nor a clear 503 during the failover, e.g.:\n{}",
        unclear.len(),
        unclear
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Nothing acknowledged was lost: sessions and consents (a code without a page), tokens,
    // the admin's user, and the audit chain; and the new primary takes new writes.
    for (i, browser) in browsers.iter().enumerate() {
        let silent = app.authorize(SCOPE, &[("prompt", "none")]);
        let page = browser.get(&silent.url).await.expect("authorize");
        assert!(
            code_of(&page).is_some(),
            "worker {i}'s session or consent was lost: {page:?}"
        );
    }
    for token in &refresh_tokens {
        let refreshed = app.refresh(&http, token).await.expect("token");
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    }
    let db = Db::Postgres(&standby, "idp");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM users WHERE sub = '{before}'"
        )),
        1,
        "the user created before the failover"
    );
    node.user(&id_number(12, 402), "切换后");
    signed_in(&app, &citizens[0]).await;
    let audit = node.ok(&["audit", "verify"], None);
    assert_eq!(audit["intact"], true, "{audit}");
    let issued = db.count("SELECT COUNT(*) AS n FROM audit_log WHERE kind = 'token.issued'");
    assert!(
        issued >= refresh_tokens.len() as i64,
        "{issued} token.issued entries"
    );
}
