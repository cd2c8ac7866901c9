//! The wallet's side: choose what to reveal, then prove possession of the holder key with a
//! key binding JWT tied to the verifier's nonce and audience.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::compact::{self, Compact};
use super::disclosure::{self, Disclosure};
use super::json::{b64, decode_object};
use super::{SdJwtError, KB_JWT_TYP};

/// Keeps the disclosures of the top-level claims named in `disclose` (and any nested
/// disclosures inside them), drops the rest, and appends a KB-JWT.
pub fn present(
    issued: &str,
    disclose: &[&str],
    holder: &keys::SigningKey,
    aud: &str,
    nonce: &str,
    iat: i64,
) -> Result<String, SdJwtError> {
    let parsed = Parsed::new(issued)?;
    let mut keep = vec![false; parsed.disclosures.len()];
    for name in disclose {
        let i = parsed
            .top_level()
            .find(|(_, d)| d.name.as_deref() == Some(*name))
            .map(|(i, _)| i)
            .ok_or_else(|| SdJwtError::NotInCredential((*name).to_string()))?;
        keep[i] = true;
    }
    // A revealed claim brings its nested disclosures along, until nothing new is referenced.
    loop {
        let mut referenced = HashSet::new();
        for (i, d) in parsed.disclosures.iter().enumerate() {
            if keep[i] {
                collect_digests(&d.value, &mut referenced);
            }
        }
        let mut grew = false;
        for (i, d) in parsed.disclosures.iter().enumerate() {
            if !keep[i] && referenced.contains(d.digest.as_str()) {
                keep[i] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let mut kept = String::with_capacity(issued.len());
    kept.push_str(parsed.compact.jwt);
    kept.push('~');
    for (i, encoded) in parsed.compact.disclosures.iter().enumerate() {
        if keep[i] {
            kept.push_str(encoded);
            kept.push('~');
        }
    }
    key_binding(&kept, holder, aud, nonce, iat)
}

/// Appends a KB-JWT (`typ` kb+jwt; `iat`, `aud`, `nonce`, `sd_hash`) to an SD-JWT that ends
/// with `~`: the holder's proof that it holds `cnf.jwk`, for this verifier, now.
pub fn key_binding(
    sd_jwt: &str,
    holder: &keys::SigningKey,
    aud: &str,
    nonce: &str,
    iat: i64,
) -> Result<String, SdJwtError> {
    if !sd_jwt.ends_with('~') {
        return Err(SdJwtError::Invalid(
            "an SD-JWT to bind must end with '~' and carry no KB-JWT",
        ));
    }
    let mut claims = Map::new();
    claims.insert("iat".into(), iat.into());
    claims.insert("aud".into(), aud.into());
    claims.insert("nonce".into(), nonce.into());
    claims.insert("sd_hash".into(), sd_hash(sd_jwt).into());
    let kb = holder.sign_jwt_with_header(KB_JWT_TYP, &Map::new(), &claims)?;
    Ok(format!("{sd_jwt}{kb}"))
}

/// The top-level claim names a credential can disclose, for the wallet's screen.
/// Nothing is verified here: the wallet reads its own credential.
pub fn disclosed_names(issued: &str) -> Vec<String> {
    match Parsed::new(issued) {
        Ok(parsed) => parsed
            .top_level()
            .filter_map(|(_, d)| d.name.clone())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `base64url(SHA-256(<JWT>~<disclosures>~))`.
pub(crate) fn sd_hash(hashed: &str) -> String {
    b64(&<sha2::Sha256 as sha2::Digest>::digest(hashed.as_bytes()))
}

/// An issued credential, decoded without verification.
struct Parsed<'a> {
    compact: Compact<'a>,
    disclosures: Vec<Disclosure>,
    top_digests: HashSet<String>,
}

impl<'a> Parsed<'a> {
    fn new(issued: &'a str) -> Result<Parsed<'a>, SdJwtError> {
        let compact = compact::split(issued).ok_or(SdJwtError::Invalid("not an SD-JWT"))?;
        if !compact.key_binding.is_empty() {
            return Err(SdJwtError::Invalid("the credential already has a KB-JWT"));
        }
        let payload = compact
            .jwt
            .split('.')
            .nth(1)
            .and_then(decode_object)
            .ok_or(SdJwtError::Invalid("the issuer-signed JWT is malformed"))?;
        let top_digests = match payload.get("_sd") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect(),
            _ => HashSet::new(),
        };
        let disclosures = compact
            .disclosures
            .iter()
            .map(|d| disclosure::decode(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SdJwtError::Invalid("the credential holds a malformed disclosure"))?;
        Ok(Parsed {
            compact,
            disclosures,
            top_digests,
        })
    }

    /// Object-property disclosures referenced from the top-level `_sd`.
    fn top_level(&self) -> impl Iterator<Item = (usize, &Disclosure)> {
        self.disclosures
            .iter()
            .enumerate()
            .filter(|(_, d)| d.name.is_some() && self.top_digests.contains(&d.digest))
    }
}

/// Every digest referenced inside `value`: `_sd` entries and `{"...": digest}` elements.
fn collect_digests<'v>(value: &'v Value, out: &mut HashSet<&'v str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(sd)) = map.get("_sd") {
                out.extend(sd.iter().filter_map(Value::as_str));
            }
            if map.len() == 1 {
                if let Some(Value::String(d)) = map.get("...") {
                    out.insert(d);
                }
            }
            map.values().for_each(|v| collect_digests(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_digests(v, out)),
        _ => {}
    }
}
