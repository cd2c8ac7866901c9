#![allow(clippy::unwrap_used)]
//! Public JWKs, thumbprints and key sets.

mod common;

use common::obj;
use keys::{jwk_thumbprint, Alg, KeyError, KeySet, SigningKey, VerifyingKey};
use serde_json::json;

const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

#[test]
fn rfc7638_example_thumbprint() {
    let jwk = obj(
        json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}),
    );
    let want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    assert_eq!(jwk_thumbprint(&jwk).unwrap(), want);
    let key = VerifyingKey::from_jwk(&jwk).unwrap();
    assert_eq!(key.thumbprint(), want);
    assert_eq!(key.kid(), Some("2011-04-29"));
    assert_eq!(key.alg(), Alg::RS256);
}

#[test]
fn from_jwk_round_trip() {
    for alg in [Alg::ES256, Alg::RS256] {
        let key = SigningKey::generate(alg).unwrap();
        let jwk = key.public_jwk();
        let v = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(v.public_jwk(), jwk);
        assert_eq!(v.kid(), Some(key.kid()));
        assert_eq!(v.alg(), alg);
        // Without kid/alg/use: alg inferred from kty, kid absent.
        let mut bare = jwk.clone();
        bare.remove("kid");
        bare.remove("alg");
        bare.remove("use");
        let v = VerifyingKey::from_jwk(&bare).unwrap();
        assert_eq!(v.alg(), alg);
        assert_eq!(v.kid(), None);
        assert_eq!(v.thumbprint(), key.kid());
        assert!(!v.public_jwk().contains_key("kid"));
    }
}

#[test]
fn from_jwk_drops_unknown_members() {
    let mut jwk = SigningKey::generate(Alg::ES256).unwrap().public_jwk();
    jwk.insert("x5u".into(), json!("https://evil.example/cert"));
    jwk.insert("note".into(), json!("hi"));
    let out = VerifyingKey::from_jwk(&jwk).unwrap().public_jwk();
    assert!(!out.contains_key("x5u") && !out.contains_key("note"));
}

#[test]
fn from_jwk_refuses_bad_keys() {
    let ec = SigningKey::generate(Alg::ES256).unwrap().public_jwk();
    let with = |k: &str, v: serde_json::Value| {
        let mut j = ec.clone();
        j.insert(k.into(), v);
        VerifyingKey::from_jwk(&j)
    };
    assert!(matches!(
        with("d", json!("AAAA")),
        Err(KeyError::InvalidKey(_))
    ));
    assert!(with("alg", json!("RS256")).is_err());
    assert!(with("alg", json!("ES384")).is_err());
    assert!(with("alg", json!("none")).is_err());
    assert!(with("use", json!("enc")).is_err());
    assert!(with("crv", json!("P-384")).is_err());
    assert!(with("key_ops", json!(["sign"])).is_err());
    assert!(with("key_ops", json!(["verify"])).is_ok());
    assert!(with("kid", json!(5)).is_err());
    assert!(with("x", json!("AAAA")).is_err());
    // A point that is not on the curve.
    assert!(with("x", json!(common::b64(&[1u8; 32]))).is_err());
    assert!(VerifyingKey::from_jwk(&obj(json!({"kty": "oct", "k": "AAAA"}))).is_err());
    assert!(
        VerifyingKey::from_jwk(&obj(json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}))).is_err()
    );
    // RSA below 2048 bits.
    let small = obj(json!({"kty": "RSA", "n": common::b64(&[0xc5; 128]), "e": "AQAB"}));
    assert!(VerifyingKey::from_jwk(&small).is_err());
}

#[test]
fn key_set_from_jwks_skips_what_it_cannot_use() {
    let es = SigningKey::generate(Alg::ES256).unwrap();
    let rs = SigningKey::generate(Alg::RS256).unwrap();
    let mut enc = rs.public_jwk();
    enc.insert("use".into(), json!("enc"));
    let mut oaep = rs.public_jwk();
    oaep.remove("use");
    oaep.insert("alg".into(), json!("RSA-OAEP"));
    let mut p384 = es.public_jwk();
    p384.insert("crv".into(), json!("P-384"));
    let jwks = json!({"keys": [
        es.public_jwk(), rs.public_jwk(), enc, oaep, p384,
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
    ]});
    let set = KeySet::from_jwks(&jwks).unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(set.keys()[0].kid(), Some(es.kid()));
    assert_eq!(set.keys()[1].kid(), Some(rs.kid()));
    // jwks() publishes exactly those two, public members only.
    let out = set.jwks();
    assert_eq!(out["keys"].as_array().unwrap().len(), 2);
    assert_eq!(out["keys"][0], serde_json::Value::Object(es.public_jwk()));
    assert_eq!(KeySet::from_jwks(&out).unwrap().len(), 2);
}

#[test]
fn key_set_from_jwks_refuses_malformed() {
    assert!(KeySet::from_jwks(&json!([])).is_err());
    assert!(KeySet::from_jwks(&json!({"keys": "x"})).is_err());
    assert!(KeySet::from_jwks(&json!({"keys": [1]})).is_err());
    let mut private = SigningKey::generate(Alg::ES256).unwrap().public_jwk();
    private.insert("d".into(), json!("AAAA"));
    assert!(KeySet::from_jwks(&json!({"keys": [private]})).is_err());
    assert!(KeySet::from_jwks(&json!({"keys": []})).unwrap().is_empty());
}
