//! Scale: the same scenarios on a PostgreSQL database holding 10,000 and 10,000,000 citizens
//! (half with a passkey, half with a licence), side by side: latency must not grow by more
//! than 20 %. The citizens are made by PostgreSQL itself (`generate_series`, one statement per
//! table), so 10 million take minutes, not hours; a database already holding them is reused.
use crate::compare::{self, Settings};
use crate::load::Outcome;
use crate::server::{start_server_keeping, Server};
use std::process::Command;
use std::sync::Arc;

/// The most a scenario's median latency may grow from the smallest size to the largest.
const MAX_GROWTH: f64 = 0.20;

fn psql(admin_url: &str, db: Option<&str>, sql: &str) -> String {
    let url = match db {
        Some(db) => format!("{}/{db}", admin_url.trim_end_matches('/')),
        None => admin_url.to_owned(),
    };
    let out = Command::new("psql")
        .args([&url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("psql (Debian's postgresql-client)");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The citizens, passkeys and licences of a national node, made in the database. Every row is
/// shaped like a real one (keyed-hash lookups, sealed blobs, a real Argon2id hash) and none can
/// log in: the bench's own citizen is the one that does.
fn populate(admin_url: &str, db: &str, citizens: u64) {
    // The citizens are made in one transaction, so the last one's presence means all are there
    // (one primary-key probe, not a scan of the whole table).
    let last = psql(
        admin_url,
        Some(db),
        &format!("SELECT count(*) FROM users WHERE sub = 'pop_{citizens}'"),
    );
    if last == "1" {
        println!("{db}: {citizens} citizens already there");
        return;
    }
    let hash = idp::domain::password::hash("not a password anyone uses").unwrap();
    let started = std::time::Instant::now();
    let shards = citizens / 2 / 50_000 + 1;
    let sql = format!(
        "DELETE FROM licences WHERE id LIKE 'lic_pop_%'; DELETE FROM status_lists WHERE id LIKE 'pop_%';
DELETE FROM passkeys WHERE cred_id LIKE 'pop_%'; DELETE FROM users WHERE sub LIKE 'pop_%';
INSERT INTO users (sub, id_number_lookup, id_number_sealed, name, password_hash, created_at, updated_at)
  SELECT 'pop_' || i, md5('lookup' || i) || md5('more' || i), decode(md5('sealed' || i) || md5(i::text), 'hex'),
         '公民' || i, '{hash}', 1764633600, 1764633600
  FROM generate_series(1, {citizens}) AS i;
INSERT INTO passkeys (cred_id, sub, user_handle, name, credential, created_at)
  SELECT 'pop_' || i, 'pop_' || i, md5('handle' || i), '手机', repeat('x', 400), 1764633600
  FROM generate_series(1, {citizens}, 2) AS i;
INSERT INTO status_lists (id, capacity, created_at)
  SELECT 'pop_' || s, 100000, 1764633600 FROM generate_series(0, {shards}) AS s;
INSERT INTO licences (id, licence_type, holder_lookup, holder_sealed, claims_sealed, valid_from, valid_until, state, status_list, status_idx, created_at, updated_at)
  SELECT 'lic_pop_' || i, 'resident_id', md5('lookup' || i) || md5('more' || i), decode(md5('h' || i), 'hex'),
         decode(repeat(md5('c' || i), 8), 'hex'), 1764633600, 2080166400, 'active',
         'pop_' || (i / 100000), (i / 2) % 50000, 1764633600, 1764633600
  FROM generate_series(2, {citizens}, 2) AS i;"
    );
    // One statement string is one transaction; VACUUM runs outside any.
    psql(admin_url, Some(db), &sql);
    for table in ["users", "passkeys", "licences"] {
        psql(admin_url, Some(db), &format!("VACUUM ANALYZE {table}"));
    }
    // Write the new pages out now, not during the measurement that follows.
    psql(admin_url, Some(db), "CHECKPOINT");
    println!(
        "{db}: {citizens} citizens, {} passkeys, {} licences made in {:.0} s",
        citizens.div_ceil(2),
        citizens / 2,
        started.elapsed().as_secs_f64()
    );
}

/// Every round starts from the same state: the rows earlier rounds left behind (grants, audit
/// entries, sessions) vacuumed and counted, and every dirty page written out, so that neither
/// a stale plan nor a checkpoint falls inside one round and not another. (This VM's PostgreSQL
/// runs with autovacuum off; a production one would do the vacuuming by itself.)
fn settle(admin_url: &str, db: &str) {
    psql(admin_url, Some(db), "VACUUM ANALYZE");
    psql(admin_url, Some(db), "CHECKPOINT");
}

/// Fingerprint logins: each virtual client binds a passkey of its own first.
async fn fingerprint(server: &Server, f: &Arc<crate::server::Fixture>, s: &Settings) -> Outcome {
    let http = crate::flows::http();
    let mut states = Vec::new();
    for _ in 0..s.concurrency {
        let session = crate::flows::log_in(&http, &server.base, f)
            .await
            .expect("log in");
        let phone = crate::passkey::bind_phone(&http, server, &session)
            .await
            .expect("bind a passkey");
        states.push((http.clone(), server.base.clone(), phone));
    }
    crate::load::measure(
        "fingerprint login (start + finish)",
        states,
        s.duration,
        server.child.id(),
        |mut st| async move {
            let ok = crate::passkey::passkey_login(&st.0, &st.1, &mut st.2).await;
            (st, ok)
        },
    )
    .await
}

fn database_for(admin_url: &str, citizens: u64) -> String {
    let db = format!("idp_bench_{citizens}");
    let exists = psql(
        admin_url,
        None,
        &format!("SELECT 1 FROM pg_database WHERE datname = '{db}'"),
    );
    if exists != "1" {
        psql(admin_url, None, &format!("CREATE DATABASE {db}"));
    }
    db
}

/// Runs the scenarios at each size and prints their latencies side by side; false when a
/// scenario failed or grew by more than 20 %. The sizes run in order and then in reverse
/// (A B B A), and each scenario keeps its better round at each size: a host that slows down or
/// speeds up during the run then weighs on both sizes alike.
pub async fn run(admin_url: &str, sizes: &[u64], settings: &Settings) -> bool {
    let mut order: Vec<u64> = sizes.to_vec();
    order.extend(sizes.iter().rev());
    let mut rounds: Vec<(u64, Vec<Outcome>)> = Vec::new();
    for &n in &order {
        let db = database_for(admin_url, n);
        let url = format!("{}/{db}", admin_url.trim_end_matches('/'));
        // The KEK beside the database's name, so a later run can reuse its citizens.
        let kek = std::env::temp_dir().join(format!("{db}.kek"));
        let (server, fixture): (Server, _) = start_server_keeping(Some(&url), Some(&kek));
        crate::wait_ready(&server).await;
        populate(admin_url, &db, n);
        settle(admin_url, &db);
        let fixture = Arc::new(fixture);
        let mut outcomes = compare::ours(&server, &fixture, settings).await;
        outcomes.push(fingerprint(&server, &fixture, settings).await);
        rounds.push((n, outcomes));
    }
    // Per size: each scenario's best round (lowest median), errors summed over both.
    let runs: Vec<(u64, Vec<Outcome>)> = sizes
        .iter()
        .map(|&n| {
            let mut mine = rounds.iter().filter(|(m, _)| *m == n).map(|(_, o)| o);
            let first = mine.next().expect("every size ran");
            let second = mine.next();
            let best = first
                .iter()
                .enumerate()
                .map(|(i, a)| match second.map(|s| &s[i]) {
                    Some(b) if b.percentile(0.5) < a.percentile(0.5) => Outcome {
                        errors: a.errors + b.errors,
                        ..b.clone()
                    },
                    Some(b) => Outcome {
                        errors: a.errors + b.errors,
                        ..a.clone()
                    },
                    None => a.clone(),
                })
                .collect();
            (n, best)
        })
        .collect();
    let Some(((small, first), rest)) = runs.split_first() else {
        return true;
    };
    let mut ok = true;
    print!("| scenario | p50 ms at {small}");
    for (n, _) in rest {
        print!(" | p50 ms at {n} | growth");
    }
    println!(" | ops/s at each |");
    println!("|---|---:{}|---|", "|---:|---:".repeat(rest.len()));
    for (i, base) in first.iter().enumerate() {
        ok &= base.errors == 0 && base.ops > 0;
        let mut line = format!("| {} | {:.2}", base.name, base.percentile(0.5));
        let mut rates = vec![format!("{:.0}", base.per_second())];
        for (_, outcomes) in rest {
            let o = &outcomes[i];
            ok &= o.errors == 0 && o.ops > 0;
            let growth = o.percentile(0.5) / base.percentile(0.5).max(1e-6) - 1.0;
            ok &= growth <= MAX_GROWTH;
            line += &format!(" | {:.2} | {:+.0}%", o.percentile(0.5), growth * 100.0);
            rates.push(format!("{:.0}", o.per_second()));
        }
        println!("{line} | {} |", rates.join(" / "));
    }
    println!(
        "scale: {}",
        if ok {
            "every scenario within +20 % (or faster)"
        } else {
            "FAILED: a scenario had errors or grew by more than 20 %"
        }
    );
    ok
}
