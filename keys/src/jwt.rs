//! Strict compact-JWS verification. We parse the header ourselves, before any
//! key is touched, so every attacker-chosen field is checked against our rules
//! (alg allow-list, no embedded or remote keys, no `crit`) rather than a
//! library's defaults.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::{b64, b64_decode, Alg, KeyError, KeySet, VerifyingKey};

/// Longest token we look at (bytes). Real ID tokens and client assertions are
/// far smaller; this bounds the work an attacker can ask of us.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Header members we refuse: we never fetch keys (jku, x5u) nor trust keys
/// sent with the token (jwk, x5c), and we understand no critical extensions.
const FORBIDDEN_HEADERS: &[&str] = &["jku", "x5u", "jwk", "x5c", "crit"];

/// A token whose signature checked out. Time, audience and issuer are the
/// caller's to check (see [`check_time`]).
pub struct VerifiedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl fmt::Debug for VerifiedJwt {
    /// Claim values may be personal data (e.g. an ID number): print names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedJwt")
            .field("header", &self.header)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Verifies a compact JWS against `keys`; see the crate docs for the rules.
pub fn verify_jwt(
    token: &str,
    keys: &KeySet,
    allowed: &[Alg],
    expected_typ: Option<&str>,
) -> Result<VerifiedJwt, KeyError> {
    let parts = split(token)?;
    let header = parse_object(parts.header)?;

    let alg = match header
        .get("alg")
        .and_then(Value::as_str)
        .map(str::parse::<Alg>)
    {
        Some(Ok(alg)) if allowed.contains(&alg) => alg,
        _ => return Err(KeyError::InvalidToken("unsupported alg")),
    };
    if FORBIDDEN_HEADERS.iter().any(|h| header.contains_key(*h)) {
        return Err(KeyError::InvalidToken("forbidden header parameter"));
    }
    if let Some(expected) = expected_typ {
        match header.get("typ").and_then(Value::as_str) {
            Some(typ) if typ_eq(typ, expected) => {}
            _ => return Err(KeyError::InvalidToken("wrong typ")),
        }
    }

    let signature = b64_decode(parts.signature).ok_or(KeyError::InvalidToken("malformed token"))?;
    let signing_input = &token.as_bytes()[..parts.header.len() + 1 + parts.payload.len()];

    let candidates: Vec<&VerifyingKey> = match header.get("kid") {
        Some(Value::String(kid)) => {
            let mut found = keys.by_kid(kid);
            let key = found.next().ok_or(KeyError::UnknownKey)?;
            if found.next().is_some() {
                return Err(KeyError::InvalidToken("ambiguous kid"));
            }
            if key.alg() != alg {
                return Err(KeyError::InvalidToken("alg does not match the key"));
            }
            vec![key]
        }
        Some(_) => return Err(KeyError::InvalidToken("kid is not a string")),
        None => keys.keys().iter().filter(|k| k.alg() == alg).collect(),
    };
    if candidates.is_empty() {
        return Err(KeyError::UnknownKey);
    }
    if !candidates
        .iter()
        .any(|k| k.verify_signature(signing_input, &signature))
    {
        return Err(KeyError::InvalidToken("bad signature"));
    }

    // Only now, with the signature verified, do we parse the payload.
    let claims = parse_object(parts.payload)?;
    Ok(VerifiedJwt { header, claims })
}

/// Verifies a compact JWS signed by the public key in its own `jwk` header, as a DPoP proof is
/// (RFC 9449 4.2): `typ` must be `expected_typ`, `alg` allowed and equal to the key's, the key
/// public (private members refused), and no other way of naming a key (`kid`, `jku`, `x5u`,
/// `x5c`) or `crit`. Returns the claims and the key; its RFC 7638 thumbprint is the binding.
pub fn verify_self_signed(
    token: &str,
    allowed: &[Alg],
    expected_typ: &str,
) -> Result<(VerifiedJwt, VerifyingKey), KeyError> {
    let parts = split(token)?;
    let header = parse_object(parts.header)?;
    let alg = match header
        .get("alg")
        .and_then(Value::as_str)
        .map(str::parse::<Alg>)
    {
        Some(Ok(alg)) if allowed.contains(&alg) => alg,
        _ => return Err(KeyError::InvalidToken("unsupported alg")),
    };
    if ["jku", "x5u", "x5c", "crit", "kid"]
        .iter()
        .any(|h| header.contains_key(*h))
    {
        return Err(KeyError::InvalidToken("forbidden header parameter"));
    }
    match header.get("typ").and_then(Value::as_str) {
        Some(typ) if typ_eq(typ, expected_typ) => {}
        _ => return Err(KeyError::InvalidToken("wrong typ")),
    }
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err(KeyError::InvalidToken("no jwk header"));
    };
    let key = VerifyingKey::from_jwk(jwk).map_err(|_| KeyError::InvalidToken("bad jwk"))?;
    if key.alg() != alg {
        return Err(KeyError::InvalidToken("alg does not match the key"));
    }
    let signature = b64_decode(parts.signature).ok_or(KeyError::InvalidToken("malformed token"))?;
    let signing_input = &token.as_bytes()[..parts.header.len() + 1 + parts.payload.len()];
    if !key.verify_signature(signing_input, &signature) {
        return Err(KeyError::InvalidToken("bad signature"));
    }
    let claims = parse_object(parts.payload)?;
    Ok((VerifiedJwt { header, claims }, key))
}

/// The header of a compact JWS, for routing (e.g. which client's keys to use).
/// Same size and format checks as [`verify_jwt`]; implies no trust.
pub fn peek_header(token: &str) -> Result<Map<String, Value>, KeyError> {
    parse_object(split(token)?.header)
}

/// Checks `exp` (required: now must be before exp + leeway), and that `nbf`
/// and `iat`, when present, are not in the future beyond `leeway_secs`.
pub fn check_time(
    claims: &Map<String, Value>,
    now_unix: i64,
    leeway_secs: i64,
) -> Result<(), KeyError> {
    let now = now_unix as f64;
    let leeway = leeway_secs.max(0) as f64;
    let exp = numeric(claims, "exp")?.ok_or(KeyError::InvalidToken("missing exp"))?;
    if now >= exp + leeway {
        return Err(KeyError::InvalidToken("expired"));
    }
    if let Some(nbf) = numeric(claims, "nbf")? {
        if now + leeway < nbf {
            return Err(KeyError::InvalidToken("not yet valid"));
        }
    }
    if let Some(iat) = numeric(claims, "iat")? {
        if iat > now + leeway {
            return Err(KeyError::InvalidToken("issued in the future"));
        }
    }
    Ok(())
}

/// base64url of the left half of SHA-256(value): `at_hash` / `c_hash` for
/// ES256 and RS256 (OIDC Core 3.1.3.6, 3.3.2.11).
pub fn half_hash(value: &str) -> String {
    b64(&Sha256::digest(value.as_bytes())[..16])
}

struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

fn split(token: &str) -> Result<Parts<'_>, KeyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(KeyError::InvalidToken("token too large"));
    }
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(header), Some(payload), Some(signature), None)
            if !header.is_empty() && !payload.is_empty() =>
        {
            Ok(Parts {
                header,
                payload,
                signature,
            })
        }
        _ => Err(KeyError::InvalidToken("malformed token")),
    }
}

/// base64url segment -> JSON object, refusing duplicate members (two "alg"s
/// could be read differently by different parsers).
fn parse_object(segment: &str) -> Result<Map<String, Value>, KeyError> {
    let bytes = b64_decode(segment).ok_or(KeyError::InvalidToken("malformed token"))?;
    serde_json::from_slice::<StrictObject>(&bytes)
        .map(|o| o.0)
        .map_err(|_| KeyError::InvalidToken("not a JSON object"))
}

struct StrictObject(Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<StrictObject, A::Error> {
                let mut m = Map::new();
                while let Some(k) = a.next_key::<String>()? {
                    if m.contains_key(&k) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    let v: Value = a.next_value()?;
                    m.insert(k, v);
                }
                Ok(StrictObject(m))
            }
        }
        d.deserialize_map(V)
    }
}

/// Media types compare case-insensitively, and "application/" may be omitted (RFC 7515 4.1.9).
fn typ_eq(got: &str, expected: &str) -> bool {
    fn norm(t: &str) -> String {
        let t = t.to_ascii_lowercase();
        match t.strip_prefix("application/") {
            Some(rest) => rest.to_string(),
            None => t,
        }
    }
    norm(got) == norm(expected)
}

/// A NumericDate claim: absent, or a finite JSON number.
fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, KeyError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(KeyError::InvalidToken("time claim is not a number")),
        },
    }
}
