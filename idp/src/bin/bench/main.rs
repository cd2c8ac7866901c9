//! `idp-bench`: starts an `idp serve` process on a fresh database and drives real multi-step
//! flows over HTTP against it, then prints throughput, latency, errors, the server's CPU time
//! per 1,000 operations and its memory (idle and peak, from /proc); in its own process, the
//! licence verifier's and issuer's rates on one core and a 10M-entry status list; then the
//! scenarios npm `oidc-provider` also supports, against both, with the ratio (`compare.rs`),
//! and each scenario as a share of the physical limit of its cryptography (`limits.rs`).
//!
//!   cargo build --release -p idp && target/release/idp-bench            # full run
//!   target/debug/idp-bench --smoke                                     # CI: a few seconds
//!   target/release/idp-bench --soak 600                                # 10-minute soak
//!   target/release/idp-bench --scale 10000,10000000 --database-url postgres://...  # scale
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use clap::Parser;
mod compare;
mod flows;
mod licences;
mod limits;
mod load;
mod passkey;
mod qr;
mod reference;
mod roaming;
mod routing;
mod scale;
mod server;
mod soak;
mod tokens;
mod wire;

use flows::{client_credentials, code_flow, http, log_in};
use load::Outcome;
use passkey::{bind_phone, passkey_login};
use server::{cpu_seconds, hashing_seconds, memory_kib, start_server, Fixture, Server};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wire::Wire;

#[derive(Debug, Parser)]
#[command(about = "Load generator and benchmark for idp")]
struct Args {
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent virtual clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Database for the server (default: SQLite in a temporary folder).
    #[arg(long)]
    database_url: Option<String>,
    /// A short run that only checks the tool works (CI).
    #[arg(long)]
    smoke: bool,
    /// Upstream identity providers configured for the home routing scenario.
    #[arg(long, default_value_t = 10_000)]
    upstreams: usize,
    /// Sequential logins of each kind for the roaming latency figure.
    #[arg(long, default_value_t = 40)]
    roaming_logins: usize,
    /// Entries of the status list measured (1% revoked).
    #[arg(long, default_value_t = 10_000_000)]
    status_list_entries: u64,
    /// Instead of the benchmark: the token and login scenarios on PostgreSQL databases holding
    /// each number of citizens (made first if missing), latency side by side, e.g.
    /// `--scale 10000,10000000 --database-url postgres://postgres@127.0.0.1`.
    #[arg(long, value_delimiter = ',', value_name = "CITIZENS")]
    scale: Vec<u64>,
    /// Instead of the benchmark: a soak of SECONDS at 70% of the measured peak, mixed flows.
    #[arg(long, value_name = "SECONDS")]
    soak: Option<u64>,
    /// Instead of the whole run: only these of the first table's scenarios, on a fresh server,
    /// e.g. `--only client_credentials,code_flow` (for profiling; names as in `Scenario::parse`).
    #[arg(long, value_delimiter = ',', value_name = "SCENARIO")]
    only: Vec<String>,
}

#[derive(Clone, Copy)]
enum Scenario {
    ClientCredentials,
    CodeFlow,
    PasskeyLogin,
    QrLogin,
    HomeRouting,
    /// Only with `--only` (the full run measures it side by side, in `compare`).
    PasswordLogin,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::ClientCredentials,
        Scenario::CodeFlow,
        Scenario::PasskeyLogin,
        Scenario::QrLogin,
        Scenario::HomeRouting,
    ];

    fn parse(name: &str) -> Option<Scenario> {
        Some(match name {
            "client_credentials" => Scenario::ClientCredentials,
            "code_flow" => Scenario::CodeFlow,
            "fingerprint" => Scenario::PasskeyLogin,
            "qr" => Scenario::QrLogin,
            "routing" => Scenario::HomeRouting,
            "password" => Scenario::PasswordLogin,
            _ => return None,
        })
    }
}

async fn run(
    scenario: Scenario,
    server: &Server,
    f: Arc<Fixture>,
    args: &Args,
    pid: u32,
) -> Outcome {
    let duration = Duration::from_secs(args.duration);
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut sessions = Vec::new();
    let http = http();
    let mut phones = Vec::new();
    let mut apps = Vec::new();
    if let Scenario::CodeFlow | Scenario::PasskeyLogin | Scenario::QrLogin = scenario {
        for _ in 0..args.concurrency {
            let session = log_in(&http, &server.base, &f)
                .await
                .expect("log in for the scenario");
            if let Scenario::PasskeyLogin = scenario {
                phones.push(Some(
                    bind_phone(&http, server, &session)
                        .await
                        .expect("bind a passkey"),
                ));
            }
            if let Scenario::QrLogin = scenario {
                apps.push(Some(
                    qr::app_phone(&http, &server.clone_for_workers(), &f, &session)
                        .await
                        .expect("log the app in"),
                ));
            }
            sessions.push(Arc::new(session));
        }
    }
    let mut routers = Vec::new();
    if let Scenario::HomeRouting = scenario {
        for _ in 0..args.concurrency {
            routers.push(Some(
                routing::routing_browser(&http, &server.base)
                    .await
                    .expect("a login page"),
            ));
        }
    }
    // One citizen per client: concurrent logins to one account would (rightly) lock it.
    let mut citizens = Vec::new();
    if let Scenario::PasswordLogin = scenario {
        for id in crate::server::more_citizens(server, &f, args.concurrency) {
            // The first login consents to the app, so each measured login is the password alone.
            crate::flows::log_in_as(&http, &server.base, &f, &id)
                .await
                .expect("a first login");
            citizens.push(id);
        }
    }
    let mut citizens = citizens.into_iter();
    let upstreams = args.upstreams;
    let mut routers = routers.into_iter();
    let mut phones = phones.into_iter();
    let mut apps = apps.into_iter();
    let server_ref = Arc::new(server.clone_for_workers());
    let (cpu_before, hashing_before) = (cpu_seconds(pid), hashing_seconds(pid));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..args.concurrency {
        let (http, base, f, stop, errors) = (
            http.clone(),
            server.base.clone(),
            f.clone(),
            stop.clone(),
            errors.clone(),
        );
        let session = sessions.get(worker).cloned();
        let mut phone = phones.next().flatten();
        let app = apps.next().flatten();
        let server_ref = server_ref.clone();
        let mut qr_browser = qr::QrBrowser::default();
        let mut router = routers.next().flatten();
        let citizen = citizens.next();
        let mut wire = Wire::new(&base);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = match (scenario, &session) {
                    (Scenario::ClientCredentials, _) => client_credentials(&mut wire, &f).await,
                    (Scenario::CodeFlow, Some(s)) => code_flow(&mut wire, &f, s).await,
                    (Scenario::CodeFlow, None) => false,
                    (Scenario::PasskeyLogin, _) => match phone.as_mut() {
                        Some(p) => passkey_login(&http, &base, p).await,
                        None => false,
                    },
                    (Scenario::QrLogin, _) => match &app {
                        Some(a) => qr::qr_login(&http, &server_ref, &mut qr_browser, a).await,
                        None => false,
                    },
                    (Scenario::HomeRouting, _) => match router.as_mut() {
                        Some(b) => routing::route(&http, &base, b, upstreams).await,
                        None => false,
                    },
                    (Scenario::PasswordLogin, _) => match &citizen {
                        Some(id) => crate::flows::password_login(&mut wire, &f, id).await,
                        None => false,
                    },
                };
                if ok {
                    latencies.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    Outcome {
        name: match scenario {
            Scenario::ClientCredentials => "client_credentials token".into(),
            Scenario::CodeFlow => "code flow (existing session)".into(),
            Scenario::PasskeyLogin => "fingerprint login (start + finish)".into(),
            Scenario::QrLogin => "QR login (draw, scan, approve, collect)".into(),
            Scenario::HomeRouting => format!("home routing ({} upstreams)", args.upstreams),
            Scenario::PasswordLogin => "password login (page, form, session)".into(),
        },
        ops: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        latencies_us,
        server_cpu: cpu_seconds(pid) - cpu_before,
        hashing_cpu: hashing_seconds(pid) - hashing_before,
    }
}

/// `--only`: the named scenarios, one after another, and their table.
async fn run_only(server: &Server, fixture: Arc<Fixture>, args: &Args, pid: u32) -> i32 {
    let mut failed = false;
    println!("| scenario | ops/s | p50 ms | p99 ms | errors | server CPU ms/op |");
    println!("|---|---:|---:|---:|---:|---:|");
    for name in &args.only {
        let Some(scenario) = Scenario::parse(name) else {
            eprintln!("idp-bench: unknown scenario {name} (client_credentials, code_flow, fingerprint, qr, routing, password)");
            return 2;
        };
        if let Scenario::HomeRouting = scenario {
            routing::import_upstreams(server, &fixture, args.upstreams);
        }
        let r = run(scenario, server, fixture.clone(), args, pid).await;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.3} |",
            r.name,
            r.per_second(),
            r.percentile(0.5),
            r.percentile(0.99),
            r.errors,
            r.cpu_ms_per_op()
        );
        if let Some((share, rest_ms)) = r.hashing() {
            println!(
                "  Argon2id: {:.1} % of the server's CPU; {rest_ms:.2} ms per operation besides",
                share * 100.0
            );
        }
        failed |= r.errors > 0 || r.ops == 0;
    }
    let (rss_kib, peak_kib) = memory_kib(pid);
    println!(
        "server memory: now {:.1} MB, peak {:.1} MB",
        rss_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0
    );
    i32::from(failed)
}

/// Waits for the server's first 200 from /readyz.
pub(crate) async fn wait_ready(server: &Server) {
    let http = http();
    let ready = Instant::now();
    loop {
        if matches!(http.get(format!("{}/readyz", server.base)).send().await, Ok(r) if r.status() == 200)
        {
            break;
        }
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "server did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn main() {
    let mut args = Args::parse();
    if args.smoke {
        args.duration = 1;
        args.concurrency = 4;
        args.upstreams = 1_000;
        args.roaming_logins = 2;
        args.status_list_entries = 100_000;
    }
    if !args.scale.is_empty() {
        let admin_url = args
            .database_url
            .clone()
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into());
        let settings = compare::Settings {
            duration: Duration::from_secs(args.duration),
            concurrency: args.concurrency,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let ok = runtime.block_on(scale::run(&admin_url, &args.scale, &settings));
        std::process::exit(if ok { 0 } else { 1 });
    }
    let (server, fixture) = start_server(args.database_url.as_deref());
    let pid = server.child.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The exit code comes out of the run so that the server is dropped (and so stopped) before
    // the process exits: `std::process::exit` runs no destructors and would leave it running.
    let code = runtime.block_on(async {
        let http = http();
        wait_ready(&server).await;
        let startup_ms = server.spawned.elapsed().as_secs_f64() * 1000.0;
        if let Some(seconds) = args.soak {
            let passed = soak::soak(&server, Arc::new(fixture), seconds, args.concurrency).await;
            return if passed { 0 } else { 1 };
        }
        let (idle_kib, _) = memory_kib(pid);
        if !args.only.is_empty() {
            return run_only(&server, Arc::new(fixture), &args, pid).await;
        }
        // First, on a fresh server of their own: N browsers each draw a code and wait on its
        // status at the QR events listener (where a deployment routes /qr/status); then N more on
        // that server's own /qr/status, for the ratio.
        let waiting = if args.smoke { 200 } else { 10_000 };
        let (qr_idle_kib, while_waiting, before_main, while_main) = {
            // A server of their own: the connections they leave behind would otherwise count in
            // the full-load figure, which has a target of its own. Started after the main server
            // is ready, so as not to count in its start-up time.
            let (qr, _) =
                tokio::task::block_in_place(|| start_server(args.database_url.as_deref()));
            wait_ready(&qr).await;
            let qr_pid = qr.child.id();
            let (qr_idle_kib, _) = memory_kib(qr_pid);
            let (_, while_waiting) =
                qr::waiting_browsers_memory(&qr, &qr.events_base, qr_pid, waiting).await;
            let (before_main, while_main) =
                qr::waiting_browsers_memory(&qr, &qr.base, qr_pid, waiting).await;
            (qr_idle_kib, while_waiting, before_main, while_main)
        };
        let fixture = Arc::new(fixture);
        let mut results = Vec::new();
        for scenario in Scenario::ALL {
            if let Scenario::HomeRouting = scenario {
                routing::import_upstreams(&server, &fixture, args.upstreams);
            }
            let outcome = run(scenario, &server, fixture.clone(), &args, pid).await;
            results.push((outcome, memory_kib(pid)));
        }
        let (_, peak_kib) = memory_kib(pid);
        // Roaming on a federation of its own (three more processes), one login at a time.
        let federation = roaming::federation(&http).await;
        let (local_ms, roaming_ms, roaming_errors) =
            roaming::measure(&http, &federation, args.roaming_logins).await;
        drop(federation);
        // The verifier library on one core of this process (the server is idle by now).
        let lic = licences::measure(Duration::from_secs(args.duration.min(5)), args.status_list_entries);
        println!("idp-bench: {} s per scenario, {} concurrent clients, {} CPUs", args.duration, args.concurrency, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
        println!("| scenario | ops/s | p50 ms | p99 ms | errors | server CPU s / 1000 ops | server RSS after, MB |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let mut failed = false;
        for (r, (rss_kib, _)) in &results {
            let per_k = if r.ops > 0 { r.server_cpu / r.ops as f64 * 1000.0 } else { 0.0 };
            println!(
                "| {} | {:.0} | {:.2} | {:.2} | {} | {:.3} | {:.1} |",
                r.name,
                r.ops as f64 / r.seconds,
                r.percentile(0.5),
                r.percentile(0.99),
                r.errors,
                per_k,
                *rss_kib as f64 / 1024.0
            );
            failed |= r.errors > 0 || r.ops == 0;
        }
        println!("server memory: idle {:.1} MB, peak under the load above {:.1} MB", idle_kib as f64 / 1024.0, peak_kib as f64 / 1024.0);
        println!(
            "{waiting} browsers waiting on a QR status at once at the QR events listener (a fresh server of their own, idle {:.1} MB): RSS {:.1} MB, +{:.1} MB over idle",
            qr_idle_kib as f64 / 1024.0,
            while_waiting as f64 / 1024.0,
            while_waiting.saturating_sub(qr_idle_kib) as f64 / 1024.0
        );
        println!(
            "{waiting} browsers waiting at the main server's /qr/status instead: +{:.1} MB ({:.1} KB per browser there, {:.1} KB at the events listener)",
            while_main.saturating_sub(before_main) as f64 / 1024.0,
            while_main.saturating_sub(before_main) as f64 / waiting as f64,
            while_waiting.saturating_sub(qr_idle_kib) as f64 / waiting as f64
        );
        println!(
            "roaming login (51 -> hub -> home 33, {} logins): median {roaming_ms:.1} ms vs local login at 33 {local_ms:.1} ms: +{:.1} ms for the federation hops ({roaming_errors} errors)",
            args.roaming_logins,
            roaming_ms - local_ms
        );
        println!(
            "licences, one core: {:.0} verifications/s ({} B presentation, chain cached: two ES256 checks each), {:.0} credentials signed/s",
            lic.verifications_per_sec, lic.presentation_bytes, lic.issued_per_sec
        );
        println!(
            "status list of {} entries, 1% revoked: {} B compressed (lst), decoded in {:.1} ms, {:.1} ns per lookup",
            lic.list_entries, lic.list_lst_bytes, lic.list_decode_ms, lic.list_lookup_ns
        );
        println!("start-up to ready (spawn to the first 200 from /readyz, SQLite, migrations done): {startup_ms:.0} ms");
        failed |= roaming_errors > 0;
        // Side by side with oidc-provider, further token scenarios, and the physical limit.
        let limits = limits::measure(Duration::from_millis(if args.smoke { 200 } else { 2000 }));
        let earlier: Vec<(String, f64, limits::Crypto)> = results
            .iter()
            .filter_map(|(r, _)| {
                let crypto = match r.name.as_str() {
                    // The assertion's signature.
                    "fingerprint login (start + finish)" => limits::Crypto { signs: 0, verifies: 1, hashes: 0 },
                    // Two DPoP proofs and the app's access token checked at each of its two calls.
                    "QR login (draw, scan, approve, collect)" => limits::Crypto { signs: 0, verifies: 4, hashes: 0 },
                    _ => return None,
                };
                Some((r.name.clone(), r.per_second(), crypto))
            })
            .collect();
        let settings = compare::Settings { duration: Duration::from_secs(args.duration), concurrency: args.concurrency };
        failed |= !compare::run(&server, &fixture, &settings, &limits, &earlier).await;
        println!(
            "server peak memory over the whole run (every scenario above, the password logins and the repeated token scenarios): {:.1} MB",
            memory_kib(pid).1.max(peak_kib) as f64 / 1024.0
        );
        if failed {
            eprintln!("idp-bench: a scenario had errors or completed nothing");
            return 1;
        }
        0
    });
    drop(server);
    if code != 0 {
        std::process::exit(code);
    }
}
