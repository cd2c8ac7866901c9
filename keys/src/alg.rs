//! The signature algorithms we sign and verify with. Deliberately tiny: any
//! other `alg` value (including "none" and the HMAC family) cannot even be named.

use std::fmt;
use std::str::FromStr;

use crate::KeyError;

/// A JWS algorithm we accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Alg {
    /// ECDSA on P-256 with SHA-256 (our default: small, fast).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (mandatory to implement for OIDC).
    RS256,
}

impl Alg {
    /// The JOSE name, e.g. `"ES256"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::RS256 => "RS256",
        }
    }

    /// The JWK `kty` of keys for this algorithm.
    pub fn kty(&self) -> &'static str {
        match self {
            Alg::ES256 => "EC",
            Alg::RS256 => "RSA",
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Alg {
    type Err = KeyError;

    /// Exact, case-sensitive match (JOSE names are case-sensitive): "es256" is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(Alg::ES256),
            "RS256" => Ok(Alg::RS256),
            _ => Err(KeyError::InvalidKey(
                "unsupported algorithm (expected ES256 or RS256)".into(),
            )),
        }
    }
}
