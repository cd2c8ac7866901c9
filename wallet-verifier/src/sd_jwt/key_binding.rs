//! The KB-JWT (RFC 9901 4.3): proof that whoever presents the credential holds the key in
//! its `cnf.jwk`, made for this verifier (`aud`), this request (`nonce`), just now (`iat`),
//! over exactly these disclosures (`sd_hash`).

use serde_json::{Map, Value};

use super::claims::{required_date, string, CLOCK_SKEW};
use super::es256::P256Key;
use super::jws::Jws;
use super::present::sd_hash;
use super::refusal::echo;
use super::{Expect, Refusal, KB_JWT_TYP};

/// A KB-JWT names no key: the holder key comes from the credential.
const FORBIDDEN_KB_HEADERS: &[&str] = &["jku", "x5u", "jwk", "x5c", "crit"];

/// Checks `kb` against the holder key and `hashed` (`<JWT>~<disclosures>~` as presented).
pub(crate) fn check(
    kb: &str,
    hashed: &str,
    holder: &HolderKey,
    expect: &Expect<'_>,
) -> Result<(), Refusal> {
    let jws = Jws::parse(kb)?;
    let alg = jws.alg()?;
    let alg: keys::Alg = alg
        .parse()
        .map_err(|_| Refusal::UnsupportedAlg(echo(alg)))?;
    jws.require_typ(KB_JWT_TYP)?;
    jws.forbid(FORBIDDEN_KB_HEADERS)?;
    if !holder.verify(alg, jws.signing_input.as_bytes(), &jws.signature) {
        return Err(Refusal::WrongHolderKey);
    }
    let claims = jws.payload()?;

    match string(&claims, "nonce")? {
        None | Some("") => return Err(Refusal::MissingNonce),
        Some(nonce) if nonce != expect.nonce => return Err(Refusal::WrongNonce),
        Some(_) => {}
    }
    match claims.get("aud").and_then(|a| a.as_str()) {
        Some(aud) if aud == expect.audience => {}
        _ => return Err(Refusal::WrongAudience),
    }
    let iat = required_date(&claims, "iat")?;
    let now = expect.now;
    if iat < now - expect.max_age_secs {
        return Err(Refusal::StaleKeyBinding {
            iat,
            max_age: expect.max_age_secs,
            now,
        });
    }
    if iat > now + CLOCK_SKEW {
        return Err(Refusal::KeyBindingInFuture { iat, now });
    }
    match string(&claims, "sd_hash")? {
        Some(h) if h == sd_hash(hashed) => Ok(()),
        _ => Err(Refusal::SdHashMismatch),
    }
}

/// The credential's `cnf.jwk`: the only key a KB-JWT may be signed with.
pub(crate) struct HolderKey {
    key: Key,
    thumbprint: String,
}

enum Key {
    /// Wallet device keys: verified with ring, no per-key setup.
    Es256(P256Key),
    Rs256(keys::VerifyingKey),
}

impl HolderKey {
    /// From `cnf.jwk` of a verified payload; private members are refused.
    pub fn from_cnf(payload: &Map<String, Value>) -> Result<HolderKey, Refusal> {
        let cnf = payload.get("cnf").ok_or(Refusal::MissingClaim("cnf"))?;
        let Some(Value::Object(jwk)) = cnf.get("jwk") else {
            return Err(Refusal::BadHolderKey);
        };
        let alg = jwk.get("alg").and_then(Value::as_str);
        let key = match (jwk.get("kty").and_then(Value::as_str), alg) {
            (Some("EC"), None | Some("ES256")) => {
                Key::Es256(P256Key::from_jwk(jwk).ok_or(Refusal::BadHolderKey)?)
            }
            (Some("RSA"), None | Some("RS256")) => {
                Key::Rs256(keys::VerifyingKey::from_jwk(jwk).map_err(|_| Refusal::BadHolderKey)?)
            }
            _ => return Err(Refusal::BadHolderKey),
        };
        let thumbprint = keys::jwk_thumbprint(jwk).map_err(|_| Refusal::BadHolderKey)?;
        Ok(HolderKey { key, thumbprint })
    }

    /// RFC 7638 thumbprint.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A signature by this key with `alg`, which must be the key's own.
    fn verify(&self, alg: keys::Alg, signing_input: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (Key::Es256(k), keys::Alg::ES256) => k.verify(signing_input, signature),
            (Key::Rs256(k), keys::Alg::RS256) => k.verify_signature(signing_input, signature),
            _ => false,
        }
    }
}
