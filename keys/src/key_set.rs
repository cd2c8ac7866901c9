//! A set of verification keys: our published keys (active + retired), or a
//! client's JWKS for private_key_jwt.

use serde_json::{Map, Value};

use crate::{KeyError, VerifyingKey};

/// Verification keys, in order. Cheap to clone (keys are `Arc`s inside).
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    pub fn new(keys: Vec<VerifyingKey>) -> KeySet {
        KeySet { keys }
    }

    /// Parses `{"keys": [...]}`. Keys for other uses ("use" other than "sig",
    /// "key_ops" without "verify", an "alg" we do not verify) and of other
    /// types (oct, OKP, EC curves other than P-256) are skipped; a malformed key
    /// of a supported type, or one carrying private members, is an error.
    pub fn from_jwks(jwks: &Value) -> Result<KeySet, KeyError> {
        let list = jwks.get("keys").and_then(Value::as_array).ok_or_else(|| {
            KeyError::InvalidKey("JWKS must be an object with a keys array".into())
        })?;
        let mut keys = Vec::with_capacity(list.len());
        for entry in list {
            let jwk = entry
                .as_object()
                .ok_or_else(|| KeyError::InvalidKey("JWKS entry is not an object".into()))?;
            if is_supported_sig_key(jwk) {
                keys.push(VerifyingKey::from_jwk(jwk)?);
            }
        }
        Ok(KeySet { keys })
    }

    /// `{"keys": [...]}` with public members only.
    pub fn jwks(&self) -> Value {
        let keys = self
            .keys
            .iter()
            .map(|k| Value::Object(k.public_jwk()))
            .collect();
        let mut m = Map::new();
        m.insert("keys".into(), Value::Array(keys));
        Value::Object(m)
    }

    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }

    /// The keys whose kid is exactly `kid`.
    pub fn by_kid<'a>(&'a self, kid: &'a str) -> impl Iterator<Item = &'a VerifyingKey> + 'a {
        self.keys.iter().filter(move |k| k.kid() == Some(kid))
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// Whether a JWKS entry is meant for signatures of a kind we verify.
fn is_supported_sig_key(jwk: &Map<String, Value>) -> bool {
    let s = |name: &str| jwk.get(name).and_then(Value::as_str);
    let use_ok = jwk.get("use").is_none() || s("use") == Some("sig");
    let ops_ok = jwk.get("key_ops").is_none_or(|ops| {
        ops.as_array()
            .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")))
    });
    let type_ok = match s("kty") {
        Some("EC") => {
            s("crv") == Some("P-256") && (jwk.get("alg").is_none() || s("alg") == Some("ES256"))
        }
        Some("RSA") => jwk.get("alg").is_none() || s("alg") == Some("RS256"),
        _ => false,
    };
    use_ok && ops_ok && type_ok
}
