//! `verifier`: checks a licence presentation (扫码亮证) against the national root, as a counter
//! would:
//!
//!   verifier verify --trust-root ROOT.pem [--nonce N] [--audience A] < presentation
//!
//! Prints `{"valid": true, "vct", "iss", "claims", "status"}` with the disclosed claims, or
//! `{"valid": false, "code", "reason"}` and exits 1. Status lists are fetched online and cached
//! (`--cache-dir`); offline, a cached list serves for `--offline-grace` seconds past its `ttl`,
//! and the answer says how old it was. `--offline` skips the status check and says so.
#![allow(clippy::print_stdout)]

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use wallet_verifier::sd_jwt::{Expect, Refusal, StatusCheck, Verifier};
use wallet_verifier::status_cache::{self, CachedList, Plan};

#[derive(Debug, Parser)]
#[command(
    name = "verifier",
    about = "Verify electronic licence presentations (SD-JWT VC)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify one presentation read from standard input.
    Verify {
        /// The national root certificate (PEM), from `idp keys root-ca`.
        #[arg(long)]
        trust_root: PathBuf,
        /// The nonce this verifier gave the wallet. Without it, a licence shown unasked is
        /// accepted only while its key-binding JWT is under --max-age seconds old.
        #[arg(long)]
        nonce: Option<String>,
        #[arg(long, default_value = wallet_verifier::licences::SHOWN_AUDIENCE)]
        audience: String,
        #[arg(long, default_value_t = 120)]
        max_age: i64,
        /// Skip the status check (no network): the answer says the status is unchecked.
        #[arg(long)]
        offline: bool,
        /// How long past its ttl a cached status list may serve when the issuer is unreachable.
        #[arg(long, default_value_t = 24 * 3600)]
        offline_grace: i64,
        #[arg(long, default_value = ".verifier-cache")]
        cache_dir: PathBuf,
    },
}

fn main() {
    let Command::Verify {
        trust_root,
        nonce,
        audience,
        max_age,
        offline,
        offline_grace,
        cache_dir,
    } = Cli::parse().command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let settings = Settings {
        nonce,
        audience,
        max_age,
        offline,
        offline_grace,
        cache_dir,
    };
    let answer = runtime.block_on(verify(&trust_root, &settings));
    match answer {
        Ok(out) => println!("{out}"),
        Err(Failure::Refused(r)) => {
            println!(
                "{}",
                json!({ "valid": false, "code": r.code(), "reason": r.to_string() })
            );
            std::process::exit(1);
        }
        Err(Failure::Setup(why)) => {
            eprintln!("verifier: {why}");
            std::process::exit(2);
        }
    }
}

struct Settings {
    nonce: Option<String>,
    audience: String,
    max_age: i64,
    offline: bool,
    offline_grace: i64,
    cache_dir: PathBuf,
}

enum Failure {
    Refused(Refusal),
    Setup(String),
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Refused(r)
    }
}

async fn verify(trust_root: &Path, s: &Settings) -> Result<Value, Failure> {
    let pem = std::fs::read_to_string(trust_root)
        .map_err(|e| Failure::Setup(format!("{}: {e}", trust_root.display())))?;
    let root = keys::der_from_pem(&pem)
        .map_err(|e| Failure::Setup(format!("{}: {e}", trust_root.display())))?;
    let verifier = Verifier::new(vec![root]).map_err(|e| Failure::Setup(e.to_string()))?;
    let mut presentation = String::new();
    std::io::stdin()
        .take(wallet_verifier::sd_jwt::MAX_PRESENTATION_LEN as u64 + 1)
        .read_to_string(&mut presentation)
        .map_err(|e| Failure::Setup(format!("reading the presentation: {e}")))?;
    let presentation = presentation.trim();
    // Unasked (shown as a QR code), the nonce is the wallet's: freshness is what protects.
    let nonce = match &s.nonce {
        Some(n) => n.clone(),
        None => wallet_verifier::licences::holder_nonce(presentation).unwrap_or_default(),
    };
    let now = wallet_verifier::dpop::now();
    let expect = |status| Expect {
        nonce: &nonce,
        audience: &s.audience,
        now,
        max_age_secs: s.max_age,
        status,
    };
    let checked = verifier.verify(presentation, &expect(StatusCheck::Skip))?;
    let status_uri = checked.status.as_ref().map(|st| st.uri.clone());
    let (verified, status) = match status_uri {
        None => (checked, json!("none (the licence carries no status)")),
        Some(_) if s.offline => (checked, json!("not checked (offline)")),
        Some(uri) => {
            let (list, age) = status_list(&verifier, &uri, now, s).await?;
            let verified = verifier.verify(presentation, &expect(StatusCheck::List(&list)))?;
            (verified, json!({ "state": "valid", "list_age_secs": age }))
        }
    };
    Ok(json!({
        "valid": true,
        "vct": verified.vct,
        "iss": verified.iss,
        "claims": verified.claims,
        "expires": verified.exp,
        "status": status,
    }))
}

/// The verified status list for `uri`: cached while fresh, fetched otherwise, the old copy
/// within the grace period when the issuer cannot be reached. Also its age.
async fn status_list(
    verifier: &Verifier,
    uri: &str,
    now: i64,
    s: &Settings,
) -> Result<(wallet_verifier::sd_jwt::StatusListToken, i64), Failure> {
    let file = s
        .cache_dir
        .join(format!("{}.json", keys::sha256_b64(uri.as_bytes())));
    let cached: Option<CachedList> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(|c: &CachedList| c.uri == uri);
    let usable = |c: &CachedList| verifier.verify_status_list_token(&c.token, uri, now).ok();
    if status_cache::plan(cached.as_ref(), now) == Plan::UseCached {
        if let Some(list) = cached.as_ref().and_then(usable) {
            return Ok((list, now - cached.as_ref().map_or(now, |c| c.fetched_at)));
        }
    }
    match fetch(uri).await {
        Ok(token) => {
            let list = verifier.verify_status_list_token(&token, uri, now)?;
            let entry = CachedList {
                uri: uri.to_owned(),
                token,
                fetched_at: now,
                ttl: list
                    .ttl
                    .unwrap_or(status_cache::DEFAULT_TTL_SECS)
                    .clamp(1, 86_400),
            };
            // A cache that cannot be written only costs a fetch next time.
            let _ = std::fs::create_dir_all(&s.cache_dir).and_then(|()| {
                std::fs::write(&file, serde_json::to_vec(&entry).unwrap_or_default())
            });
            Ok((list, 0))
        }
        Err(why) => match status_cache::fallback(cached.as_ref(), now, s.offline_grace) {
            Some(old) => match usable(old) {
                Some(list) => Ok((list, now - old.fetched_at)),
                None => Err(Failure::Refused(Refusal::StatusUnavailable(why))),
            },
            None => Err(Failure::Refused(Refusal::StatusUnavailable(why))),
        },
    }
}

async fn fetch(uri: &str) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let r = http
        .get(uri)
        .header("accept", "application/statuslist+jwt")
        .send()
        .await
        .map_err(|e| format!("fetching the status list: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("the status list answered {}", r.status()));
    }
    r.text().await.map_err(|e| e.to_string())
}
