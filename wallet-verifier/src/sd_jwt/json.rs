//! JSON and base64url as the verifier reads them: strict, so a token has one meaning only.
//! Duplicate object members are refused at every depth (two `_sd` or two `alg` members
//! could be read differently by another parser).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Base64url without padding.
pub(crate) fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Strict base64url: no padding, no other alphabet, no stray bits.
pub(crate) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Any JSON value, refusing duplicate members anywhere inside.
pub(crate) fn parse_value(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Strict>(bytes).ok().map(|s| s.0)
}

/// A JSON object, refusing duplicate members anywhere inside.
pub(crate) fn parse_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match parse_value(bytes)? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// base64url segment -> strict JSON object.
pub(crate) fn decode_object(segment: &str) -> Option<Map<String, Value>> {
    parse_object(&b64_decode(segment)?)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON without duplicate object members")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Strict, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom("duplicate member"));
            }
            let Strict(v) = access.next_value()?;
            map.insert(key, v);
        }
        Ok(Strict(Value::Object(map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_at_any_depth() {
        assert!(parse_value(br#"{"a":1,"a":2}"#).is_none());
        assert!(parse_value(br#"{"a":{"b":1,"b":1}}"#).is_none());
        assert!(parse_value(br#"[{"_sd":[],"_sd":[]}]"#).is_none());
        let v = parse_value(br#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#);
        assert_eq!(
            v,
            Some(serde_json::json!({"a":[1,-2,3.5,"x",null,true,{"b":{}}]}))
        );
        assert!(parse_object(b"[1]").is_none());
        assert!(parse_object(b"{} trailing").is_none());
    }

    #[test]
    fn base64url_is_strict() {
        assert_eq!(b64_decode("YQ"), Some(b"a".to_vec()));
        assert!(b64_decode("YQ==").is_none());
        assert!(b64_decode("Y+").is_none());
    }
}
