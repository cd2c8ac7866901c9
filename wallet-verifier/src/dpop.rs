//! DPoP proofs (RFC 9449 4) signed by the device key, and the server-nonce retry (RFC 9449 8).
use base64::Engine;
use sha2::{Digest, Sha256};

/// A proof for one request; `ath` binds it to the access token it goes with.
pub fn proof(
    key: &keys::SigningKey,
    method: &str,
    url: &str,
    now: i64,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Result<String, keys::KeyError> {
    let mut claims = serde_json::Map::new();
    claims.insert("jti".into(), keys::random_token(16).into());
    claims.insert("htm".into(), method.into());
    claims.insert("htu".into(), url.into());
    claims.insert("iat".into(), now.into());
    if let Some(n) = nonce {
        claims.insert("nonce".into(), n.into());
    }
    if let Some(t) = access_token {
        let hash = Sha256::digest(t.as_bytes());
        claims.insert(
            "ath".into(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(hash)
                .into(),
        );
    }
    key.sign_self_contained("dpop+jwt", &claims)
}

/// Seconds since the Unix epoch: the phone's clock.
pub fn now() -> i64 {
    #[allow(clippy::disallowed_methods)] // the wallet is a client: its clock is the real one
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
