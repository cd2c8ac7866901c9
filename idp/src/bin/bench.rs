//! `idp-bench`: starts an `idp serve` process on a fresh database and drives real multi-step
//! flows over HTTP against it, then prints throughput, latency, errors, the server's CPU time
//! per 1,000 operations and its memory (idle and peak, from /proc).
//!
//!   cargo build --release -p idp && target/release/idp-bench            # full run
//!   target/debug/idp-bench --smoke                                     # CI: a few seconds
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use clap::Parser;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;

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
}

struct Server {
    child: Child,
    base: String,
    issuer: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn idp_binary() -> PathBuf {
    std::env::current_exe().unwrap().with_file_name("idp")
}

fn idp(dir: &std::path::Path, db: &str, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(idp_binary())
        .args(args)
        .env("IDP_DATABASE_URL", db)
        .env("IDP_KEK_FILE", dir.join("kek"))
        .env("IDP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run idp (build it first: cargo build -p idp)");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "idp {args:?} failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

const ID_NUMBER: &str = "11010519491231002X";
const PASSWORD: &str = "correct horse battery";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

struct Fixture {
    client_id: String,
    secret: String,
}

fn start_server(database_url: Option<&str>) -> (Server, Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("idp.db").display()));
    idp(dir.path(), &db, &["migrate"], None);
    let _ = std::panic::catch_unwind(|| {
        idp(
            dir.path(),
            &db,
            &[
                "user",
                "create",
                "--id-number",
                ID_NUMBER,
                "--name",
                "压测",
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
    });
    let client = idp(
        dir.path(),
        &db,
        &[
            "client",
            "create",
            "--name",
            "bench",
            "--redirect-uri",
            REDIRECT,
            "--approve",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "client_credentials",
            "--scope",
            "openid profile api.read",
        ],
        None,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    // WebAuthn needs a domain for its RP id; requests still go to 127.0.0.1.
    let issuer = format!("http://localhost:{port}");
    let child = Command::new(idp_binary())
        .arg("serve")
        .env("IDP_DATABASE_URL", &db)
        .env("IDP_KEK_FILE", dir.path().join("kek"))
        .env("IDP_BIND", format!("127.0.0.1:{port}"))
        .env("IDP_ISSUER", &issuer)
        .env("IDP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let fixture = Fixture {
        client_id: client["client_id"].as_str().unwrap().to_owned(),
        secret: client["client_secret"].as_str().unwrap().to_owned(),
    };
    (
        Server {
            child,
            base,
            issuer,
            _dir: dir,
        },
        fixture,
    )
}

/// (resident KiB now, peak resident KiB) of a process.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU seconds consumed by a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

struct Outcome {
    name: &'static str,
    ops: u64,
    errors: u64,
    seconds: f64,
    latencies_us: Vec<u32>,
    server_cpu: f64,
}

impl Outcome {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap()
}

async fn client_credentials(http: &reqwest::Client, base: &str, f: &Fixture) -> bool {
    let resp = http
        .post(format!("{base}/token"))
        .basic_auth(&f.client_id, Some(&f.secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await;
    ok_body(resp).await
}

async fn ok_body(resp: reqwest::Result<reqwest::Response>) -> bool {
    match resp {
        Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// A browser with a session: cookies kept by hand (only ours matter).
struct Session {
    cookies: String,
}

fn collect_cookies(jar: &mut Vec<(String, String)>, resp: &reqwest::Response) {
    for v in resp.headers().get_all("set-cookie") {
        let Some((pair, _)) = v.to_str().unwrap_or("").split_once(';') else {
            continue;
        };
        if let Some((k, val)) = pair.split_once('=') {
            jar.retain(|(name, _)| name != k);
            jar.push((k.to_owned(), val.to_owned()));
        }
    }
}

fn hidden(html: &str, name: &str) -> String {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html.find(&needle).map(|i| i + needle.len()).unwrap_or(0);
    html[start..].split('"').next().unwrap_or("").to_owned()
}

fn authorize_url(base: &str, f: &Fixture, challenge: &str) -> String {
    format!("{base}/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope=openid%20profile&state=st&code_challenge={challenge}&code_challenge_method=S256", f.client_id)
}

async fn log_in(http: &reqwest::Client, base: &str, f: &Fixture) -> Option<Session> {
    let mut jar = Vec::new();
    let cookie = |jar: &Vec<(String, String)>| {
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let challenge = idp::domain::pkce::s256(&"v".repeat(43));
    let r = http
        .get(authorize_url(base, f, &challenge))
        .send()
        .await
        .ok()?;
    let login = r.headers().get("location")?.to_str().ok()?.to_owned();
    let r = http.get(format!("{base}{login}")).send().await.ok()?;
    collect_cookies(&mut jar, &r);
    let page = r.text().await.ok()?;
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("req", hidden(&page, "req")),
        ("username", ID_NUMBER.into()),
        ("password", PASSWORD.into()),
    ];
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", cookie(&jar))
        .form(&form)
        .send()
        .await
        .ok()?;
    collect_cookies(&mut jar, &r);
    let resume = r.headers().get("location")?.to_str().ok()?.to_owned();
    let r = http
        .get(format!("{base}{resume}"))
        .header("cookie", cookie(&jar))
        .send()
        .await
        .ok()?;
    let consent = r.headers().get("location")?.to_str().ok()?.to_owned();
    if consent.starts_with("/consent") {
        let r = http
            .get(format!("{base}{consent}"))
            .header("cookie", cookie(&jar))
            .send()
            .await
            .ok()?;
        let page = r.text().await.ok()?;
        let form = [
            ("csrf", hidden(&page, "csrf")),
            ("req", hidden(&page, "req")),
            ("decision", "allow".into()),
        ];
        let r = http
            .post(format!("{base}/consent"))
            .header("cookie", cookie(&jar))
            .form(&form)
            .send()
            .await
            .ok()?;
        r.headers().get("location")?;
    }
    Some(Session {
        cookies: cookie(&jar),
    })
}

/// One complete code flow on an existing session: authorize -> code -> token exchange.
async fn code_flow(http: &reqwest::Client, base: &str, f: &Fixture, s: &Session) -> bool {
    let verifier = keys::random_token(32);
    let challenge = idp::domain::pkce::s256(&verifier);
    let Ok(r) = http
        .get(authorize_url(base, f, &challenge))
        .header("cookie", &s.cookies)
        .send()
        .await
    else {
        return false;
    };
    let Some(location) = r.headers().get("location").and_then(|l| l.to_str().ok()) else {
        return false;
    };
    let Some(code) = url::Url::parse(location).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
    }) else {
        return false;
    };
    let resp = http
        .post(format!("{base}/token"))
        .basic_auth(&f.client_id, Some(&f.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await;
    ok_body(resp).await
}

/// A phone with a software passkey bound to the citizen: it plays a discoverable
/// authenticator (SoftPasskey keeps no resident keys, so the phone names its credential and
/// user handle itself).
struct Phone {
    authenticator: SoftPasskey,
    origin: url::Url,
    credential_id: String,
    user_handle: String,
}

async fn post_json(
    http: &reqwest::Client,
    url: String,
    cookies: Option<&str>,
    body: &serde_json::Value,
) -> Option<serde_json::Value> {
    let mut req = http.post(url).json(body);
    if let Some(c) = cookies {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

async fn bind_phone(http: &reqwest::Client, server: &Server, s: &Session) -> Option<Phone> {
    let base = &server.base;
    let start = post_json(
        http,
        format!("{base}/webauthn/register/start"),
        Some(&s.cookies),
        &serde_json::json!({ "name": "bench" }),
    )
    .await?;
    let mut options = start.clone();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = false.into();
    let user_handle = options["publicKey"]["user"]["id"].as_str()?.to_owned();
    let origin = url::Url::parse(&server.issuer).ok()?;
    let mut authenticator = SoftPasskey::new(true);
    let credential = authenticator
        .do_registration(origin.clone(), serde_json::from_value(options).ok()?)
        .ok()?;
    let finish = post_json(
        http,
        format!("{base}/webauthn/register/finish"),
        Some(&s.cookies),
        &serde_json::json!({ "ceremony": start["ceremony"], "credential": credential }),
    )
    .await?;
    Some(Phone {
        authenticator,
        origin,
        credential_id: finish["id"].as_str()?.to_owned(),
        user_handle,
    })
}

/// One fingerprint login: start, sign with the soft passkey, finish.
async fn passkey_login(http: &reqwest::Client, base: &str, phone: &mut Phone) -> bool {
    let Some(mut options) = post_json(
        http,
        format!("{base}/webauthn/login/start"),
        None,
        &serde_json::json!({}),
    )
    .await
    else {
        return false;
    };
    options["publicKey"]["allowCredentials"] =
        serde_json::json!([{ "type": "public-key", "id": phone.credential_id }]);
    let Ok(request) = serde_json::from_value(options.clone()) else {
        return false;
    };
    let Ok(credential) = phone
        .authenticator
        .do_authentication(phone.origin.clone(), request)
    else {
        return false;
    };
    let mut credential = serde_json::to_value(credential).unwrap_or_default();
    credential["response"]["userHandle"] = phone.user_handle.clone().into();
    post_json(
        http,
        format!("{base}/webauthn/login/finish"),
        None,
        &serde_json::json!({ "ceremony": options["ceremony"], "credential": credential }),
    )
    .await
    .is_some_and(|r| r["redirect_to"].is_string())
}

#[derive(Clone, Copy)]
enum Scenario {
    ClientCredentials,
    CodeFlow,
    PasskeyLogin,
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
    if let Scenario::CodeFlow | Scenario::PasskeyLogin = scenario {
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
            sessions.push(Arc::new(session));
        }
    }
    let mut phones = phones.into_iter();
    let cpu_before = cpu_seconds(pid);
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
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = match (scenario, &session) {
                    (Scenario::ClientCredentials, _) => client_credentials(&http, &base, &f).await,
                    (Scenario::CodeFlow, Some(s)) => code_flow(&http, &base, &f, s).await,
                    (Scenario::CodeFlow, None) => false,
                    (Scenario::PasskeyLogin, _) => match phone.as_mut() {
                        Some(p) => passkey_login(&http, &base, p).await,
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
            Scenario::ClientCredentials => "client_credentials token",
            Scenario::CodeFlow => "code flow (existing session)",
            Scenario::PasskeyLogin => "fingerprint login (start + finish)",
        },
        ops: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        latencies_us,
        server_cpu: cpu_seconds(pid) - cpu_before,
    }
}

fn main() {
    let mut args = Args::parse();
    if args.smoke {
        args.duration = 1;
        args.concurrency = 4;
    }
    let (server, fixture) = start_server(args.database_url.as_deref());
    let pid = server.child.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = http();
        let ready = Instant::now();
        loop {
            if matches!(http.get(format!("{}/readyz", server.base)).send().await, Ok(r) if r.status() == 200) {
                break;
            }
            assert!(ready.elapsed() < Duration::from_secs(30), "server did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (idle_kib, _) = memory_kib(pid);
        let fixture = Arc::new(fixture);
        let mut results = Vec::new();
        for scenario in [
            Scenario::ClientCredentials,
            Scenario::CodeFlow,
            Scenario::PasskeyLogin,
        ] {
            let outcome = run(scenario, &server, fixture.clone(), &args, pid).await;
            results.push((outcome, memory_kib(pid)));
        }
        let (_, peak_kib) = memory_kib(pid);
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
        println!("server memory: idle {:.1} MB, peak {:.1} MB", idle_kib as f64 / 1024.0, peak_kib as f64 / 1024.0);
        if failed {
            eprintln!("idp-bench: a scenario had errors or completed nothing");
            std::process::exit(1);
        }
    });
}
