//! A national root and the verifier trusting it, made once per fuzzing process.
#![allow(dead_code)]
use std::sync::OnceLock;
use wallet_verifier::sd_jwt::Verifier;

pub const NOW: i64 = 1_800_000_000;
pub const NONCE: &str = "fuzz-nonce";
pub const AUD: &str = "https://counter.example";

pub struct Pki {
    pub root: Vec<u8>,
    pub issuer_key: keys::SigningKey,
    pub leaf: Vec<u8>,
    pub verifier: Verifier,
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root_key = keys::SigningKey::generate(keys::Alg::ES256).expect("a key");
        let root =
            keys::root_certificate(&root_key, "fuzz root", NOW - 3600, NOW + 3600).expect("root");
        let issuer_key = keys::SigningKey::generate(keys::Alg::ES256).expect("a key");
        let leaf = keys::issuer_certificate(
            &root_key,
            &root,
            "fuzz issuer",
            "https://idp.example",
            &issuer_key.verifier(),
            NOW - 3600,
            NOW + 3600,
        )
        .expect("leaf");
        let verifier = Verifier::new(vec![root.clone()]).expect("verifier");
        Pki {
            root,
            issuer_key,
            leaf,
            verifier,
        }
    })
}

pub fn verifier() -> &'static Verifier {
    &pki().verifier
}

/// `input`'s disclosures and last part (the key-binding JWT) behind a real issuer JWT whose
/// `_sd` holds the disclosures' digests and whose `cnf` is the issuer's own key.
pub fn behind_real_issuer(input: &str) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use sha2::Digest as _;
    let parts: Vec<&str> = input.split('~').collect();
    let (kb, disclosures) = parts.split_last()?;
    let disclosures = disclosures.get(1..).unwrap_or_default();
    let digests: Vec<String> = disclosures
        .iter()
        .map(|d| URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(d.as_bytes())))
        .collect();
    let pki = pki();
    let mut header = serde_json::Map::new();
    header.insert(
        "x5c".into(),
        serde_json::json!([STANDARD.encode(&pki.leaf)]),
    );
    let payload = serde_json::json!({"iss": "https://idp.example", "vct": "urn:x", "iat": NOW,
        "exp": NOW + 60, "_sd_alg": "sha-256", "_sd": digests,
        "cnf": {"jwk": pki.issuer_key.public_jwk()}});
    let jwt = pki
        .issuer_key
        .sign_jwt_with_header("dc+sd-jwt", &header, payload.as_object()?)
        .ok()?;
    let mut out = jwt;
    for d in disclosures {
        out.push('~');
        out.push_str(d);
    }
    out.push('~');
    out.push_str(kb);
    Some(out)
}
