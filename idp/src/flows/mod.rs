//! Orchestration: each flow combines the pure domain with the store and the keys.
//! Blocking code: web handlers run flows on the blocking pool.
pub mod audit;
pub mod authorize;
pub mod authorized_apps;
pub mod chain_logout;
pub mod claims;
pub mod client_auth;
pub mod client_keys;
pub mod clients;
pub mod code_exchange;
pub mod console;
pub mod corrections;
pub mod counters;
pub mod credentials;
pub mod device;
pub mod devices;
pub mod dpop;
pub mod federation;
pub mod keyring;
pub mod licence_issuer;
pub mod licences;
pub mod login;
pub mod logout;
pub mod machine_token;
pub mod my_licences;
pub mod operators;
pub mod outbound;
pub mod passkeys;
pub mod password_pool;
pub mod privacy;
pub mod qr;
pub mod qr_wait;
pub mod ratings;
pub mod registration;
pub mod request_object;
pub mod sealed_code;
pub mod sectors;
pub mod sessions;
pub mod status_lists;
pub mod subjects;
pub mod token;
pub mod token_check;
pub mod token_exchange;
pub mod upstream_health;
pub mod upstream_oidc;
pub mod upstreams;
pub mod users;
pub mod vci;

use crate::store::StoreError;

/// Failures a flow shares with every other: the web layer maps them to 503 / 500.
#[derive(Debug, thiserror::Error)]
pub enum Infra {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("signing failed: {0}")]
    Sign(#[from] keys::KeyError),
    /// Stored data that cannot be what this code wrote (a different KEK, a damaged row).
    #[error("stored data is damaged: {0}")]
    Corrupt(&'static str),
}
