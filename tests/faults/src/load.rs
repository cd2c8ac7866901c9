//! Steady traffic while a test breaks something. Each worker is a browser already logged in
//! (session and consent in place) that asks for a code and redeems it, again and again; every
//! answer is kept, so afterwards the test knows what was acknowledged and what failed, and how.
use crate::browser::{Browser, Page};
use crate::oauth::{code_of, App};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::task::JoinHandle;

/// The scope the workers ask for: with a refresh token, so each redemption leaves state behind.
pub const SCOPE: &str = "openid profile offline_access";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Authorize,
    Token,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub worker: usize,
    /// What the test was doing when the answer came (set with `Load::phase`).
    pub phase: u8,
    pub step: Step,
    /// None: no HTTP answer at all (connection refused or reset, or no answer in time).
    pub status: Option<u16>,
    pub html: bool,
    pub error: Option<String>,
    pub excerpt: String,
    /// How long the answer took (reported, never asserted).
    pub millis: u128,
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        match self.step {
            Step::Authorize => matches!(self.status, Some(302 | 303)),
            Step::Token => self.status == Some(200),
        }
    }

    /// 503 in the endpoint's own language: a page for the browser at /authorize, the OAuth
    /// JSON error `temporarily_unavailable` for the app at /token.
    pub fn is_clear_unavailable(&self) -> bool {
        self.status == Some(503)
            && match self.step {
                Step::Authorize => self.html,
                Step::Token => self.error.as_deref() == Some("temporarily_unavailable"),
            }
    }
}

/// What the workers saw and were given.
#[derive(Debug, Default)]
pub struct Record {
    pub answers: Vec<Answer>,
    /// Codes delivered to the app in a redirect.
    pub codes: Vec<String>,
    /// Codes whose redemption was not acknowledged (not a 200), with their PKCE verifiers.
    pub unredeemed: Vec<(String, String)>,
    /// Refresh tokens acknowledged with a 200.
    pub refresh_tokens: Vec<String>,
}

impl Record {
    /// Answers that are neither a success nor a clear 503, as text for an assertion message.
    pub fn unclear(&self) -> Vec<String> {
        self.answers
            .iter()
            .filter(|a| !a.succeeded() && !a.is_clear_unavailable())
            .map(|a| format!("{a:?}"))
            .collect()
    }

    /// For the log: how many answers of `phase` had `status`, and their slowest and median time.
    pub fn summary(&self, phase: u8, status: u16) -> String {
        let mut ms: Vec<u128> = self
            .answers
            .iter()
            .filter(|a| a.phase == phase && a.status == Some(status))
            .map(|a| a.millis)
            .collect();
        ms.sort_unstable();
        match (ms.len(), ms.last()) {
            (n, Some(max)) => format!(
                "{n} x {status} in phase {phase}: median {} ms, slowest {max} ms",
                ms[n / 2]
            ),
            _ => format!("no {status} in phase {phase}"),
        }
    }

    /// A worker's rounds in `phase` that ended with tokens (`ok`), or with a failure at any step.
    pub fn count(&self, worker: usize, phase: u8, ok: bool) -> usize {
        self.answers
            .iter()
            .filter(|a| a.worker == worker && a.phase == phase)
            .filter(|a| match ok {
                true => a.step == Step::Token && a.succeeded(),
                false => !a.succeeded(),
            })
            .count()
    }
}

#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicU8>,
    record: Arc<Mutex<Record>>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// One worker per browser, each already logged in at `app`'s node with consent given.
    pub fn start(app: &App, browsers: Vec<Browser>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let phase = Arc::new(AtomicU8::new(0));
        let record = Arc::new(Mutex::new(Record::default()));
        let workers = browsers
            .into_iter()
            .enumerate()
            .map(|(worker, browser)| {
                let (stop, phase, record, app) =
                    (stop.clone(), phase.clone(), record.clone(), app.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        one_round(worker, &app, &browser, &phase, &record).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            phase,
            record,
            workers,
        }
    }

    /// Tags the answers from now on (e.g. 0 before, 1 during, 2 after a fault).
    pub fn phase(&self, phase: u8) {
        self.phase.store(phase, Ordering::SeqCst);
    }

    pub fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().expect("record")
    }

    /// Waits until every worker has at least `n` rounds that ended with tokens (`ok`) or
    /// failed in `phase`.
    pub async fn wait_each(&self, phase: u8, ok: bool, n: usize) {
        let workers = self.workers.len();
        let what = format!(
            "each of {workers} workers has {n} {} rounds in phase {phase}",
            if ok { "successful" } else { "failed" }
        );
        crate::poll::until(
            &what,
            600,
            std::time::Duration::from_millis(100),
            || async {
                let r = self.record();
                (0..workers).all(|w| r.count(w, phase, ok) >= n)
            },
        )
        .await;
    }

    /// Stops the workers after their current round; everything they saw.
    pub async fn stop(self) -> Record {
        self.stop.store(true, Ordering::SeqCst);
        for w in self.workers {
            w.await.expect("worker");
        }
        std::mem::take(&mut *self.record.lock().expect("record"))
    }
}

async fn one_round(
    worker: usize,
    app: &App,
    browser: &Browser,
    phase: &AtomicU8,
    record: &Mutex<Record>,
) {
    let request = app.authorize(SCOPE, &[]);
    let asked = Instant::now();
    let authorized = browser.get(&request.url).await;
    let code = authorized.as_ref().ok().and_then(code_of);
    note(worker, phase, record, Step::Authorize, &authorized, asked);
    let Some(code) = code else { return };
    let asked = Instant::now();
    let redeemed = app.redeem(&browser.http, &code, &request.verifier).await;
    note(worker, phase, record, Step::Token, &redeemed, asked);
    let refresh = redeemed
        .as_ref()
        .ok()
        .filter(|p| p.status == 200)
        .and_then(|p| p.json()["refresh_token"].as_str().map(str::to_owned));
    let mut r = record.lock().expect("record");
    r.codes.push(code.clone());
    match refresh {
        Some(token) => r.refresh_tokens.push(token),
        None => r.unredeemed.push((code, request.verifier.clone())),
    }
}

fn note(
    worker: usize,
    phase: &AtomicU8,
    record: &Mutex<Record>,
    step: Step,
    answer: &Result<Page, reqwest::Error>,
    asked: Instant,
) {
    let millis = asked.elapsed().as_millis();
    let answer = match answer {
        Ok(p) => Answer {
            worker,
            phase: phase.load(Ordering::SeqCst),
            step,
            status: Some(p.status),
            html: p.is_html(),
            error: p.json()["error"].as_str().map(str::to_owned),
            excerpt: p.body.chars().take(300).collect(),
            millis,
        },
        Err(e) => Answer {
            worker,
            phase: phase.load(Ordering::SeqCst),
            step,
            status: None,
            html: false,
            error: None,
            excerpt: e.to_string(),
            millis,
        },
    };
    record.lock().expect("record").answers.push(answer);
}

/// A browser logged in as `user` at `app`'s node, having consented to `SCOPE` for `app`,
/// and the token response for the code it got on the way.
pub async fn signed_in(app: &App, user: &str) -> (Browser, serde_json::Value) {
    sign_in(app, user).await.unwrap_or_else(|e| panic!("{e}"))
}

/// `signed_in` that says what went wrong instead of panicking (the server may be going down).
pub async fn sign_in(app: &App, user: &str) -> Result<(Browser, serde_json::Value), String> {
    let browser = Browser::new();
    let request = app.authorize(SCOPE, &[]);
    let page = browser
        .travel(&request.url, user, &app.redirect_uri)
        .await
        .map_err(|e| format!("login: {e}"))?;
    let code =
        code_of(&page).ok_or_else(|| format!("no code after login and consent: {page:?}"))?;
    let tokens = app
        .redeem(&browser.http, &code, &request.verifier)
        .await
        .map_err(|e| format!("token endpoint: {e}"))?;
    match tokens.status {
        200 => Ok((browser, tokens.json())),
        _ => Err(format!("token endpoint: {} {}", tokens.status, tokens.body)),
    }
}
