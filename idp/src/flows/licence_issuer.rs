//! The licence issuer's key and its certificate chain: a national root CA (self-signed) that
//! certifies this node's issuer key, whose certificate rides in every credential's `x5c`.
//! Both are made on first use and kept sealed in the database, so replicas share them. A
//! production root belongs offline (an HSM); keeping it here makes a single node complete.
use super::Infra;
use crate::services::Services;
use crate::store::licences::LicenceCertificateRow;
use keys::{Alg, SealedKey, SigningKey};
use std::sync::{Arc, OnceLock};

const ROOT: &str = "root";
const ISSUER: &str = "issuer";
const YEAR: i64 = 365 * 86_400;
const ROOT_YEARS: i64 = 30;
const ISSUER_YEARS: i64 = 5;

/// The key that signs credentials and status lists, with its certificate and the root's.
pub struct LicenceIssuer {
    pub key: SigningKey,
    pub cert_der: Vec<u8>,
    pub cert_not_after: i64,
    pub root_der: Vec<u8>,
}

impl std::fmt::Debug for LicenceIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenceIssuer")
            .field("kid", &self.key.kid())
            .field("cert_not_after", &self.cert_not_after)
            .finish_non_exhaustive()
    }
}

impl LicenceIssuer {
    /// The `x5c` chain a credential carries: the issuer's certificate, the root left out.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        vec![self.cert_der.clone()]
    }
}

/// Loaded once per process.
#[derive(Debug, Default)]
pub struct IssuerCell(OnceLock<Arc<LicenceIssuer>>);

/// The issuer, made (root and issuer certificate) if this database has none yet.
pub fn issuer(svc: &Services) -> Result<Arc<LicenceIssuer>, Infra> {
    if let Some(loaded) = svc.licence_issuer.0.get() {
        return Ok(loaded.clone());
    }
    let loaded = Arc::new(load_or_create(svc)?);
    Ok(svc.licence_issuer.0.get_or_init(|| loaded).clone())
}

fn load_or_create(svc: &Services) -> Result<LicenceIssuer, Infra> {
    if let Some(loaded) = load(svc)? {
        return Ok(loaded);
    }
    let now = svc.now();
    let kek = svc.keys.kek();
    let root_key = SigningKey::generate(Alg::ES256)?;
    let root_der = keys::root_certificate(
        &root_key,
        "National e-Licence Root CA",
        now - 60,
        now + ROOT_YEARS * YEAR,
    )?;
    let issuer_key = SigningKey::generate(Alg::ES256)?;
    let cert_der = keys::issuer_certificate(
        &root_key,
        &root_der,
        "e-Licence Issuer",
        &svc.config.issuer,
        &issuer_key.verifier(),
        now - 60,
        now + ISSUER_YEARS * YEAR,
    )?;
    let row = |role: &str, key: &SigningKey, der: &[u8], not_after: i64| LicenceCertificateRow {
        role: role.into(),
        cert_der: der.to_vec(),
        sealed_private: serde_json::to_vec(&key.seal(kek)).unwrap_or_default(),
        kek_id: kek.id(),
        not_after,
        created_at: now,
    };
    let rows = [
        row(ROOT, &root_key, &root_der, now + ROOT_YEARS * YEAR),
        row(ISSUER, &issuer_key, &cert_der, now + ISSUER_YEARS * YEAR),
    ];
    // Another replica may have been first: then its certificates are the ones.
    let stored = svc.store.insert_licence_certificates(&rows);
    if let Some(loaded) = load(svc)? {
        return Ok(loaded);
    }
    stored?;
    Err(Infra::Corrupt("the licence certificates were not stored"))
}

fn load(svc: &Services) -> Result<Option<LicenceIssuer>, Infra> {
    let (Some(root), Some(issuer)) = (
        svc.store.licence_certificate(ROOT)?,
        svc.store.licence_certificate(ISSUER)?,
    ) else {
        return Ok(None);
    };
    let sealed: SealedKey = serde_json::from_slice(&issuer.sealed_private)
        .map_err(|_| Infra::Corrupt("the licence issuer key record is not readable"))?;
    Ok(Some(LicenceIssuer {
        key: SigningKey::unseal(&sealed, svc.keys.kek())?,
        cert_der: issuer.cert_der,
        cert_not_after: issuer.not_after,
        root_der: root.cert_der,
    }))
}
