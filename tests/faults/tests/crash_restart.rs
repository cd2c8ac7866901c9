//! Acceptance 2: `kill -9` of `idp serve` under load, then a restart, on SQLite and on
//! PostgreSQL. Nothing that was acknowledged is lost: sessions and consents (some made just
//! before the crash), tokens, users, apps and licences (written by the admin CLI meanwhile),
//! their audit entries, and the audit chain verifies. A code redeemed before the crash cannot
//! be redeemed again after it.
//! (Passkeys are not exercised: registering one needs a software authenticator, which this
//! crate does not carry; the users and apps the CLI creates stand in for stored credentials.)
use fault_tests::admin_writes::{AdminWriter, Written};
use fault_tests::browser::{client, Browser};
use fault_tests::db::Db;
use fault_tests::load::{sign_in, signed_in, Load, SCOPE};
use fault_tests::node::Node;
use fault_tests::oauth::{code_of, id_number, App};
use fault_tests::postgres::Cluster;
use fault_tests::{poll, REDIRECT};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WORKERS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_nothing_acknowledged_on_sqlite() {
    crash_and_restart(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_nothing_acknowledged_on_postgres() {
    let pg = Cluster::primary(false);
    pg.create_database("idp");
    crash_and_restart(Some(&pg)).await;
}

type Arrivals = Arc<Mutex<Vec<(App, Browser)>>>;

/// Newcomers: each citizen the admin created logs in to the app created with them and
/// consents, while everything else goes on. Keeps in `done` the pairs that were acknowledged
/// (a code came back and was redeemed).
fn newcomers(
    base: String,
    written: Arc<Mutex<Written>>,
    stop: Arc<AtomicBool>,
    done: Arrivals,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut next = 0;
        while !stop.load(Ordering::SeqCst) {
            let pair = {
                let w = written.lock().expect("written");
                w.users.get(next).cloned().zip(w.clients.get(next).cloned())
            };
            let Some(((number, _), (client_id, secret))) = pair else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            next += 1;
            let app = App {
                base: base.clone(),
                client_id,
                secret,
                redirect_uri: REDIRECT.into(),
            };
            if let Ok((browser, _)) = sign_in(&app, &number).await {
                done.lock().expect("arrivals").push((app, browser));
            }
        }
    })
}

/// The browser gets a code without a page: its session and its consent are there.
async fn assert_silent_code(app: &App, browser: &Browser, who: &str) {
    let silent = app.authorize(SCOPE, &[("prompt", "none")]);
    let page = browser.get(&silent.url).await.expect("authorize");
    assert!(
        code_of(&page).is_some(),
        "{who}: session or consent lost: {page:?}"
    );
}

async fn crash_and_restart(pg: Option<&Cluster>) {
    let mut node = Node::new("127.0.0.1", pg.map(|c| c.url("idp")));
    let (client_id, secret) = node.app("崩溃应用", REDIRECT, &[]);
    let citizens: Vec<String> = (0..WORKERS).map(|i| id_number(11, 200 + i)).collect();
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
    let http = client(false);
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

    // Under load: the workers' flows, the admin CLI writing next to the server, and the
    // citizens it creates logging in to the apps it creates.
    let load = Load::start(&app, browsers.clone());
    let writer = AdminWriter::start(node.admin());
    let stop_newcomers = Arc::new(AtomicBool::new(false));
    let arrived: Arrivals = Arc::default();
    let arriving = newcomers(
        node.base.clone(),
        writer.written(),
        stop_newcomers.clone(),
        arrived.clone(),
    );
    load.wait_each(0, true, 3).await;
    poll::until(
        "two newcomers logged in",
        600,
        Duration::from_millis(100),
        || async { arrived.lock().expect("arrivals").len() >= 2 },
    )
    .await;
    // A code redeemed just before the crash.
    let (replayer, _) = signed_in(&app, &citizens[0]).await;
    let request = app.authorize(SCOPE, &[]);
    let page = replayer.get(&request.url).await.expect("authorize");
    let code = code_of(&page).expect("a code");
    let first = app
        .redeem(&http, &code, &request.verifier)
        .await
        .expect("token");
    assert_eq!(first.status, 200, "{}", first.body);

    node.kill9();
    load.phase(1);
    stop_newcomers.store(true, Ordering::SeqCst);
    let admin = writer.stop();
    arriving.await.expect("newcomers");
    let arrived = std::mem::take(&mut *arrived.lock().expect("arrivals"));
    let record = load.stop().await;
    refresh_tokens.extend(record.refresh_tokens.iter().cloned());
    eprintln!(
        "acknowledged before the crash: {} tokens, {} newcomer logins, {} users, {} apps, {} licences",
        refresh_tokens.len(),
        arrived.len(),
        admin.users.len(),
        admin.clients.len(),
        admin.licences.len()
    );
    assert!(!arrived.is_empty(), "no newcomer logged in under load");
    node.serve().await;
    poll::readyz(&http, &node.base, 200).await;

    // The code cannot be redeemed twice across the restart, and the replay revokes its tokens.
    let again = app
        .redeem(&http, &code, &request.verifier)
        .await
        .expect("token");
    assert_eq!(
        (again.status, again.json()["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let refresh = first.json()["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let revoked = app.refresh(&http, &refresh).await.expect("token");
    assert_eq!(
        revoked.status, 400,
        "a replayed code's refresh token dies: {}",
        revoked.body
    );

    for (i, browser) in browsers.iter().enumerate() {
        assert_silent_code(&app, browser, &format!("worker {i}")).await;
    }
    for (newcomer, browser) in &arrived {
        assert_silent_code(
            newcomer,
            browser,
            "a newcomer logged in just before the crash",
        )
        .await;
    }
    for token in &refresh_tokens {
        let refreshed = app.refresh(&http, token).await.expect("token");
        assert_eq!(
            refreshed.status, 200,
            "an acknowledged token was lost: {}",
            refreshed.body
        );
    }
    let db = match pg {
        Some(c) => Db::Postgres(c, "idp"),
        None => Db::Sqlite(node.sqlite_path().expect("SQLite file")),
    };
    let users: Vec<String> = admin.users.iter().map(|(_, sub)| sub.clone()).collect();
    let clients: Vec<String> = admin.clients.iter().map(|(id, _)| id.clone()).collect();
    for (table, key, ids) in [
        ("users", "sub", &users),
        ("clients", "client_id", &clients),
        ("licences", "id", &admin.licences),
    ] {
        let list = ids
            .iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",");
        let found = db.count(&format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {key} IN ({list})"
        ));
        assert_eq!(found, ids.len() as i64, "acknowledged {table} lost");
    }
    // Audit: an entry for everything acknowledged, and the chain verifies.
    let people = citizens.len() + arrived.len();
    for (kind, at_least) in [
        ("login.success", people + 1),
        ("consent.granted", people),
        ("token.issued", people + record.refresh_tokens.len() + 2),
        ("user.created", citizens.len() + users.len()),
        ("client.registered", 1 + clients.len()),
        ("licence.imported", admin.licences.len()),
    ] {
        let n = db.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE kind = '{kind}'"
        ));
        assert!(
            n >= at_least as i64,
            "{n} {kind} audit entries, {at_least} acknowledged"
        );
    }
    let audit = node.ok(&["audit", "verify"], None);
    assert_eq!(audit["intact"], true, "{audit}");
    node.assert_log_clean();
}
