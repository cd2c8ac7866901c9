//! `verifier`: checks a licence presentation (扫码亮证) against the national root, as a counter
//! would:
//!
//!   verifier verify --trust-root ROOT.pem [--nonce N] [--audience A] < presentation
//!   verifier serve --trust-root ROOT.pem --bind 127.0.0.1:9090 --public-url URL   (OpenID4VP)
//!
//! Prints `{"valid": true, "vct", "iss", "claims", "status"}` with the disclosed claims, or
//! `{"valid": false, "code", "reason"}` and exits 1. Status lists are fetched online and cached
//! (`--cache-dir`); offline, a cached list serves for `--offline-grace` seconds past its `ttl`,
//! and the answer says how old it was. `--offline` skips the status check and says so.
#![allow(clippy::print_stdout)]

mod service;

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use wallet_verifier::online;
use wallet_verifier::sd_jwt::{Refusal, Verifier};

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
        #[arg(long, allow_hyphen_values = true)]
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
    /// Serve OpenID for Verifiable Presentations for a counter's screen (see `service.rs`).
    Serve {
        #[arg(long)]
        trust_root: PathBuf,
        #[arg(long, default_value = "127.0.0.1:9090")]
        bind: String,
        /// The URL wallets reach this service at (its response_uri and request_uri live there).
        #[arg(long)]
        public_url: String,
        #[arg(long, default_value_t = 24 * 3600)]
        offline_grace: i64,
        #[arg(long, default_value = ".verifier-cache")]
        cache_dir: PathBuf,
    },
}

fn main() {
    let command = Cli::parse().command;
    if let Command::Serve {
        trust_root,
        bind,
        public_url,
        offline_grace,
        cache_dir,
    } = command
    {
        let verifier = match load_root(&trust_root) {
            Ok(v) => v,
            Err(why) => {
                eprintln!("verifier: {why}");
                std::process::exit(2);
            }
        };
        let online = online::Online {
            offline: false,
            offline_grace_secs: offline_grace,
            cache_dir,
        };
        // From the environment, never the command line (`ps` shows that to everyone).
        let token = std::env::var("VERIFIER_COUNTER_TOKEN").unwrap_or_default();
        if token.len() < 16 {
            eprintln!("verifier: set VERIFIER_COUNTER_TOKEN (at least 16 characters) for the counter's calls");
            std::process::exit(2);
        }
        if let Err(e) = actix_web::rt::System::new()
            .block_on(service::serve(&bind, public_url, token, verifier, online))
        {
            eprintln!("verifier: {e}");
            std::process::exit(2);
        }
        return;
    }
    let Command::Verify {
        trust_root,
        nonce,
        audience,
        max_age,
        offline,
        offline_grace,
        cache_dir,
    } = command
    else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let settings = Settings {
        nonce,
        audience,
        max_age,
        online: online::Online {
            offline,
            offline_grace_secs: offline_grace,
            cache_dir,
        },
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
    online: online::Online,
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
    let verifier = load_root(trust_root).map_err(Failure::Setup)?;
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
    let asked = online::Asked {
        nonce: &nonce,
        audience: &s.audience,
        max_age_secs: s.max_age,
        now,
    };
    // Unasked, a photo of the QR code could be shown again while fresh: this counter accepts
    // each key-binding JWT once (what it saw is kept for the freshness window, plus skew).
    let seen = s.online.cache_dir.join("seen");
    let mark = seen.join(keys::sha256_b64(
        presentation
            .rsplit('~')
            .next()
            .unwrap_or_default()
            .as_bytes(),
    ));
    if s.nonce.is_none() && mark.exists() {
        return Err(Failure::Refused(Refusal::ReplayedNonce));
    }
    let answer = online::verify(&verifier, presentation, asked, &s.online).await?;
    if s.nonce.is_none() {
        forget_older_than(&seen, s.max_age + 120);
        // A counter that cannot write its cache loses only this protection; say so.
        if std::fs::create_dir_all(&seen)
            .and_then(|()| std::fs::write(&mark, now.to_string()))
            .is_err()
        {
            eprintln!(
                "verifier: cannot record this presentation in {}: a replay would pass",
                seen.display()
            );
        }
    }
    Ok(answer)
}

/// Removes the replay marks older than `secs` (by their recorded time).
fn forget_older_than(seen: &Path, secs: i64) {
    let now = wallet_verifier::dpop::now();
    let Ok(entries) = std::fs::read_dir(seen) else {
        return;
    };
    for entry in entries.flatten() {
        let at = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .unwrap_or(0);
        if now - at > secs {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn load_root(trust_root: &Path) -> Result<Verifier, String> {
    let pem = std::fs::read_to_string(trust_root)
        .map_err(|e| format!("{}: {e}", trust_root.display()))?;
    let root = keys::der_from_pem(&pem).map_err(|e| format!("{}: {e}", trust_root.display()))?;
    Verifier::new(vec![root]).map_err(|e| e.to_string())
}
