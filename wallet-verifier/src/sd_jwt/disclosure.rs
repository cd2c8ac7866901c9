//! Disclosures (RFC 9901 4.2): base64url of the JSON array `[salt, name, value]` for an
//! object property or `[salt, value]` for an array element. The issuer-signed JWT carries
//! only `base64url(SHA-256(disclosure as sent))`.

use serde_json::Value;

use super::json::{b64, b64_decode, parse_value};
use super::Refusal;

/// The only hash we issue and accept (`_sd_alg`).
pub const SD_ALG: &str = "sha-256";

/// Names a disclosure may never carry: they are the syntax of SD-JWT itself.
const SYNTAX_NAMES: &[&str] = &["_sd", "..."];

/// A decoded disclosure.
pub(crate) struct Disclosure {
    pub digest: String,
    /// `Some` for an object property, `None` for an array element.
    pub name: Option<String>,
    pub value: Value,
}

/// The digest that stands for `encoded` in `_sd` or `{"...": digest}`.
pub(crate) fn digest(encoded: &str) -> String {
    keys::sha256_b64(encoded.as_bytes())
}

/// A new object-property disclosure with a fresh 128-bit salt: (encoded, digest).
pub(crate) fn new_property(name: &str, value: &Value) -> (String, String) {
    let json = Value::Array(vec![
        keys::random_token(16).into(),
        name.into(),
        value.clone(),
    ]);
    let encoded = b64(json.to_string().as_bytes());
    let digest = digest(&encoded);
    (encoded, digest)
}

/// A digest of nothing, indistinguishable from a real one (RFC 9901 4.2.5).
pub(crate) fn decoy_digest() -> String {
    digest(&keys::random_token(16))
}

/// Decodes and checks the shape of one disclosure.
pub(crate) fn decode(encoded: &str) -> Result<Disclosure, Refusal> {
    let bytes = b64_decode(encoded).ok_or(Refusal::BadDisclosure("not base64url"))?;
    let Some(Value::Array(mut parts)) = parse_value(&bytes) else {
        return Err(Refusal::BadDisclosure("not a JSON array"));
    };
    if !matches!(parts.first(), Some(Value::String(_))) {
        return Err(Refusal::BadDisclosure("the salt is not a string"));
    }
    let (name, value) = match parts.len() {
        3 => {
            let value = parts.pop().unwrap_or(Value::Null);
            let Some(Value::String(name)) = parts.pop() else {
                return Err(Refusal::BadDisclosure("the claim name is not a string"));
            };
            if SYNTAX_NAMES.contains(&name.as_str()) {
                return Err(Refusal::BadDisclosure("the claim name is _sd or ..."));
            }
            (Some(name), value)
        }
        2 => (None, parts.pop().unwrap_or(Value::Null)),
        _ => return Err(Refusal::BadDisclosure("not an array of 2 or 3 elements")),
    };
    Ok(Disclosure {
        digest: digest(encoded),
        name,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_digest() {
        let (encoded, d) = new_property("姓名", &Value::from("张三"));
        let back = decode(&encoded).expect("our own disclosure decodes");
        assert_eq!(back.name.as_deref(), Some("姓名"));
        assert_eq!(back.value, "张三");
        assert_eq!(back.digest, d);
        assert_eq!(d.len(), 43);
        assert_eq!(decoy_digest().len(), 43);
    }

    #[test]
    fn rfc9901_example_digest() {
        // RFC 9901 section 5.1: the disclosure of "given_name": "John".
        let encoded = "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd";
        assert_eq!(
            decode(encoded).expect("RFC example").digest,
            "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"
        );
    }

    #[test]
    fn bad_shapes_are_refused() {
        let enc = |v: Value| b64(v.to_string().as_bytes());
        for bad in [
            enc(serde_json::json!(["s", "_sd", 1])),
            enc(serde_json::json!(["s", "...", 1])),
            enc(serde_json::json!([1, "a", 1])),
            enc(serde_json::json!(["s", 2, 1])),
            enc(serde_json::json!(["s"])),
            enc(serde_json::json!(["s", "a", 1, 2])),
            enc(serde_json::json!({"a": 1})),
            "not base64!".into(),
        ] {
            assert!(
                matches!(decode(&bad), Err(Refusal::BadDisclosure(_))),
                "{bad}"
            );
        }
        // An array-element disclosure has no name.
        let el = decode(&enc(serde_json::json!(["s", "v"]))).expect("array element");
        assert!(el.name.is_none());
    }
}
