//! DPoP (RFC 9449): verifies a proof against the request it came with, remembers its `jti` so
//! it cannot be replayed (in the database: any replica sees it), and issues server nonces.
//! Nonces are an HMAC of a five-minute time window under a KEK-derived key: every replica makes
//! and checks the same nonce without a database round trip, and a nonce lives at most ten minutes.
use super::Infra;
use crate::domain::dpop::{self, DpopError, Expected, FUTURE_LEEWAY_SECS, MAX_AGE_SECS};
use crate::services::Services;
use hmac::{Hmac, Mac};

const NONCE_WINDOW_SECS: i64 = 300;

/// Algorithms a client may sign proofs with (advertised in discovery).
pub const ALGS: &[keys::Alg] = &[keys::Alg::ES256, keys::Alg::RS256];

fn nonce_for_window(svc: &Services, window: i64) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&*svc.secrets.dpop_nonce)
        .expect("HMAC takes any key length");
    mac.update(&window.to_be_bytes());
    let tag = mac.finalize().into_bytes();
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &tag[..18],
    )
}

/// The nonce clients should put in their next proof (the `DPoP-Nonce` header).
pub fn current_nonce(svc: &Services) -> String {
    nonce_for_window(svc, svc.now().div_euclid(NONCE_WINDOW_SECS))
}

fn nonce_is_current(svc: &Services, nonce: &str) -> bool {
    let window = svc.now().div_euclid(NONCE_WINDOW_SECS);
    [window, window - 1]
        .iter()
        .any(|w| keys::constant_time_eq(nonce.as_bytes(), nonce_for_window(svc, *w).as_bytes()))
}

/// What the proof must fit.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path on this issuer, e.g. `/token`.
    pub path: &'a str,
    pub access_token: Option<&'a str>,
    pub require_nonce: bool,
}

/// Verifies one DPoP proof for `request`; returns the key's RFC 7638 thumbprint (`jkt`).
pub fn verify(
    svc: &Services,
    proof: &str,
    request: Request<'_>,
) -> Result<Result<String, DpopError>, Infra> {
    let (jwt, key) = match keys::verify_self_signed(proof, ALGS, "dpop+jwt") {
        Ok(v) => v,
        Err(_) => return Ok(Err(DpopError::Invalid("the proof is not a valid DPoP JWT"))),
    };
    let url = svc.config.endpoint(request.path);
    let nonce_check = |n: &str| nonce_is_current(svc, n);
    let expected = Expected {
        method: request.method,
        url: &url,
        now: svc.now(),
        access_token: request.access_token,
        nonce: request
            .require_nonce
            .then_some(&nonce_check as &dyn Fn(&str) -> bool),
    };
    let fitted = match dpop::check(&jwt.claims, &expected) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let jkt = key.thumbprint().to_owned();
    // Remembered until the proof could no longer pass the iat check anyway.
    let until = fitted.iat + MAX_AGE_SECS + FUTURE_LEEWAY_SECS;
    let key_of_use = format!("dpop:{jkt}:{}", fitted.jti);
    if !svc.store.use_jti_once(&key_of_use, until)? {
        return Ok(Err(DpopError::Invalid("the proof was already used")));
    }
    Ok(Ok(jkt))
}
