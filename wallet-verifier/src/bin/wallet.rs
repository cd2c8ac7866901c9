//! `wallet`: the reference government app, for tests and demos. It plays the citizen's phone:
//!
//!   wallet login --issuer URL --client-id ID --id-number N --password-stdin
//!   wallet scan URL_OR_PAYLOAD [--approve | --deny]
//!   wallet devices
//!   wallet licence receive OFFER --tx-code CODE
//!   wallet licence list
//!   wallet licence present ID --claims a,b [--audience A] [--nonce N] [--qr]
//!   wallet licence answer 'openid4vp://?client_id=...&request_uri=...' [--yes]
//!
//! State (device key sealed under `wallet.kek`, tokens) lives in `--state FILE` (wallet.json).
#![allow(clippy::print_stdout)]

use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;
use wallet_verifier::{app, state};

#[derive(Debug, Parser)]
#[command(
    name = "wallet",
    about = "The reference government app: log in once, then answer QR logins"
)]
struct Cli {
    /// Where the app keeps its state.
    #[arg(
        long,
        global = true,
        default_value = "wallet.json",
        env = "WALLET_STATE"
    )]
    state: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Log in once (code flow with PKCE) and bind the tokens to a new device key.
    Login {
        #[arg(long)]
        issuer: String,
        /// The app's client id (registered with `idp client create --government-app`).
        #[arg(long)]
        client_id: String,
        #[arg(long, default_value = "http://127.0.0.1/wallet/callback")]
        redirect_uri: String,
        #[arg(long)]
        id_number: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Scan a QR code (or open its link): show who asks; answer with --approve or --deny.
    /// Kiosk codes (`/device?user_code=`) are answered the same way.
    Scan {
        payload: String,
        #[arg(long, conflicts_with = "deny")]
        approve: bool,
        #[arg(long)]
        deny: bool,
    },
    /// The citizen's bound devices.
    Devices,
    /// Electronic licences (电子证照) in this wallet.
    #[command(subcommand)]
    Licence(LicenceCommand),
}

#[derive(Debug, Subcommand)]
enum LicenceCommand {
    /// Receive the licence a credential offer names (`openid-credential-offer://...`), with the
    /// transaction code the counter gave.
    Receive {
        offer: String,
        #[arg(long)]
        tx_code: String,
    },
    /// The licences kept here (claim names only).
    List,
    /// Show a licence: only the named claims, bound to this wallet by a key-binding JWT.
    /// Without a verifier's request, the audience is the shown-at-a-counter one and the nonce
    /// is the wallet's own (a verifier then accepts it only while fresh).
    Present {
        /// The licence's id or type (see `wallet licence list`).
        id: String,
        /// Claims to disclose, comma-separated.
        #[arg(long, value_delimiter = ',')]
        claims: Vec<String>,
        #[arg(long, default_value = wallet_verifier::licences::SHOWN_AUDIENCE)]
        audience: String,
        #[arg(long, allow_hyphen_values = true)]
        nonce: Option<String>,
        /// Also draw it as a QR code on standard error (扫码亮证).
        #[arg(long)]
        qr: bool,
    },
    /// Answer a verifier's request (OpenID4VP, the link of the QR code a counter shows): says
    /// who asks for which claims; with --yes shows exactly those to that verifier.
    Answer {
        link: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, thiserror::Error)]
enum WalletError {
    #[error(transparent)]
    App(#[from] app::AppError),
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error(transparent)]
    Licence(#[from] wallet_verifier::licences::LicenceError),
    #[error("{0}")]
    Usage(String),
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("wallet: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(cli: Cli) -> Result<Value, WalletError> {
    match cli.command {
        Command::Login {
            issuer,
            client_id,
            redirect_uri,
            id_number,
            password_stdin,
        } => {
            if !password_stdin {
                return Err(WalletError::Usage(
                    "give the password with --password-stdin".into(),
                ));
            }
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| WalletError::Usage(e.to_string()))?;
            let (kek, _) = keys::Kek::load_or_create(&state::kek_path(&cli.state))
                .map_err(state::StateError::from)?;
            let logged_in = app::login(
                &app::LoginInput {
                    issuer: &issuer,
                    client_id: &client_id,
                    redirect_uri: &redirect_uri,
                    id_number: id_number.trim(),
                    password: password.trim_end_matches(['\r', '\n']),
                },
                &kek,
            )
            .await?;
            state::save(&cli.state, &logged_in)?;
            Ok(
                json!({ "logged_in": true, "issuer": logged_in.issuer, "device_key": logged_in.device_key.kid }),
            )
        }
        Command::Scan {
            payload,
            approve,
            deny,
        } => {
            let (mut st, key) = state::load(&cli.state)?;
            let out = scan(&mut st, &key, &payload, approve, deny).await;
            state::save(&cli.state, &st)?;
            out
        }
        Command::Devices => {
            let (mut st, key) = state::load(&cli.state)?;
            let (status, answer, _) =
                app::call(&mut st, &key, reqwest::Method::GET, "/app/devices", None).await?;
            state::save(&cli.state, &st)?;
            expect_ok(status, answer)
        }
        Command::Licence(command) => licence(&cli.state, command).await,
    }
}

async fn licence(
    state_path: &std::path::Path,
    command: LicenceCommand,
) -> Result<Value, WalletError> {
    use wallet_verifier::licences;
    let (kek, _) =
        keys::Kek::load_or_create(&state::kek_path(state_path)).map_err(state::StateError::from)?;
    let store = licences::store_path(state_path);
    let mut kept = licences::load(&store)?;
    match command {
        LicenceCommand::Receive { offer, tx_code } => {
            let received =
                licences::receive(&offer, &tx_code, &kek, wallet_verifier::dpop::now()).await?;
            let summary = licences::summary(&received);
            kept.push(received);
            licences::save(&store, &kept)?;
            Ok(summary)
        }
        LicenceCommand::List => Ok(Value::Array(kept.iter().map(licences::summary).collect())),
        LicenceCommand::Answer { link, yes } => {
            Ok(licences::answer(&link, &kept, &kek, wallet_verifier::dpop::now(), yes).await?)
        }
        LicenceCommand::Present {
            id,
            claims,
            audience,
            nonce,
            qr,
        } => {
            let licence = licences::find(&kept, &id)?;
            let nonce = nonce.unwrap_or_else(|| keys::random_token(16));
            let claims: Vec<&str> = claims
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .collect();
            let shown = licences::present(
                licence,
                &claims,
                &audience,
                &nonce,
                &kek,
                wallet_verifier::dpop::now(),
            )?;
            if qr {
                let code = qrcode::QrCode::with_error_correction_level(
                    shown.as_bytes(),
                    qrcode::EcLevel::L,
                )
                .map_err(|e| {
                    WalletError::Usage(format!(
                        "too long for a QR code ({e}, {} characters): show fewer claims",
                        shown.len()
                    ))
                })?;
                let drawn = code
                    .render::<qrcode::render::unicode::Dense1x2>()
                    .quiet_zone(true)
                    .build();
                eprintln!("{drawn}");
            }
            Ok(Value::String(shown))
        }
    }
}

fn expect_ok(status: u16, answer: Value) -> Result<Value, WalletError> {
    if (200..300).contains(&status) {
        Ok(answer)
    } else {
        Err(WalletError::Usage(format!(
            "the provider refused ({status}): {answer}"
        )))
    }
}

async fn scan(
    st: &mut state::WalletState,
    key: &keys::SigningKey,
    payload: &str,
    approve: bool,
    deny: bool,
) -> Result<Value, WalletError> {
    let decision = if approve { "approve" } else { "deny" };
    // A kiosk's code: the link of verification_uri_complete.
    if let Some(user_code) = url::Url::parse(payload).ok().and_then(|u| {
        (u.path() == "/device")
            .then(|| {
                u.query_pairs()
                    .find(|(k, _)| k == "user_code")
                    .map(|(_, v)| v.into_owned())
            })
            .flatten()
    }) {
        // Who asks and for what comes first; the answer names the app it agrees to.
        let question = json!({ "user_code": user_code });
        let (status, described, _) = app::call(
            st,
            key,
            reqwest::Method::POST,
            "/app/device_code/describe",
            Some(&question),
        )
        .await?;
        let described = expect_ok(status, described)?;
        if !approve && !deny {
            return Ok(
                json!({ "kind": "device", "user_code": user_code, "asks": described, "hint": "answer with --approve or --deny" }),
            );
        }
        let body = json!({
            "user_code": user_code,
            "client_id": described["client_id"],
            "decision": decision,
        });
        let (status, answer, _) = app::call(
            st,
            key,
            reqwest::Method::POST,
            "/app/device_code",
            Some(&body),
        )
        .await?;
        return expect_ok(status, answer);
    }
    let body = json!({ "payload": payload });
    let (status, described, _) =
        app::call(st, key, reqwest::Method::POST, "/qr/scan", Some(&body)).await?;
    let described = expect_ok(status, described)?;
    if !approve && !deny {
        return Ok(
            json!({ "kind": "qr", "asks": described, "hint": "answer with --approve or --deny (scan again)" }),
        );
    }
    let body = json!({ "payload": payload, "decision": decision });
    let (status, answer, _) =
        app::call(st, key, reqwest::Method::POST, "/qr/answer", Some(&body)).await?;
    let answer = expect_ok(status, answer)?;
    Ok(json!({ "kind": "qr", "asks": described, "answer": answer }))
}
