//! The signing keys in memory: decrypted once at load, never per request. Any replica may
//! rotate; the others pick the new keys up on their next reload (periodic, or on an unknown kid).
use crate::clock::SharedClock;
use crate::store::signing_keys::SigningKeyRow;
use crate::store::{Store, StoreError};
use keys::{Alg, Kek, KeySet, SealedKey, SigningKey, VerifyingKey};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Debug)]
struct Loaded {
    es256: Arc<SigningKey>,
    rs256: Arc<SigningKey>,
    published: KeySet,
}

pub struct Keyring {
    loaded: RwLock<Arc<Loaded>>,
    kek: Kek,
    store: Store,
    clock: SharedClock,
    last_reload: AtomicI64,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("key error: {0}")]
    Key(#[from] keys::KeyError),
    #[error("no active {0} signing key in the database")]
    NoActiveKey(&'static str),
}

/// How long a retired key stays published: the longest lifetime of anything it signed, plus leeway.
pub fn publish_window(id_token_ttl: i64, access_token_ttl: i64) -> i64 {
    id_token_ttl.max(access_token_ttl) + 300
}

pub fn new_key_rows(kek: &Kek, now: i64) -> Result<Vec<SigningKeyRow>, KeyringError> {
    [Alg::ES256, Alg::RS256]
        .into_iter()
        .map(|alg| {
            let key = SigningKey::generate(alg)?;
            let sealed = key.seal(kek);
            Ok(SigningKeyRow {
                kid: sealed.kid,
                alg: alg.as_str().to_owned(),
                public_jwk: sealed.public_jwk,
                sealed_private: sealed.sealed_private,
                kek_id: sealed.kek_id,
                created_at: now,
                retired_at: None,
                publish_until: None,
            })
        })
        .collect()
}

/// Rotation, as `idp keys rotate` does it: new keys sign from now on; the old ones stay published.
pub fn rotate(
    store: &Store,
    kek: &Kek,
    now: i64,
    window: i64,
) -> Result<Vec<String>, KeyringError> {
    let rows = new_key_rows(kek, now)?;
    store.rotate_signing_keys(&rows, now, now + window)?;
    Ok(rows.into_iter().map(|r| r.kid).collect())
}

impl Keyring {
    /// Loads the keys, creating the first ones if the database has none.
    pub fn open(store: Store, kek: Kek, clock: SharedClock) -> Result<Self, KeyringError> {
        let now = clock.now();
        if store.signing_keys()?.is_empty() {
            store.insert_first_signing_keys(&new_key_rows(&kek, now)?)?;
        }
        let loaded = load(&store, &kek, now)?;
        Ok(Self {
            loaded: RwLock::new(Arc::new(loaded)),
            kek,
            store,
            clock,
            last_reload: AtomicI64::new(now),
        })
    }

    pub fn reload(&self) -> Result<(), KeyringError> {
        let now = self.clock.now();
        let fresh = load(&self.store, &self.kek, now)?;
        if let Ok(mut guard) = self.loaded.write() {
            *guard = Arc::new(fresh);
        }
        self.last_reload.store(now, Ordering::Relaxed);
        Ok(())
    }

    /// Reloads at most every few seconds: used when a token names a kid we do not know yet.
    pub fn reload_if_stale(&self, min_age: i64) {
        let now = self.clock.now();
        if now - self.last_reload.load(Ordering::Relaxed) >= min_age {
            if let Err(e) = self.reload() {
                tracing::warn!(error = %e, "signing key reload failed");
            }
        }
    }

    fn current(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn signer(&self, alg: Alg) -> Arc<SigningKey> {
        let loaded = self.current();
        match alg {
            Alg::ES256 => loaded.es256.clone(),
            Alg::RS256 => loaded.rs256.clone(),
        }
    }

    pub fn published(&self) -> KeySet {
        self.current().published.clone()
    }

    pub fn kek(&self) -> &Kek {
        &self.kek
    }
}

fn load(store: &Store, kek: &Kek, now: i64) -> Result<Loaded, KeyringError> {
    let rows = store.signing_keys()?;
    let mut published = Vec::new();
    let mut es256 = None;
    let mut rs256 = None;
    // Rows come newest first: the first active key of each algorithm signs.
    for row in &rows {
        let alg: Alg = row
            .alg
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("key {} alg", row.kid)))?;
        let still_published =
            row.retired_at.is_none() || row.publish_until.is_some_and(|until| until > now);
        if still_published {
            let jwk: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&row.public_jwk)
                    .map_err(|_| StoreError::Corrupt(format!("key {} jwk", row.kid)))?;
            published.push(VerifyingKey::from_jwk(&jwk)?);
        }
        if row.retired_at.is_none() {
            let slot = match alg {
                Alg::ES256 => &mut es256,
                Alg::RS256 => &mut rs256,
            };
            if slot.is_none() {
                let sealed = SealedKey {
                    kid: row.kid.clone(),
                    alg,
                    public_jwk: row.public_jwk.clone(),
                    sealed_private: row.sealed_private.clone(),
                    kek_id: row.kek_id.clone(),
                };
                *slot = Some(Arc::new(SigningKey::unseal(&sealed, kek)?));
            }
        }
    }
    Ok(Loaded {
        es256: es256.ok_or(KeyringError::NoActiveKey("ES256"))?,
        rs256: rs256.ok_or(KeyringError::NoActiveKey("RS256"))?,
        published: KeySet::new(published),
    })
}

/// Rotation by an operator (CLI or console): new keys sign from now on, the old ones stay
/// published for `window` seconds; audited; this process signs with the new keys at once
/// (other replicas at their next reload). Returns the new kids and the window.
pub fn rotate_audited(
    svc: &crate::services::Services,
    actor: &str,
) -> Result<(Vec<String>, i64), super::Infra> {
    let window = publish_window(
        svc.config.id_token_ttl_secs,
        svc.config.access_token_ttl_secs,
    );
    let kids = rotate(&svc.store, svc.keys.kek(), svc.now(), window).map_err(|e| match e {
        KeyringError::Store(s) => super::Infra::Store(s),
        KeyringError::Key(k) => super::Infra::Sign(k),
        KeyringError::NoActiveKey(_) => super::Infra::Corrupt("no active signing key"),
    })?;
    svc.audit.append(crate::domain::audit::AuditEvent::new(
        "keys.rotated",
        actor,
        None,
        serde_json::json!({ "new": kids }),
    ))?;
    if let Err(e) = svc.keys.reload() {
        tracing::warn!(error = %e, "signing key reload after rotation failed");
    }
    Ok((kids, window))
}
