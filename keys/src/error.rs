//! One error type for the crate. Messages are fixed strings or come from the
//! crypto libraries; none of them is ever built from key bytes.

/// Everything that can go wrong with keys, sealing and tokens.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The crypto library refused an operation (key generation, signing, parsing a key).
    #[error("crypto error: {0}")]
    Crypto(String),
    /// Unsealing failed: wrong KEK, tampered ciphertext, or a bad KEK file.
    #[error("key encryption key error: {0}")]
    Kek(String),
    /// Reading or writing the KEK file.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A JWK (ours or a client's) is malformed or of a kind we do not accept.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A JWS names a kid we do not have (or, without kid, we have no key for
    /// its alg). Distinct so callers can reload keys (another replica may have
    /// just rotated) or refetch a client's JWKS, then retry once.
    #[error("invalid token: unknown key")]
    UnknownKey,
    /// A JWS/JWT failed a check. The reason is a fixed string, safe to log.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
}

impl From<josekit::JoseError> for KeyError {
    fn from(e: josekit::JoseError) -> Self {
        KeyError::Crypto(e.to_string())
    }
}

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        KeyError::Crypto(e.to_string())
    }
}
