//! `idp-bench --soak SECONDS`: mixed flows (client_credentials, code flow with a session,
//! fingerprint login, QR login) first at full speed to find the peak, then paced at 70% of it
//! for SECONDS, sampled per window. It passes when no request failed, the server's memory did
//! not trend upwards and the p99 latency stayed stable; otherwise it exits non-zero.
use crate::flows::{client_credentials, code_flow, http, log_in, Session};
use crate::passkey::{bind_phone, passkey_login, Phone};
use crate::qr::{self, AppPhone, QrBrowser};
use crate::server::{memory_kib, Fixture, Server};
use crate::wire::Wire;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The share of measured peak throughput the soak runs at.
const LOAD_SHARE: f64 = 0.7;

/// The government app's access token lives 600 s: like the real app, each client logs it in
/// again well before then (off the clock, so the renewal is not counted as a QR login).
const APP_RENEW_AFTER: Duration = Duration::from_secs(480);

/// One virtual client: everything it needs for each kind of flow in the mix.
struct Client {
    wire: Wire,
    session: Session,
    phone: Phone,
    app: AppPhone,
    qr_browser: QrBrowser,
}

/// Latencies and failures of one window, shared by the clients.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u32>,
    errors: u64,
}

pub struct Sample {
    pub at_s: f64,
    pub ops: usize,
    pub errors: u64,
    pub p99_ms: f64,
    pub rss_mb: f64,
}

async fn one_op(
    n: u64,
    c: &mut Client,
    http: &reqwest::Client,
    server: &crate::server::Endpoint,
    f: &Fixture,
) -> bool {
    // The mix: per 10 operations, 4 tokens, 3 code flows, 2 fingerprint logins, 1 QR login.
    match n % 10 {
        0 | 3 | 6 | 8 => client_credentials(&mut c.wire, f).await,
        1 | 4 | 7 => code_flow(&mut c.wire, f, &c.session).await,
        2 | 5 => passkey_login(http, &server.base, &mut c.phone).await,
        _ => qr::qr_login(http, server, &mut c.qr_browser, &c.app).await,
    }
}

/// Runs the mix for `duration`; paced to `rate` operations per second over all clients when
/// given (each client's next start is fixed in advance, so a slow answer is not hidden by a
/// later start), full speed otherwise. Returns one sample per window.
async fn drive(
    clients: &mut Vec<Client>,
    server: &Server,
    f: &Arc<Fixture>,
    duration: Duration,
    window: Duration,
    rate: Option<f64>,
) -> Vec<Sample> {
    let http = http();
    let pid = server.child.id();
    let current = Arc::new(Mutex::new(Window::default()));
    let started = Instant::now();
    let deadline = started + duration;
    let counter = Arc::new(AtomicU64::new(0));
    let workers = clients.len();
    let mut tasks = Vec::new();
    for (i, mut client) in clients.drain(..).enumerate() {
        let (http, endpoint, f, current, counter) = (
            http.clone(),
            server.clone_for_workers(),
            f.clone(),
            current.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let interval = rate.map(|r| Duration::from_secs_f64(workers as f64 / r));
            let mut next = tokio::time::Instant::now()
                + interval.map_or(Duration::ZERO, |d| d.mul_f64(i as f64 / workers as f64));
            while Instant::now() < deadline {
                if let Some(d) = interval {
                    tokio::time::sleep_until(next).await;
                    next += d;
                }
                if client.app.logged_in_at.elapsed() > APP_RENEW_AFTER {
                    match qr::app_phone(&http, &endpoint, &f, &client.session).await {
                        Some(app) => client.app = app,
                        None => current.lock().unwrap().errors += 1,
                    }
                }
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let ok = one_op(n, &mut client, &http, &endpoint, &f).await;
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                let mut w = current.lock().unwrap();
                if ok {
                    w.latencies_us.push(us);
                } else {
                    w.errors += 1;
                }
            }
            client
        }));
    }
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(window.min(deadline - Instant::now())).await;
        let mut w = std::mem::take(&mut *current.lock().unwrap());
        w.latencies_us.sort_unstable();
        let p99 = w
            .latencies_us
            .get(
                ((w.latencies_us.len() as f64 - 1.0) * 0.99)
                    .round()
                    .max(0.0) as usize,
            )
            .map_or(0.0, |us| f64::from(*us) / 1000.0);
        samples.push(Sample {
            at_s: started.elapsed().as_secs_f64(),
            ops: w.latencies_us.len(),
            errors: w.errors,
            p99_ms: p99,
            rss_mb: memory_kib(pid).0 as f64 / 1024.0,
        });
    }
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    // Operations still running at the deadline land in the window after the last sample.
    let tail = std::mem::take(&mut *current.lock().unwrap());
    if let Some(last) = samples.last_mut() {
        last.errors += tail.errors;
    }
    samples
}

/// Least-squares slope of RSS over time, in MB per minute.
fn memory_slope(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| s.at_s).sum::<f64>() / n;
    let mean_m = samples.iter().map(|s| s.rss_mb).sum::<f64>() / n;
    let cov: f64 = samples
        .iter()
        .map(|s| (s.at_s - mean_t) * (s.rss_mb - mean_m))
        .sum();
    let var: f64 = samples.iter().map(|s| (s.at_s - mean_t).powi(2)).sum();
    if var == 0.0 {
        0.0
    } else {
        cov / var * 60.0
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs shorter than this are smoke runs: memory and latency are shown but not judged (a few
/// seconds are all warm-up).
const JUDGED_FROM_SECS: u64 = 120;

/// The soak's verdict: the reasons it failed (empty when it passed).
pub fn verdict(samples: &[Sample], judge_trends: bool) -> Vec<String> {
    let mut failures = Vec::new();
    if samples.is_empty() {
        return vec!["no window was sampled".into()];
    }
    let errors: u64 = samples.iter().map(|s| s.errors).sum();
    if errors > 0 {
        failures.push(format!("{errors} requests failed"));
    }
    if samples.iter().any(|s| s.ops == 0) {
        failures.push("a window completed no operation".into());
    }
    if !judge_trends {
        return failures;
    }
    // Memory: the second half must not climb (the first half holds the warm-up: caches, pools,
    // malloc arenas). Flat means under 1 MB per minute, about 4% of the idle server an hour.
    let second_half = &samples[samples.len() / 2..];
    let slope = memory_slope(second_half);
    if slope > 1.0 {
        failures.push(format!(
            "memory grows {slope:.2} MB/min over the second half"
        ));
    }
    // Latency: no window's p99 more than twice the median window's.
    let typical = median(samples.iter().map(|s| s.p99_ms).collect());
    if let Some(worst) = samples.iter().map(|s| s.p99_ms).max_by(f64::total_cmp) {
        if worst > 2.0 * typical.max(1.0) {
            failures.push(format!(
                "p99 unstable: worst window {worst:.1} ms against a median of {typical:.1} ms"
            ));
        }
    }
    failures
}

/// Sets up the clients, finds the peak, soaks at 70% of it and prints every window.
pub async fn soak(server: &Server, f: Arc<Fixture>, seconds: u64, concurrency: usize) -> bool {
    let http = http();
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let session = log_in(&http, &server.base, &f).await.expect("log in");
        let phone = bind_phone(&http, server, &session)
            .await
            .expect("bind a passkey");
        let app = qr::app_phone(&http, &server.clone_for_workers(), &f, &session)
            .await
            .expect("log the app in");
        clients.push(Client {
            wire: Wire::new(&server.base),
            session,
            phone,
            app,
            qr_browser: QrBrowser::default(),
        });
    }
    let calibration = Duration::from_secs((seconds / 10).clamp(3, 20));
    let peak = drive(&mut clients, server, &f, calibration, calibration, None).await;
    let peak_rate = peak.iter().map(|s| s.ops).sum::<usize>() as f64 / calibration.as_secs_f64();
    let rate = peak_rate * LOAD_SHARE;
    let window = Duration::from_secs((seconds / 20).clamp(1, 30));
    println!(
        "idp-bench soak: peak {peak_rate:.0} mixed ops/s over {} s; soaking at {rate:.0} ops/s ({:.0}%) for {seconds} s, {concurrency} clients, windows of {} s",
        calibration.as_secs(),
        LOAD_SHARE * 100.0,
        window.as_secs()
    );
    let samples = drive(
        &mut clients,
        server,
        &f,
        Duration::from_secs(seconds),
        window,
        Some(rate),
    )
    .await;
    println!("| at s | ops/s | errors | p99 ms | server RSS MB |");
    println!("|---:|---:|---:|---:|---:|");
    let mut last = 0.0;
    for s in &samples {
        println!(
            "| {:.0} | {:.0} | {} | {:.2} | {:.1} |",
            s.at_s,
            s.ops as f64 / (s.at_s - last).max(1e-3),
            s.errors,
            s.p99_ms,
            s.rss_mb
        );
        last = s.at_s;
    }
    let judged = seconds >= JUDGED_FROM_SECS;
    let failures = verdict(&samples, judged);
    println!(
        "memory trend over the second half: {:+.2} MB/min",
        memory_slope(&samples[samples.len() / 2..])
    );
    if failures.is_empty() && !judged {
        println!(
            "smoke soak passed: no errors (memory and p99 are judged from {JUDGED_FROM_SECS} s on)"
        );
        true
    } else if failures.is_empty() {
        println!("soak passed: no errors, memory flat, p99 stable");
        true
    } else {
        for f in &failures {
            eprintln!("soak failed: {f}");
        }
        false
    }
}
