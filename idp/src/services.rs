//! Everything a flow needs, built once at start-up and shared by every request.
use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::licence_type::LicenceTypes;
use crate::flows::audit::AuditLog;
use crate::flows::counters::Counters;
use crate::flows::keyring::{Keyring, KeyringError};
use crate::store::Store;
use keys::Kek;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Keys derived from the KEK for purposes other than signing.
pub struct Secrets {
    /// HMAC key for CSRF tokens (shared by replicas because they share the KEK).
    pub csrf: Zeroizing<[u8; 32]>,
    /// HMAC key that turns an ID number into its lookup value.
    pub id_lookup: Zeroizing<[u8; 32]>,
    /// Encrypts ID numbers at rest.
    pub id_seal: Kek,
    /// Keys the audit chain (whoever can write the database but lacks the KEK cannot re-chain it).
    pub audit: Zeroizing<[u8; 32]>,
    /// Keys the WebAuthn user handle (an opaque, stable id per citizen).
    pub user_handle: Zeroizing<[u8; 32]>,
    /// Keys the DPoP nonces (see `flows::dpop`).
    pub dpop_nonce: Zeroizing<[u8; 32]>,
    /// Seals the client secrets this node holds at its upstream identity providers.
    pub upstream_seal: Kek,
    /// Seals the state of a login sent to an upstream (the browser carries it in a cookie).
    pub federation_state: Kek,
    /// Keys pairwise subject identifiers (see `domain::subject`).
    pub pairwise: Zeroizing<[u8; 32]>,
    /// Seals licence holders' numbers and claims at rest.
    pub licence_seal: Kek,
    /// Keys the credential endpoint's `c_nonce` values (see `flows::vci`).
    pub vci_nonce: Zeroizing<[u8; 32]>,
    /// Seals authorization codes, each under its own salted key (see `flows::sealed_code`).
    pub code_seal: Kek,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    pub fn derive(kek: &Kek) -> Self {
        Self {
            csrf: kek.derive("csrf"),
            id_lookup: kek.derive("id-number-lookup"),
            id_seal: Kek::from_bytes(*kek.derive("id-number-seal")),
            audit: kek.derive("audit-chain"),
            user_handle: kek.derive("webauthn-user-handle"),
            dpop_nonce: kek.derive("dpop-nonce"),
            upstream_seal: Kek::from_bytes(*kek.derive("upstream-secret-seal")),
            federation_state: Kek::from_bytes(*kek.derive("federation-state")),
            pairwise: kek.derive("pairwise-subject"),
            licence_seal: Kek::from_bytes(*kek.derive("licence-seal")),
            vci_nonce: kek.derive("vci-nonce"),
            code_seal: Kek::from_bytes(*kek.derive("authorization-code-seal")),
        }
    }
}

#[derive(Debug)]
pub struct Services {
    pub config: Config,
    pub store: Store,
    pub clock: SharedClock,
    pub keys: Keyring,
    pub secrets: Secrets,
    pub audit: AuditLog,
    pub counters: Counters,
    pub jwks_cache: crate::flows::client_keys::JwksCache,
    /// Argon2id (19 MiB, ~20 ms per hash) on a few dedicated threads.
    pub passwords: crate::flows::password_pool::PasswordPool,
    /// Calls to client-named URLs in flight (see `flows::outbound`).
    pub outbound_slots: tokio::sync::Semaphore,
    /// Browsers waiting on a QR login's status (see `flows::qr`).
    pub qr_hub: crate::flows::qr::QrHub,
    /// The WebAuthn relying party; `None` when passkeys are off (see `flows::passkeys`).
    pub webauthn: Option<webauthn_rs::Webauthn>,
    /// Upstream identity providers' discovery documents (see `flows::upstream_oidc`).
    pub federation_metadata: crate::flows::upstream_oidc::MetadataCache,
    /// How each upstream has been answering this node (the console's health column).
    pub upstream_health: crate::flows::upstream_health::UpstreamHealth,
    /// The kinds of electronic licence this node issues (see `domain::licence_type`).
    pub licence_types: crate::domain::licence_type::LicenceTypes,
    /// The licence issuer's key and certificates, loaded on first use.
    pub licence_issuer: crate::flows::licence_issuer::IssuerCell,
}

pub type Shared = Arc<Services>;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Database(#[from] crate::store::connection::DbSetupError),
    #[error("key-encryption key: {0}")]
    Kek(#[from] keys::KeyError),
    #[error("passkeys: {0}")]
    Webauthn(String),
    #[error("signing keys: {0}")]
    Keyring(#[from] KeyringError),
    #[error("{0}")]
    LicenceTypes(String),
}

impl Services {
    /// Opens the database, applies migrations, loads (or creates) the KEK and the signing keys.
    pub fn open(config: Config, clock: SharedClock) -> Result<Shared, StartError> {
        let webauthn =
            crate::flows::passkeys::relying_party(&config).map_err(StartError::Webauthn)?;
        if webauthn.is_none() {
            tracing::warn!(
                "passkeys are off: the issuer's host is not a domain (set IDP_WEBAUTHN_RP_ID)"
            );
        }
        let licence_types = match &config.licence_types_file {
            None => LicenceTypes::built_in(),
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| LicenceTypes::with_operator_file(&text).map_err(|e| e.to_string()))
                .map_err(|e| StartError::LicenceTypes(format!("{}: {e}", path.display())))?,
        };
        let store = Store::open(&config.database_url, config.connections())?;
        store.migrate()?;
        let kek = load_kek(&config)?;
        let secrets = Secrets::derive(&kek);
        let keys = Keyring::open(store.clone(), kek, clock.clone())?;
        let audit = AuditLog::start(store.clone(), clock.clone(), secrets.audit.clone());
        Ok(Arc::new(Services {
            config,
            store,
            clock,
            keys,
            secrets,
            audit,
            counters: Counters::default(),
            jwks_cache: Default::default(),
            webauthn,
            qr_hub: Default::default(),
            federation_metadata: Default::default(),
            upstream_health: Default::default(),
            licence_types,
            licence_issuer: Default::default(),
            outbound_slots: tokio::sync::Semaphore::new(crate::flows::outbound::MAX_CONCURRENT),
            passwords: crate::flows::password_pool::PasswordPool::start(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2),
            ),
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

pub fn load_kek(config: &Config) -> Result<Kek, keys::KeyError> {
    let path = config.kek_path();
    let (kek, created) = Kek::load_or_create(&path)?;
    if created && config.kek_file.is_none() {
        tracing::warn!(
            path = %path.display(),
            "created a new key-encryption key; set IDP_KEK_FILE to a protected file in production and back it up"
        );
    }
    Ok(kek)
}
