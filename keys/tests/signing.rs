#![allow(clippy::unwrap_used)]
//! Signing keys: generation, kid, JWK, sealing, redaction.

mod common;

use common::{b64, hex, obj, private_der};
use keys::{jwk_thumbprint, verify_jwt, Alg, Kek, KeyError, KeySet, SigningKey};
use serde_json::json;

fn claims() -> serde_json::Map<String, serde_json::Value> {
    obj(json!({"iss": "https://idp.example", "sub": "u1", "exp": 2_000_000_000}))
}

#[test]
fn es256_and_rs256_sign_and_verify() {
    for alg in [Alg::ES256, Alg::RS256] {
        let key = SigningKey::generate(alg).unwrap();
        let token = key.sign_jwt("JWT", &claims()).unwrap();
        let set = KeySet::new(vec![key.verifier()]);
        let v = verify_jwt(&token, &set, &[alg], Some("JWT")).unwrap();
        assert_eq!(v.claims, claims());
        assert_eq!(v.header["alg"], alg.as_str());
        assert_eq!(v.header["kid"], key.kid());
        assert_eq!(v.header["typ"], "JWT");
        assert_eq!(v.header.len(), 3);
        // Not accepted when the caller does not allow this alg.
        let other = if alg == Alg::ES256 {
            Alg::RS256
        } else {
            Alg::ES256
        };
        assert!(verify_jwt(&token, &set, &[other], None).is_err());
    }
}

#[test]
fn empty_typ_is_omitted() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let token = key.sign_jwt("", &claims()).unwrap();
    let header = keys::peek_header(&token).unwrap();
    assert!(!header.contains_key("typ"));
}

#[test]
fn kid_is_rfc7638_thumbprint_and_jwk_is_public() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let jwk = key.public_jwk();
    assert_eq!(key.kid(), jwk_thumbprint(&jwk).unwrap());
    assert_eq!(key.kid().len(), 43);
    let mut names: Vec<_> = jwk.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    assert_eq!(jwk["use"], "sig");

    let rsa = SigningKey::generate(Alg::RS256).unwrap();
    let jwk = rsa.public_jwk();
    let mut names: Vec<_> = jwk.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(rsa.kid(), jwk_thumbprint(&jwk).unwrap());
    assert_eq!(rsa.verifier().kid(), Some(rsa.kid()));
}

#[test]
fn seal_unseal_round_trip() {
    let kek = Kek::generate();
    for alg in [Alg::ES256, Alg::RS256] {
        let key = SigningKey::generate(alg).unwrap();
        let sealed = key.seal(&kek);
        assert_eq!(sealed.kid, key.kid());
        assert_eq!(sealed.kek_id, kek.id());
        // Survives a trip through the database's JSON.
        let text = serde_json::to_string(&sealed).unwrap();
        let sealed: keys::SealedKey = serde_json::from_str(&text).unwrap();
        let back = SigningKey::unseal(&sealed, &kek).unwrap();
        assert_eq!(back.kid(), key.kid());
        assert_eq!(back.public_jwk(), key.public_jwk());
        assert_eq!(sealed.verifying_key().unwrap().thumbprint(), key.kid());
        // The unsealed key signs tokens the original's verifier accepts.
        let token = back.sign_jwt("JWT", &claims()).unwrap();
        verify_jwt(&token, &KeySet::new(vec![key.verifier()]), &[alg], None).unwrap();
    }
}

#[test]
fn unseal_refuses_wrong_kek_tampering_and_swaps() {
    let kek = Kek::generate();
    let a = SigningKey::generate(Alg::ES256).unwrap().seal(&kek);
    let b = SigningKey::generate(Alg::ES256).unwrap().seal(&kek);
    assert!(matches!(
        SigningKey::unseal(&a, &Kek::generate()),
        Err(KeyError::Kek(_))
    ));

    // Same id claimed, but a different KEK: the AEAD still says no.
    let mut forged = a.clone();
    forged.kek_id = Kek::generate().id();
    assert!(SigningKey::unseal(&forged, &kek).is_err());

    let mut t = a.clone();
    let last = t.sealed_private.len() - 1;
    t.sealed_private[last] ^= 1;
    assert!(matches!(
        SigningKey::unseal(&t, &kek),
        Err(KeyError::Kek(_))
    ));

    // Private half of key b under key a's kid: aad = kid refuses it.
    let mut swapped = a.clone();
    swapped.sealed_private = b.sealed_private.clone();
    assert!(matches!(
        SigningKey::unseal(&swapped, &kek),
        Err(KeyError::Kek(_))
    ));

    // Public JWK swapped in the row: detected.
    let mut swapped = a.clone();
    swapped.public_jwk = b.public_jwk.clone();
    assert!(SigningKey::unseal(&swapped, &kek).is_err());
    assert!(swapped.verifying_key().is_err());
}

#[test]
fn debug_never_shows_key_material() {
    let kek_bytes = [0x5a; 32];
    let kek = Kek::from_bytes(kek_bytes);
    for alg in [Alg::ES256, Alg::RS256] {
        let key = SigningKey::generate(alg).unwrap();
        let sealed = key.seal(&kek);
        let der = private_der(&key);
        let dbg = format!("{key:?} {key:#?} {sealed:?} {sealed:#?} {kek:?}");
        assert!(dbg.contains(key.kid()));
        assert!(dbg.contains(&format!("<{} bytes>", sealed.sealed_private.len())));
        let secrets = [
            der.clone(),
            secret_slice(&der),
            sealed.sealed_private.clone(),
            kek_bytes.to_vec(),
        ];
        for s in &secrets {
            assert!(!dbg.contains(&hex(s)));
            assert!(!dbg.contains(&hex(&s[..16])));
            assert!(!dbg.contains(&b64(s)));
            assert!(!dbg.contains(&b64(&s[..15])));
            let as_array = format!("{:?}", &s[..8]);
            assert!(!dbg.contains(&as_array[1..as_array.len() - 1]));
        }
    }
}

/// The EC private scalar `d` (after `02 01 01 04 20` in the SEC1 structure),
/// or for RSA 32 bytes from the middle of the DER (inside d, p or q).
fn secret_slice(der: &[u8]) -> Vec<u8> {
    let marker = [0x02, 0x01, 0x01, 0x04, 0x20];
    match der.windows(5).position(|w| w == marker) {
        Some(i) => der[i + 5..i + 5 + 32].to_vec(),
        None => der[der.len() / 2..der.len() / 2 + 32].to_vec(),
    }
}

#[test]
fn from_pkcs8_der_round_trip_and_rejects_wrong_alg() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let der = private_der(&key);
    assert_eq!(
        SigningKey::from_pkcs8_der(Alg::ES256, &der).unwrap().kid(),
        key.kid()
    );
    assert!(SigningKey::from_pkcs8_der(Alg::RS256, &der).is_err());
    assert!(SigningKey::from_pkcs8_der(Alg::ES256, b"garbage").is_err());
}

#[test]
fn signing_key_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<SigningKey>();
    check::<keys::VerifyingKey>();
    check::<KeySet>();
    check::<Kek>();
}
