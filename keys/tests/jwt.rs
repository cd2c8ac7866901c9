#![allow(clippy::unwrap_used)]
//! Strict JWS verification: every way we know to get a bad token accepted.

mod common;

use common::{b64, sign_raw, unsigned};
use keys::{check_time, half_hash, peek_header, verify_jwt, Alg, KeyError, KeySet, SigningKey};
use serde_json::json;

const CLAIMS: &str = r#"{"sub":"u1","exp":2000000000}"#;

fn setup(alg: Alg) -> (SigningKey, KeySet) {
    let key = SigningKey::generate(alg).unwrap();
    let set = KeySet::new(vec![key.verifier()]);
    (key, set)
}

fn reason(r: Result<keys::VerifiedJwt, KeyError>) -> &'static str {
    match r {
        Err(KeyError::InvalidToken(why)) => why,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

#[test]
fn alg_none_and_hmac_refused() {
    let (key, set) = setup(Alg::ES256);
    for alg in [
        "none", "None", "NONE", "nOnE", "HS256", "HS512", "es256", "ES384", "PS256", "",
    ] {
        let header = format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, key.kid());
        for sig in [&b""[..], &[0u8; 64]] {
            let token = unsigned(&header, CLAIMS, sig);
            assert_eq!(
                reason(verify_jwt(&token, &set, &[Alg::ES256, Alg::RS256], None)),
                "unsupported alg",
                "{alg}"
            );
        }
    }
    // alg missing or not a string.
    for header in [r#"{"kid":"x"}"#, r#"{"alg":null}"#, r#"{"alg":["ES256"]}"#] {
        let token = unsigned(header, CLAIMS, &[1; 64]);
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
            "unsupported alg"
        );
    }
}

#[test]
fn hs256_keyed_with_public_key_refused() {
    use hmac::{Hmac, Mac};
    let (key, set) = setup(Alg::RS256);
    let header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.kid());
    let input = format!("{}.{}", b64(header.as_bytes()), b64(CLAIMS.as_bytes()));
    // The classic confusion: the public key (in any serialisation) as the HMAC secret.
    let jwk_text = serde_json::Value::Object(key.public_jwk()).to_string();
    let n = key.public_jwk()["n"].as_str().unwrap().to_string();
    for secret in [jwk_text.as_bytes(), n.as_bytes()] {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        let token = format!("{input}.{}", b64(&mac.finalize().into_bytes()));
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::RS256, Alg::ES256], None)),
            "unsupported alg"
        );
    }
}

#[test]
fn embedded_and_remote_keys_and_crit_refused() {
    let (key, set) = setup(Alg::ES256);
    let jwk = serde_json::Value::Object(key.public_jwk());
    let extras = [
        json!({"jwk": jwk}),
        json!({"jku": "https://evil.example/jwks"}),
        json!({"x5u": "https://evil.example/cert"}),
        json!({"x5c": ["MIIB"]}),
        json!({"crit": ["exp"], "exp": 1}),
    ];
    for extra in extras {
        let mut header = json!({"alg": "ES256", "kid": key.kid()});
        for (k, v) in extra.as_object().unwrap() {
            header[k] = v.clone();
        }
        // Genuinely signed by the right key: refused for the header alone.
        let token = sign_raw(&key, &header.to_string(), CLAIMS);
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
            "forbidden header parameter"
        );
    }
    // Control: the same construction without extras verifies.
    let header = json!({"alg": "ES256", "kid": key.kid()});
    let token = sign_raw(&key, &header.to_string(), CLAIMS);
    verify_jwt(&token, &set, &[Alg::ES256], None).unwrap();
}

#[test]
fn kid_rules() {
    let (key, set) = setup(Alg::ES256);
    let other = SigningKey::generate(Alg::ES256).unwrap();
    // Signed by a key we do not have.
    let token = other
        .sign_jwt("JWT", &common::obj(json!({"exp": 1})))
        .unwrap();
    assert!(matches!(
        verify_jwt(&token, &set, &[Alg::ES256], None),
        Err(KeyError::UnknownKey)
    ));
    // Our kid on a token signed by another key.
    let header = json!({"alg": "ES256", "kid": key.kid()}).to_string();
    let token = sign_raw(&other, &header, CLAIMS);
    assert_eq!(
        reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
        "bad signature"
    );
    // kid not a string.
    let token = sign_raw(&key, r#"{"alg":"ES256","kid":1}"#, CLAIMS);
    assert_eq!(
        reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
        "kid is not a string"
    );
    // Without kid: every key of the alg is tried.
    let both = KeySet::new(vec![other.verifier(), key.verifier()]);
    let token = sign_raw(&key, r#"{"alg":"ES256"}"#, CLAIMS);
    verify_jwt(&token, &both, &[Alg::ES256], None).unwrap();
    assert_eq!(
        reason(verify_jwt(
            &token,
            &KeySet::new(vec![other.verifier()]),
            &[Alg::ES256],
            None
        )),
        "bad signature"
    );
    // The same kid twice in a set is ambiguous.
    let dup = KeySet::new(vec![key.verifier(), key.verifier()]);
    let token = key
        .sign_jwt("JWT", &common::obj(json!({"exp": 1})))
        .unwrap();
    assert_eq!(
        reason(verify_jwt(&token, &dup, &[Alg::ES256], None)),
        "ambiguous kid"
    );
}

#[test]
fn header_alg_must_match_key_alg() {
    let (rsa, _) = setup(Alg::RS256);
    // An RSA key's kid, claimed with ES256.
    let header = json!({"alg": "ES256", "kid": rsa.kid()}).to_string();
    let token = unsigned(&header, CLAIMS, &[1; 64]);
    let set = KeySet::new(vec![rsa.verifier()]);
    assert_eq!(
        reason(verify_jwt(&token, &set, &[Alg::ES256, Alg::RS256], None)),
        "alg does not match the key"
    );
    let token = unsigned(r#"{"alg":"ES256"}"#, CLAIMS, &[1; 64]);
    assert!(matches!(
        verify_jwt(&token, &set, &[Alg::ES256, Alg::RS256], None),
        Err(KeyError::UnknownKey)
    ));
}

#[test]
fn tampered_tokens_refused() {
    for alg in [Alg::ES256, Alg::RS256] {
        let (key, set) = setup(alg);
        let token = key
            .sign_jwt("JWT", &common::obj(json!({"sub": "alice", "exp": 1})))
            .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let evil = b64(br#"{"sub":"mallory","exp":1}"#);
        let forged = format!("{}.{}.{}", parts[0], evil, parts[2]);
        assert_eq!(
            reason(verify_jwt(&forged, &set, &[alg], None)),
            "bad signature"
        );
        // Header re-encoded (different bytes, same meaning) breaks the signature.
        let header = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[0])
                .unwrap(),
        )
        .unwrap();
        let spaced = b64(header.replace(',', ", ").as_bytes());
        let forged = format!("{}.{}.{}", spaced, parts[1], parts[2]);
        assert_eq!(
            reason(verify_jwt(&forged, &set, &[alg], None)),
            "bad signature"
        );
        // Signature bit flips.
        let mut sig =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[2])
                .unwrap();
        sig[5] ^= 0x40;
        let forged = format!("{}.{}.{}", parts[0], parts[1], b64(&sig));
        assert_eq!(
            reason(verify_jwt(&forged, &set, &[alg], None)),
            "bad signature"
        );
        // Signature with base64 padding: not base64url-without-padding.
        let forged = format!("{token}=");
        assert!(verify_jwt(&forged, &set, &[alg], None).is_err());
        // Truncated signature.
        let forged = &token[..token.len() - 4];
        assert!(verify_jwt(forged, &set, &[alg], None).is_err());
    }
}

#[test]
fn ecdsa_zero_signatures_refused() {
    let (key, set) = setup(Alg::ES256);
    let header = json!({"alg": "ES256", "kid": key.kid()}).to_string();
    let mut half_zero = [0u8; 64];
    half_zero[40] = 1;
    let mut other_half_zero = [0u8; 64];
    other_half_zero[3] = 1;
    for sig in [[0u8; 64], half_zero, other_half_zero] {
        let token = unsigned(&header, CLAIMS, &sig);
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
            "bad signature"
        );
    }
    // Also when the verifier is called directly with r = s = 0 or r = s = n.
    let v = key.verifier();
    assert!(!v.verify_signature(b"x.y", &[0u8; 64]));
    let n = hex_bytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let sig: Vec<u8> = [n.clone(), n].concat();
    assert!(!v.verify_signature(b"x.y", &sig));
    // DER-encoded or wrong-length signatures are not the JWS format.
    assert!(!v.verify_signature(b"x.y", &[1u8; 70]));
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn typ_check() {
    let (key, set) = setup(Alg::ES256);
    let claims = common::obj(json!({"exp": 1}));
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+JWT",
    ] {
        let token = key.sign_jwt(typ, &claims).unwrap();
        verify_jwt(&token, &set, &[Alg::ES256], Some("at+jwt")).unwrap();
        verify_jwt(&token, &set, &[Alg::ES256], Some("application/at+jwt")).unwrap();
    }
    for typ in ["JWT", "", "at+jwt2", "text/at+jwt"] {
        let token = key.sign_jwt(typ, &claims).unwrap();
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::ES256], Some("at+jwt"))),
            "wrong typ",
            "{typ}"
        );
    }
    // No expectation: any typ (or none) passes.
    let token = key.sign_jwt("", &claims).unwrap();
    verify_jwt(&token, &set, &[Alg::ES256], None).unwrap();
}

#[test]
fn format_checks() {
    let (key, set) = setup(Alg::ES256);
    let good = key
        .sign_jwt("JWT", &common::obj(json!({"exp": 1})))
        .unwrap();
    let bad = [
        String::new(),
        "a.b".into(),
        "a.b.c.d".into(),
        format!("{good}.x"),
        format!(".{}", good.split_once('.').unwrap().1),
        format!("{} ", good),
        format!(" {}", good),
        good.replacen('.', "..", 1),
    ];
    for t in &bad {
        assert!(verify_jwt(t, &set, &[Alg::ES256], None).is_err(), "{t:?}");
    }
    // Too large, even when well formed.
    let big = common::obj(json!({"exp": 1, "pad": "x".repeat(keys::MAX_TOKEN_LEN)}));
    let token = key.sign_jwt("JWT", &big).unwrap();
    assert_eq!(
        reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
        "token too large"
    );
    assert!(matches!(
        peek_header(&token),
        Err(KeyError::InvalidToken("token too large"))
    ));
}

#[test]
fn header_and_payload_must_be_json_objects_without_duplicates() {
    let (key, set) = setup(Alg::ES256);
    for header in [
        "[]",
        "\"ES256\"",
        "not json",
        r#"{"alg":"ES256"} x"#,
        r#"{"alg":"ES256","alg":"none"}"#,
    ] {
        let token = sign_raw(&key, header, CLAIMS);
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
            "not a JSON object",
            "{header}"
        );
        assert!(peek_header(&token).is_err());
    }
    for claims in ["[1]", "42", "null", r#"{"sub":"a","sub":"b"}"#] {
        let token = sign_raw(&key, r#"{"alg":"ES256"}"#, claims);
        assert_eq!(
            reason(verify_jwt(&token, &set, &[Alg::ES256], None)),
            "not a JSON object",
            "{claims}"
        );
    }
}

#[test]
fn peek_header_reads_without_trust() {
    let token = unsigned(r#"{"alg":"none","kid":"k"}"#, CLAIMS, b"");
    let h = peek_header(&token).unwrap();
    assert_eq!(h["alg"], "none");
    assert_eq!(h["kid"], "k");
}

#[test]
fn verified_jwt_debug_hides_claim_values() {
    let (key, set) = setup(Alg::ES256);
    let token = key
        .sign_jwt(
            "JWT",
            &common::obj(json!({"id_number": "110101199003074514", "exp": 1})),
        )
        .unwrap();
    let v = verify_jwt(&token, &set, &[Alg::ES256], None).unwrap();
    let dbg = format!("{v:?}");
    assert!(dbg.contains("id_number"));
    assert!(!dbg.contains("110101199003074514"));
}

#[test]
fn check_time_rules() {
    let c = |v: serde_json::Value| common::obj(v);
    let now = 1_000_000;
    assert!(check_time(&c(json!({"exp": now + 1})), now, 0).is_ok());
    assert!(matches!(
        check_time(&c(json!({"exp": now})), now, 0),
        Err(KeyError::InvalidToken("expired"))
    ));
    assert!(check_time(&c(json!({"exp": now - 5})), now, 10).is_ok());
    assert!(matches!(
        check_time(&c(json!({})), now, 0),
        Err(KeyError::InvalidToken("missing exp"))
    ));
    assert!(check_time(&c(json!({"exp": "2000000000"})), now, 0).is_err());
    assert!(check_time(&c(json!({"exp": now as f64 + 1.5})), now, 0).is_ok());
    assert!(matches!(
        check_time(&c(json!({"exp": now + 100, "nbf": now + 50})), now, 0),
        Err(KeyError::InvalidToken("not yet valid"))
    ));
    assert!(check_time(&c(json!({"exp": now + 100, "nbf": now + 50})), now, 60).is_ok());
    assert!(check_time(&c(json!({"exp": now + 100, "nbf": now})), now, 0).is_ok());
    assert!(matches!(
        check_time(&c(json!({"exp": now + 100, "iat": now + 50})), now, 0),
        Err(KeyError::InvalidToken("issued in the future"))
    ));
    assert!(check_time(&c(json!({"exp": now + 100, "iat": now})), now, 0).is_ok());
    assert!(check_time(&c(json!({"exp": now + 100, "iat": null})), now, 0).is_err());
}

#[test]
fn half_hash_matches_oidc_examples() {
    // OpenID Connect Core 1.0, Appendix A.3/A.4/A.6 examples.
    assert_eq!(
        half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    assert_eq!(
        half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
        "LDktKdoQak3Pk0cnXxCltA"
    );
    // And independently: the left 16 bytes of SHA-256.
    use sha2::Digest as _;
    let full = sha2::Sha256::digest(b"abc");
    assert_eq!(half_hash("abc"), b64(&full[..16]));
}

#[test]
fn self_signed_proofs_verify_with_their_own_key_only() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let claims = serde_json::from_str(r#"{"jti":"j1","htm":"POST"}"#).unwrap();
    let proof = key.sign_self_contained("dpop+jwt", &claims).unwrap();
    let (jwt, signer) = keys::verify_self_signed(&proof, &[Alg::ES256], "dpop+jwt").unwrap();
    assert_eq!(jwt.claims["jti"], "j1");
    assert_eq!(signer.thumbprint(), key.verifier().thumbprint());
    assert_eq!(
        reason(keys::verify_self_signed(&proof, &[Alg::ES256], "at+jwt").map(|(j, _)| j)),
        "wrong typ"
    );
    // Another key's jwk in the header: the signature does not match it.
    let other = SigningKey::generate(Alg::ES256).unwrap();
    let mut header = peek_header(&proof).unwrap();
    header.insert("jwk".into(), json!(other.public_jwk()));
    let forged = format!(
        "{}.{}",
        b64(serde_json::Value::Object(header).to_string().as_bytes()),
        proof.split_once('.').unwrap().1
    );
    assert_eq!(
        reason(keys::verify_self_signed(&forged, &[Alg::ES256], "dpop+jwt").map(|(j, _)| j)),
        "bad signature"
    );
    // A private key in the header, a kid instead of a jwk, alg none: refused.
    let mut with_private = peek_header(&proof).unwrap();
    with_private["jwk"]["d"] = json!("AAAA");
    let token = unsigned(
        &serde_json::Value::Object(with_private).to_string(),
        CLAIMS,
        &[1; 64],
    );
    assert_eq!(
        reason(keys::verify_self_signed(&token, &[Alg::ES256], "dpop+jwt").map(|(j, _)| j)),
        "bad jwk"
    );
    let token = unsigned(
        r#"{"alg":"ES256","typ":"dpop+jwt","kid":"k"}"#,
        CLAIMS,
        &[1; 64],
    );
    assert_eq!(
        reason(keys::verify_self_signed(&token, &[Alg::ES256], "dpop+jwt").map(|(j, _)| j)),
        "forbidden header parameter"
    );
    let token = unsigned(r#"{"alg":"none","typ":"dpop+jwt"}"#, CLAIMS, b"");
    assert_eq!(
        reason(keys::verify_self_signed(&token, &[Alg::ES256], "dpop+jwt").map(|(j, _)| j)),
        "unsupported alg"
    );
}
