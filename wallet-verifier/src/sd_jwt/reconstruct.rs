//! Rebuilding the disclosed claims from the issuer-signed payload and the disclosures
//! (RFC 9901 7.1 steps 3 to 5): every disclosure must be referenced exactly once, every
//! digest may appear only once, and a disclosed name may not overwrite a claim.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::disclosure::Disclosure;
use super::issue::REGISTERED_CLAIMS;
use super::refusal::echo;
use super::Refusal;

/// Replaces digests by their disclosures throughout `payload`; drops decoys, `_sd` and the
/// top-level `_sd_alg`. Disclosures arrive decoded, in presentation order.
pub(crate) fn reconstruct(
    payload: Map<String, Value>,
    disclosures: Vec<Disclosure>,
) -> Result<Map<String, Value>, Refusal> {
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    for d in disclosures {
        let digest = d.digest.clone();
        if by_digest.insert(digest, d).is_some() {
            return Err(Refusal::DuplicateDisclosure);
        }
    }
    let mut state = State {
        unused: by_digest,
        seen: HashSet::new(),
    };
    let mut claims = state.object(payload, true)?;
    if !state.unused.is_empty() {
        return Err(Refusal::UnknownDisclosure);
    }
    claims.remove("_sd_alg");
    Ok(claims)
}

struct State {
    /// Disclosures not referenced yet, by digest.
    unused: HashMap<String, Disclosure>,
    /// Every digest met so far, decoy or not.
    seen: HashSet<String>,
}

impl State {
    fn object(
        &mut self,
        mut map: Map<String, Value>,
        top: bool,
    ) -> Result<Map<String, Value>, Refusal> {
        let digests = match map.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(Refusal::InvalidClaim("_sd")),
        };
        let mut out = Map::with_capacity(map.len() + digests.len());
        for (name, value) in map {
            let value = self.value(value)?;
            out.insert(name, value);
        }
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(Refusal::InvalidClaim("_sd"));
            };
            let Some(disclosure) = self.take(digest)? else {
                continue; // a decoy
            };
            let Some(name) = disclosure.name else {
                return Err(Refusal::BadDisclosure(
                    "an array element disclosure is referenced from _sd",
                ));
            };
            if top && REGISTERED_CLAIMS.contains(&name.as_str()) {
                return Err(Refusal::ReservedClaimDisclosed(echo(&name)));
            }
            if out.contains_key(&name) {
                return Err(Refusal::ClaimCollision(echo(&name)));
            }
            let value = self.value(disclosure.value)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    fn array(&mut self, items: Vec<Value>) -> Result<Vec<Value>, Refusal> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match array_digest(&item) {
                Some(digest) => {
                    let digest = digest.to_string();
                    let Some(disclosure) = self.take(digest)? else {
                        continue; // a decoy element
                    };
                    if disclosure.name.is_some() {
                        return Err(Refusal::BadDisclosure(
                            "an object property disclosure is referenced from an array",
                        ));
                    }
                    out.push(self.value(disclosure.value)?);
                }
                None => out.push(self.value(item)?),
            }
        }
        Ok(out)
    }

    fn value(&mut self, value: Value) -> Result<Value, Refusal> {
        Ok(match value {
            Value::Object(map) => Value::Object(self.object(map, false)?),
            Value::Array(items) => Value::Array(self.array(items)?),
            other => other,
        })
    }

    /// The disclosure for `digest`, if any; a digest met twice is refused.
    fn take(&mut self, digest: String) -> Result<Option<Disclosure>, Refusal> {
        let disclosure = self.unused.remove(&digest);
        if !self.seen.insert(digest) {
            return Err(Refusal::DuplicateDigest);
        }
        Ok(disclosure)
    }
}

/// `{"...": "<digest>"}`, the only shape of an array element digest.
fn array_digest(item: &Value) -> Option<&str> {
    match item {
        Value::Object(map) if map.len() == 1 => map.get("...")?.as_str(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::disclosure::decode;
    use super::super::json::b64;
    use super::*;

    fn disclosure(v: Value) -> (String, Disclosure) {
        let encoded = b64(v.to_string().as_bytes());
        let d = decode(&encoded).expect("well-formed test disclosure");
        (d.digest.clone(), d)
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn nested_objects_and_arrays() {
        let (d_city, city) = disclosure(json!(["s1", "city", "杭州"]));
        let (d_addr, addr) =
            disclosure(json!(["s2", "address", {"_sd": [d_city], "country": "CN"}]));
        let (d_el, el) = disclosure(json!(["s3", "汉"]));
        let payload = obj(json!({
            "iss": "x", "_sd_alg": "sha-256",
            "_sd": [d_addr, "decoy-digest"],
            "nationalities": [{"...": d_el}, {"...": "decoy"}, "plain"],
        }));
        let claims = reconstruct(payload, vec![city, addr, el]).expect("valid");
        assert_eq!(
            Value::Object(claims),
            json!({"iss": "x", "address": {"country": "CN", "city": "杭州"}, "nationalities": ["汉", "plain"]})
        );
    }

    #[test]
    fn refusals() {
        let (d, a) = disclosure(json!(["s", "name", "v"]));
        let (_, a2) = disclosure(json!(["s", "name", "v"]));
        let (_, stray) = disclosure(json!(["t", "other", "v"]));
        let p = || obj(json!({"_sd": [d]}));
        assert_eq!(
            reconstruct(p(), vec![a, a2]).err(),
            Some(Refusal::DuplicateDisclosure)
        );
        let (_, a) = disclosure(json!(["s", "name", "v"]));
        assert_eq!(
            reconstruct(p(), vec![a, stray]).err(),
            Some(Refusal::UnknownDisclosure)
        );
        let (_, a) = disclosure(json!(["s", "name", "v"]));
        let twice = obj(json!({"_sd": [d], "x": {"_sd": [d]}}));
        assert_eq!(
            reconstruct(twice, vec![a]).err(),
            Some(Refusal::DuplicateDigest)
        );
        let (_, a) = disclosure(json!(["s", "name", "v"]));
        let clash = obj(json!({"_sd": [d], "name": "plain"}));
        assert_eq!(
            reconstruct(clash, vec![a]).err(),
            Some(Refusal::ClaimCollision("name".into()))
        );
        let (de, e) = disclosure(json!(["s", "exp", 1]));
        assert_eq!(
            reconstruct(obj(json!({"_sd": [de]})), vec![e]).err(),
            Some(Refusal::ReservedClaimDisclosed("exp".into()))
        );
        let (de, e) = disclosure(json!(["s", "v"]));
        assert!(matches!(
            reconstruct(obj(json!({"_sd": [de]})), vec![e]),
            Err(Refusal::BadDisclosure(_))
        ));
        assert_eq!(
            reconstruct(obj(json!({"_sd": "x"})), vec![]).err(),
            Some(Refusal::InvalidClaim("_sd"))
        );
    }
}
