//! Public keys that verify JWS signatures: ours (from a `SigningKey`) or a
//! client's (from its JWKS). The josekit verifier is built once here and
//! shared (`Arc`), so verifying never re-parses a key.

use std::fmt;
use std::sync::Arc;

use josekit::jwk::Jwk;
use josekit::jws::{JwsVerifier, ES256, RS256};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::{b64, b64_decode, Alg, KeyError};

/// Largest RSA modulus we accept from a client (bits); bigger keys only cost CPU.
const MAX_RSA_BITS: usize = 8192;

/// JWK members that only a private key has. A JWK carrying any of them is refused:
/// someone published their private key, and we must not store or echo it.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A public key able to verify JWS. Cheap to clone.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: Arc<Inner>,
}

struct Inner {
    alg: Alg,
    kid: Option<String>,
    thumbprint: String,
    /// Public members only, plus kid/alg/use, as published in a JWKS.
    jwk: Map<String, Value>,
    verifier: Box<dyn JwsVerifier>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.inner.kid)
            .field("alg", &self.inner.alg)
            .field("thumbprint", &self.inner.thumbprint)
            .finish()
    }
}

impl VerifyingKey {
    /// Builds a verifier from a public JWK: EC P-256 (ES256) or RSA >= 2048 bits
    /// (RS256). `alg` comes from the JWK's "alg" member or, if absent, from its
    /// kty; "use", if present, must be "sig". Private members are refused.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Result<VerifyingKey, KeyError> {
        let invalid = |m: &str| KeyError::InvalidKey(m.to_string());
        if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
            return Err(KeyError::InvalidKey(format!(
                "JWK contains private key member {m:?}"
            )));
        }
        let kty = str_member(jwk, "kty")?.ok_or_else(|| invalid("JWK has no kty"))?;
        let alg = match (kty, str_member(jwk, "alg")?) {
            ("EC", None | Some("ES256")) => Alg::ES256,
            ("RSA", None | Some("RS256")) => Alg::RS256,
            ("EC" | "RSA", Some(_)) => return Err(invalid("unsupported JWK alg")),
            _ => return Err(invalid("unsupported JWK kty")),
        };
        match str_member(jwk, "use")? {
            None | Some("sig") => {}
            Some(_) => return Err(invalid("JWK use is not sig")),
        }
        if let Some(ops) = jwk.get("key_ops") {
            let ok = ops
                .as_array()
                .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")));
            if !ok {
                return Err(invalid("JWK key_ops does not allow verify"));
            }
        }
        let kid = str_member(jwk, "kid")?.map(str::to_string);

        // Keep only the members that define the key, in a fresh map: nothing
        // else from the input reaches josekit or our published JWKS.
        let mut public = Map::new();
        public.insert("kty".into(), kty.into());
        match alg {
            Alg::ES256 => {
                if str_member(jwk, "crv")? != Some("P-256") {
                    return Err(invalid("EC JWK must use crv P-256"));
                }
                for c in ["x", "y"] {
                    let v = str_member(jwk, c)?.ok_or_else(|| invalid("EC JWK lacks x or y"))?;
                    if b64_decode(v).map(|b| b.len()) != Some(32) {
                        return Err(invalid("EC JWK x/y must be 32 bytes base64url"));
                    }
                    public.insert(c.into(), v.into());
                }
                public.insert("crv".into(), "P-256".into());
            }
            Alg::RS256 => {
                let n = str_member(jwk, "n")?.ok_or_else(|| invalid("RSA JWK lacks n"))?;
                let e = str_member(jwk, "e")?.ok_or_else(|| invalid("RSA JWK lacks e"))?;
                let n_bytes = b64_decode(n).ok_or_else(|| invalid("RSA JWK n is not base64url"))?;
                if b64_decode(e).is_none_or(|e| e.is_empty() || e.len() > 8) {
                    return Err(invalid("RSA JWK e is not a valid exponent"));
                }
                let significant = n_bytes.iter().skip_while(|b| **b == 0).count();
                if significant * 8 > MAX_RSA_BITS {
                    return Err(invalid("RSA key is too large"));
                }
                public.insert("n".into(), n.into());
                public.insert("e".into(), e.into());
            }
        }
        let thumbprint = jwk_thumbprint(&public)?;
        let josekit_jwk = Jwk::from_map(public.clone())?;
        // josekit checks the point is on the curve (via OpenSSL) and RSA >= 2048 bits.
        let verifier: Box<dyn JwsVerifier> = match alg {
            Alg::ES256 => Box::new(ES256.verifier_from_jwk(&josekit_jwk)?),
            Alg::RS256 => Box::new(RS256.verifier_from_jwk(&josekit_jwk)?),
        };
        if let Some(kid) = &kid {
            public.insert("kid".into(), kid.as_str().into());
        }
        public.insert("alg".into(), alg.as_str().into());
        public.insert("use".into(), "sig".into());
        Ok(VerifyingKey {
            inner: Arc::new(Inner {
                alg,
                kid,
                thumbprint,
                jwk: public,
                verifier,
            }),
        })
    }

    /// The JWK "kid", if it had one (ours always do: the thumbprint).
    pub fn kid(&self) -> Option<&str> {
        self.inner.kid.as_deref()
    }

    pub fn alg(&self) -> Alg {
        self.inner.alg
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url), whatever the kid says.
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// The public JWK: kty, crv/x/y or n/e, kid (if any), alg, use = "sig".
    pub fn public_jwk(&self) -> Map<String, Value> {
        self.inner.jwk.clone()
    }

    /// Checks a raw JWS signature (for ES256: the 64-byte r || s) over the
    /// signing input `base64url(header) "." base64url(payload)`.
    pub fn verify_signature(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        if self.inner.alg == Alg::ES256 {
            // r and s must be in [1, n-1]; OpenSSL checks too, but a zero half
            // is the classic forgery ("psychic signatures"), so refuse it here.
            if signature.len() != 64
                || signature[..32].iter().all(|b| *b == 0)
                || signature[32..].iter().all(|b| *b == 0)
            {
                return false;
            }
        }
        self.inner.verifier.verify(signing_input, signature).is_ok()
    }
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of an EC or
/// RSA public JWK: the hash of its required members, sorted, without spaces.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String, KeyError> {
    let member = |name: &str| -> Result<String, KeyError> {
        let v = str_member(jwk, name)?
            .ok_or_else(|| KeyError::InvalidKey(format!("JWK lacks {name}")))?;
        // JSON string encoding of the value (escapes, if any, as RFC 7638 asks).
        serde_json::to_string(v).map_err(|e| KeyError::InvalidKey(e.to_string()))
    };
    // Written out by hand: the member order is fixed by RFC 7638 and must not
    // depend on serde_json's map ordering features.
    let canonical = match str_member(jwk, "kty")? {
        Some("EC") => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            member("crv")?,
            member("x")?,
            member("y")?
        ),
        Some("RSA") => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            member("e")?,
            member("n")?
        ),
        _ => return Err(KeyError::InvalidKey("unsupported JWK kty".into())),
    };
    Ok(b64(&Sha256::digest(canonical.as_bytes())))
}

/// A member that must be a string if present.
fn str_member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::InvalidKey(format!("JWK {name} must be a string"))),
    }
}
