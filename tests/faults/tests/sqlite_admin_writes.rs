//! Acceptance 5: on SQLite, many admin commands write at once while the server serves logins.
//! Each one succeeds or fails cleanly (an `error:` line, no panic); after a `kill -9` of the
//! server (and of some commands) in the middle of it all, the file passes SQLite's integrity
//! check, every acknowledged row is there, and the provider starts again with its audit intact.
use fault_tests::browser::client;
use fault_tests::load::{signed_in, Load};
use fault_tests::node::{Admin, CliRun, Node};
use fault_tests::oauth::{id_number, App};
use fault_tests::{poll, sqlite, REDIRECT};
use std::process::Child;

const AT_ONCE: u32 = 8;

/// `AT_ONCE` user creations and as many app registrations, all started together; wave `wave`
/// keeps their names apart from other waves'.
fn start_wave(admin: &Admin, wave: u32) -> Vec<(&'static str, Child)> {
    let mut running = Vec::new();
    for i in 0..AT_ONCE {
        let number = id_number(14, wave * 100 + i);
        let args = [
            "user",
            "create",
            "--id-number",
            &number,
            "--name",
            "并发",
            "--password-stdin",
        ];
        running.push(("users", admin.spawn_cli(&args, Some(fault_tests::PASSWORD))));
        let name = format!("并发应用 {wave}-{i}");
        let args = [
            "client",
            "create",
            "--name",
            &name,
            "--redirect-uri",
            REDIRECT,
        ];
        running.push(("clients", admin.spawn_cli(&args, None)));
    }
    running
}

fn finish(child: Child) -> CliRun {
    CliRun::of(child.wait_with_output().expect("idp ran"))
}

/// The ids the successful runs printed, by table: (users' subs, clients' ids).
fn acknowledged(runs: &[(&str, CliRun)]) -> (Vec<String>, Vec<String>) {
    let ids = |table: &str, key: &str| {
        runs.iter()
            .filter(|(t, r)| *t == table && r.ok)
            .map(|(_, r)| r.json()[key].as_str().expect("id").to_owned())
            .collect()
    };
    (ids("users", "sub"), ids("clients", "client_id"))
}

fn assert_clean(runs: &[(&str, CliRun)]) {
    for (table, run) in runs {
        assert!(
            run.is_clean(),
            "an admin write to {table} did not end cleanly: {run:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_admin_writes_and_a_crash_leave_a_sound_sqlite_file() {
    let mut node = Node::new("127.0.0.1", None);
    let file = node.sqlite_path().expect("SQLite");
    let (client_id, secret) = node.app("登录应用", REDIRECT, &[]);
    let citizens: Vec<String> = (0..2).map(|i| id_number(11, 300 + i)).collect();
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
    let mut browsers = Vec::new();
    for c in &citizens {
        browsers.push(signed_in(&app, c).await.0);
    }
    let load = Load::start(&app, browsers);
    load.wait_each(0, true, 2).await;

    // Wave 1: all at once, with logins going on; every one ends cleanly.
    let admin = node.admin();
    let wave: Vec<_> = start_wave(&admin, 1)
        .into_iter()
        .map(|(t, c)| (t, finish(c)))
        .collect();
    assert_clean(&wave);
    let (mut users, mut clients) = acknowledged(&wave);
    let failed = wave.iter().filter(|(_, r)| !r.ok).count();
    assert_eq!(
        failed, 0,
        "the busy timeout should let every write through: {wave:?}"
    );
    assert!(
        load.record().unclear().is_empty(),
        "{:?}",
        load.record().unclear()
    );

    // Wave 2: the server and a quarter of the commands are killed while they write.
    let mut running = start_wave(&admin, 2);
    load.wait_each(0, true, 4).await;
    node.kill9();
    for (_, child) in running.iter_mut().step_by(4) {
        let _ = child.kill();
    }
    let _ = load.stop().await;
    // The killed ones that had not finished yet end by our signal; every other ends cleanly.
    let finished: Vec<_> = running.into_iter().map(|(t, c)| (t, finish(c))).collect();
    let total = finished.len();
    let survivors: Vec<_> = finished
        .into_iter()
        .filter(|(_, r)| r.signal != Some(9))
        .collect();
    eprintln!(
        "wave 2: {} of {total} commands killed mid-write, {} acknowledged",
        total - survivors.len(),
        survivors.iter().filter(|(_, r)| r.ok).count()
    );
    assert_clean(&survivors);
    let (more_users, more_clients) = acknowledged(&survivors);
    users.extend(more_users);
    clients.extend(more_clients);

    assert_eq!(sqlite::integrity_check(&file), "ok");
    assert_eq!(
        sqlite::count(&file, "SELECT COUNT(*) AS n FROM pragma_foreign_key_check"),
        0,
        "rows point at rows that do not exist"
    );
    for (table, key, ids) in [("users", "sub", &users), ("clients", "client_id", &clients)] {
        let list = ids
            .iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",");
        let found = sqlite::count(
            &file,
            &format!("SELECT COUNT(*) AS n FROM {table} WHERE {key} IN ({list})"),
        );
        assert_eq!(found, ids.len() as i64, "acknowledged {table} lost");
    }

    node.serve().await;
    poll::readyz(&client(false), &node.base, 200).await;
    let audit = node.ok(&["audit", "verify"], None);
    assert_eq!(audit["intact"], true, "{audit}");
    // And it serves logins again.
    signed_in(&app, &citizens[0]).await;
    node.assert_log_clean();
}
