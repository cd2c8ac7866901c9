//! The `idp` command line: serve, migrate, and the admin commands. Admin commands work on the
//! same database while `idp serve` runs; each prints one JSON document on standard output.
#![allow(clippy::print_stdout)]

mod correction;
mod licence;
mod operator;
mod province;
mod user;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::client::{AuthMethod, ClientStatus, GrantType};
use crate::flows::{audit, clients, keyring, users};
use crate::services::{Services, Shared};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "idp",
    version,
    about = "National federated OpenID Connect provider"
)]
pub struct Cli {
    /// TOML configuration file (environment variables IDP_* override it).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the provider (SQLite in the current folder unless IDP_DATABASE_URL is set).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Citizens.
    #[command(subcommand)]
    User(UserCommand),
    /// The app registry.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Federation: the identity providers citizens are sent home to (or the hub, code 00).
    #[command(subcommand)]
    Province(province::ProvinceCommand),
    /// Operators of the console at /admin and their roles.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// Citizens' identity correction requests (身份认证结果纠错): review them.
    #[command(subcommand)]
    Correction(correction::CorrectionCommand),
    /// Electronic licences (电子证照): the registry and its states.
    #[command(subcommand)]
    Licence(licence::LicenceCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a citizen; the password is read from standard input.
    Create {
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Print everything stored about a citizen as JSON (their data-access request).
    Export(user::Which),
    /// Erase a citizen's account and everything keyed by it (their erasure request); the
    /// audit log keeps only the account's random subject.
    Delete {
        #[command(flatten)]
        which: user::Which,
        /// Confirms the erasure: it cannot be undone.
        #[arg(long, required = true)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    #[arg(long)]
    pub name: String,
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// A public client (native or single-page app): no secret, PKCE required.
    #[arg(long)]
    pub public: bool,
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Publish at once instead of waiting for review.
    #[arg(long)]
    pub approve: bool,
    #[arg(long)]
    pub auth_method: Option<String>,
    /// ID token algorithm: ES256 (default here) or RS256.
    #[arg(long, default_value = "ES256")]
    pub id_token_alg: String,
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// JWKS (JSON text) for private_key_jwt.
    #[arg(long)]
    pub jwks: Option<String>,
    /// Or the URL where the app publishes its JWKS.
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// Every token request must carry a DPoP proof (RFC 9449 `dpop_bound_access_tokens`).
    #[arg(long)]
    pub dpop: bool,
    /// The government app: a public client with DPoP-bound tokens and the `gov_app` scope, which
    /// lets it approve QR logins and kiosk codes for its citizen and manage their devices.
    #[arg(long)]
    pub government_app: bool,
    /// The platform's own service (a federation node, a government service app): citizens are
    /// not asked to consent to it.
    #[arg(long)]
    pub first_party: bool,
    /// Pairwise subject identifiers (OIDC Core 8.1): the app sees its own `sub` per citizen,
    /// shared only with apps of the same sector.
    #[arg(long)]
    pub pairwise: bool,
    /// The sector of a pairwise app (a host name, e.g. `health.gov.cn`): apps of one sector
    /// see the same `sub`. Default: the host of the redirect URIs.
    #[arg(long, requires = "pairwise")]
    pub sector: Option<String>,
    /// A federation node below this one, serving region CODE (GB/T 2260): its own citizens'
    /// ID numbers go to it in their ID tokens (it links them to their accounts there); other
    /// citizens' only with their consent.
    #[arg(long, value_name = "CODE")]
    pub federation_region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register an app (pending unless --approve).
    Create(Box<ClientCreate>),
    /// Approve (publish) a pending app.
    Approve {
        // Ids registered before they were kept from starting with '-' are still accepted.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Reject a pending app, with a reason.
    Reject {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        /// Why (shown to the app's team and kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Suspend an app: it can no longer start flows, obtain tokens or use the ones it holds.
    Suspend {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    List,
    /// Logins, tokens and errors counted for an app.
    Stats {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// An initial access token for Dynamic Client Registration.
    RegistrationToken {
        /// Apps registered with this token are approved at once.
        #[arg(long)]
        approve: bool,
        #[arg(long, default_value_t = 30)]
        ttl_days: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// New signing keys sign from now on; old ones stay published until their tokens expire.
    Rotate,
    List,
    /// The national root certificate (PEM) that licence verifiers trust; made on first use.
    RootCa,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain; exits non-zero at the first altered or missing entry.
    Verify,
    /// The most recent entries.
    Tail {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

fn err(e: impl std::fmt::Display) -> CliError {
    CliError(e.to_string())
}

fn open(config: Config) -> Result<Shared, CliError> {
    Services::open(config, Arc::new(SystemClock)).map_err(err)
}

const OPERATOR: &str = "operator:cli";

/// Runs one admin command (everything but `serve`).
pub fn run(command: Command, config: Config) -> Result<(), CliError> {
    match command {
        Command::Serve => Err(CliError("serve is handled by main".into())),
        Command::Migrate => {
            let store = crate::store::Store::open(&config.database_url, 1).map_err(err)?;
            let applied = store.migrate().map_err(err)?;
            println!("{}", json!({ "applied": applied }));
            Ok(())
        }
        Command::User(UserCommand::Create {
            id_number,
            name,
            phone,
            email,
            address,
            ..
        }) => {
            let password = read_secret_stdin()?;
            let svc = open(config)?;
            let sub = users::create(
                &svc,
                users::NewUser {
                    id_number,
                    name,
                    phone,
                    email,
                    address,
                    password,
                },
            )
            .map_err(err)?;
            println!("{}", json!({ "sub": sub }));
            Ok(())
        }
        Command::User(UserCommand::Export(which)) => user::export(&open(config)?, &which),
        Command::User(UserCommand::Delete { which, .. }) => user::delete(&open(config)?, &which),
        Command::Client(c) => client(c, config),
        Command::Province(c) => province::run(c, config),
        Command::Operator(c) => operator::run(c, config),
        Command::Correction(c) => correction::run(c, config),
        Command::Licence(c) => licence::run(c, config),
        Command::Keys(KeysCommand::Rotate) => {
            let svc = open(config)?;
            let (kids, window) = keyring::rotate_audited(&svc, OPERATOR).map_err(err)?;
            println!(
                "{}",
                json!({ "active": kids, "previous_published_for_seconds": window })
            );
            Ok(())
        }
        Command::Keys(KeysCommand::RootCa) => {
            let svc = open(config)?;
            let issuer = crate::flows::licence_issuer::issuer(&svc).map_err(err)?;
            print!("{}", keys::pem(&issuer.root_der));
            Ok(())
        }
        Command::Keys(KeysCommand::List) => {
            let svc = open(config)?;
            let now = svc.now();
            let rows = svc.store.signing_keys().map_err(err)?;
            let list: Vec<_> = rows
                .iter()
                .map(|r| {
                    let state = match (r.retired_at, r.publish_until) {
                        (None, _) => "active",
                        (Some(_), Some(until)) if until > now => "retired, still published",
                        _ => "retired",
                    };
                    json!({ "kid": r.kid, "alg": r.alg, "state": state, "created_at": r.created_at, "publish_until": r.publish_until })
                })
                .collect();
            println!("{}", serde_json::Value::Array(list));
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let svc = open(config)?;
            let n = audit::verify(&svc.store, &svc.secrets.audit).map_err(err)?;
            println!("{}", json!({ "verified_entries": n, "intact": true }));
            Ok(())
        }
        Command::Audit(AuditCommand::Tail { limit }) => {
            let svc = open(config)?;
            let entries = svc
                .store
                .audit_recent(None, limit.clamp(1, 10_000))
                .map_err(err)?;
            println!("{}", serde_json::to_string(&entries).map_err(err)?);
            Ok(())
        }
    }
}

fn client(command: ClientCommand, config: Config) -> Result<(), CliError> {
    let svc = open(config)?;
    match command {
        ClientCommand::Create(c) => {
            let auth_method = match (&c.auth_method, c.public || c.government_app) {
                (Some(m), _) => m.parse::<AuthMethod>().map_err(err)?,
                (None, true) => AuthMethod::None,
                (None, false) => AuthMethod::ClientSecretBasic,
            };
            let grant_types = if c.grant_types.is_empty() {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
            } else {
                c.grant_types
                    .iter()
                    .map(|g| g.parse())
                    .collect::<Result<_, _>>()
                    .map_err(err)?
            };
            let mut scopes: Vec<String> = if c.scopes.is_empty() {
                crate::domain::scope::default_app_scopes()
            } else {
                c.scopes
                    .iter()
                    .flat_map(|s| s.split(' '))
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            if c.government_app && !scopes.iter().any(|s| s == crate::domain::scope::GOV_APP) {
                scopes.push(crate::domain::scope::GOV_APP.to_owned());
            }
            let jwks = match &c.jwks {
                Some(text) => Some(
                    serde_json::from_str(text)
                        .map_err(|e| err(format!("--jwks is not JSON: {e}")))?,
                ),
                None => None,
            };
            let mut metadata: serde_json::Map<String, serde_json::Value> = [
                ("dpop_bound_access_tokens", c.dpop || c.government_app),
                ("first_party", c.first_party),
            ]
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, on)| (k.to_owned(), serde_json::Value::Bool(on)))
            .collect();
            if let Some(region) = &c.federation_region {
                let region = region.trim();
                if !crate::domain::upstream::valid_code(region)
                    || region == crate::domain::upstream::HUB_CODE
                {
                    return Err(err("--federation-region must be a region code such as 51"));
                }
                metadata.insert("federation_region".into(), json!(region));
            }
            if c.pairwise {
                let sector = match c.sector {
                    Some(s) => s.trim().to_ascii_lowercase(),
                    None => crate::domain::subject::sector_of_redirect_uris(&c.redirect_uris)
                        .map_err(err)?,
                };
                if sector.is_empty() || sector.len() > 253 {
                    return Err(err("--sector must be a host name"));
                }
                metadata.insert("subject_type".into(), json!("pairwise"));
                metadata.insert("sector_identifier".into(), json!(sector));
            }
            let registered = clients::register(
                &svc,
                clients::NewClient {
                    name: c.name,
                    redirect_uris: c.redirect_uris,
                    post_logout_redirect_uris: c.post_logout_redirect_uris,
                    auth_method,
                    grant_types,
                    scopes,
                    id_token_alg: c.id_token_alg.parse().map_err(err)?,
                    jwks,
                    jwks_uri: c.jwks_uri,
                    request_object_alg: None,
                    backchannel_logout_uri: c.backchannel_logout_uri,
                    approve: c.approve,
                    metadata,
                    registration_token_hash: None,
                },
                OPERATOR,
            )
            .map_err(err)?;
            let mut out =
                json!({ "client_id": registered.client_id, "status": registered.status.as_str() });
            if let Some(secret) = registered.client_secret {
                out["client_secret"] = json!(secret);
            }
            println!("{out}");
        }
        ClientCommand::Approve { client_id } => {
            clients::set_status(&svc, &client_id, ClientStatus::Approved, None, OPERATOR)
                .map_err(err)?;
            println!(
                "{}",
                json!({ "client_id": client_id, "status": "approved" })
            );
        }
        ClientCommand::Reject { client_id, reason } => {
            clients::set_status(
                &svc,
                &client_id,
                ClientStatus::Rejected,
                reason.as_deref(),
                OPERATOR,
            )
            .map_err(err)?;
            println!(
                "{}",
                json!({ "client_id": client_id, "status": "rejected", "reason": reason })
            );
        }
        ClientCommand::Suspend { client_id, reason } => {
            clients::set_status(
                &svc,
                &client_id,
                ClientStatus::Suspended,
                reason.as_deref(),
                OPERATOR,
            )
            .map_err(err)?;
            println!(
                "{}",
                json!({ "client_id": client_id, "status": "suspended", "reason": reason })
            );
        }
        ClientCommand::List => {
            let rows = svc.store.clients().map_err(err)?;
            let list: Vec<_> = rows
                .iter()
                .map(|r| json!({ "client_id": r.client_id, "name": r.name, "status": r.status, "reason": r.status_reason, "auth_method": r.auth_method }))
                .collect();
            println!("{}", serde_json::Value::Array(list));
        }
        ClientCommand::Stats { client_id } => {
            let counts = clients::stats(&svc, &client_id).map_err(err)?;
            println!(
                "{}",
                json!({ "client_id": client_id, "logins": counts.logins, "tokens": counts.tokens, "errors": counts.errors })
            );
        }
        ClientCommand::RegistrationToken { approve, ttl_days } => {
            let token = clients::issue_registration_token(
                &svc,
                approve,
                ttl_days.clamp(1, 365) * 86_400,
                OPERATOR,
            )
            .map_err(err)?;
            println!("{}", json!({ "token": token, "approve": approve }));
        }
    }
    Ok(())
}

pub(crate) fn read_secret_stdin() -> Result<zeroize::Zeroizing<String>, CliError> {
    let mut text = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(err)?;
    let trimmed = zeroize::Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned());
    Ok(trimmed)
}
