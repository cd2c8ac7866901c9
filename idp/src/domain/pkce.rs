//! PKCE (RFC 7636), S256 only: `plain` gives no protection against a stolen code (RFC 9700 2.1.1).
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    #[error("code_challenge_method is required (S256); without it RFC 7636 means plain")]
    MissingMethod,
    #[error("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    MalformedChallenge,
    #[error("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")]
    MalformedVerifier,
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Validates the challenge half of an authorization request.
pub fn check_challenge(challenge: &str, method: Option<&str>) -> Result<(), PkceError> {
    match method {
        // RFC 7636 4.3: no method means `plain`, which we refuse; we do not guess S256.
        Some("S256") => {}
        Some(_) => return Err(PkceError::UnsupportedMethod),
        None => return Err(PkceError::MissingMethod),
    }
    if is_pkce_string(challenge) {
        Ok(())
    } else {
        Err(PkceError::MalformedChallenge)
    }
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn verify(challenge: &str, verifier: &str) -> Result<(), PkceError> {
    if !is_pkce_string(verifier) {
        return Err(PkceError::MalformedVerifier);
    }
    if keys::constant_time_eq(s256(verifier).as_bytes(), challenge.as_bytes()) {
        Ok(())
    } else {
        Err(PkceError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", verifier),
            Ok(())
        );
    }

    #[test]
    fn plain_and_mismatch_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(
            check_challenge(c, Some("plain")),
            Err(PkceError::UnsupportedMethod)
        );
        assert_eq!(
            check_challenge("short", Some("S256")),
            Err(PkceError::MalformedChallenge)
        );
        assert_eq!(check_challenge(c, None), Err(PkceError::MissingMethod));
        assert_eq!(verify(c, &"a".repeat(43)), Err(PkceError::Mismatch));
        assert_eq!(verify(c, "short"), Err(PkceError::MalformedVerifier));
    }
}
