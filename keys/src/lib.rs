//! All private key material of the provider: the key-encryption key (KEK) that
//! seals everything at rest, signing keys with cached signers, public key sets
//! (JWKS), strict JWS verification, and the X.509 certificates of the national root and
//! the licence issuers ([`ca`]).
//!
//! Pure: no I/O except [`Kek::load`] / [`Kek::load_or_create`], no clock
//! (callers pass `now` to [`check_time`]).

mod alg;
pub mod ca;
mod error;
mod jwt;
mod kek;
mod key_set;
mod signing_key;
mod verifying_key;

pub use alg::Alg;
pub use ca::{der_from_pem, issuer_certificate, leaf_certificate, pem, root_certificate};
pub use error::KeyError;
pub use jwt::{
    check_time, half_hash, peek_header, verify_jwt, verify_self_signed, VerifiedJwt, MAX_TOKEN_LEN,
};
pub use kek::Kek;
pub use key_set::KeySet;
pub use signing_key::{SealedKey, SigningKey};
pub use verifying_key::{jwk_thumbprint, VerifyingKey};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Initialises OpenSSL without an exit-time cleanup. Call it before anything else can load
/// OpenSSL (libpq does, for PostgreSQL connections): whoever initialises first decides, and
/// libpq's default registers `OPENSSL_cleanup` at exit, which frees OpenSSL's state while pool
/// threads may still be connecting, a segfault as the process ends. Cheap after the first call.
pub fn init() {
    openssl::init();
}

/// `bytes` random bytes from the OS, base64url without padding.
/// Use at least 16 bytes for anything that must not be guessed (32 is the norm here).
pub fn random_token(bytes: usize) -> String {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; bytes]);
    rand::rngs::OsRng.fill_bytes(&mut buf);
    b64(&buf)
}

/// SHA-256 of `data`, base64url without padding (e.g. to store a hash of a token, not the token).
pub fn sha256_b64(data: &[u8]) -> String {
    b64(&Sha256::digest(data))
}

/// Compares two byte strings in time independent of their contents (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Base64url without padding: the only encoding JOSE uses.
pub(crate) fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Strict base64url decoding: no padding, no stray bits, no other alphabet,
/// so every value has exactly one encoding.
pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}
