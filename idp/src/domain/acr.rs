//! Authentication context classes and methods (OIDC Core 2, RFC 8176).

/// Password alone: a single factor the citizen knows.
pub const ACR_PASSWORD: &str = "urn:cn:gov:idp:loa:2";
/// A phishing-resistant authenticator with user verification (passkey, government app).
pub const ACR_STRONG: &str = "urn:cn:gov:idp:loa:3";

pub const SUPPORTED: &[&str] = &[ACR_PASSWORD, ACR_STRONG];

/// Rank of an acr value, for comparing what was asked with what the session has.
pub fn level(acr: &str) -> u8 {
    match acr {
        ACR_STRONG => 3,
        ACR_PASSWORD => 2,
        _ => 0,
    }
}
