#![allow(clippy::unwrap_used)]
//! The national root and issuer certificates, checked with OpenSSL's own path validation.

use keys::{
    der_from_pem, issuer_certificate, leaf_certificate, pem, root_certificate, Alg, KeyError,
    SigningKey,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509StoreContext, X509};

const NOT_BEFORE: i64 = 1_700_000_000;
const NOT_AFTER: i64 = 2_000_000_000;
const INSIDE: i64 = 1_800_000_000;

fn root() -> (SigningKey, Vec<u8>) {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let der = root_certificate(&key, "国家电子证照根 CA", NOT_BEFORE, NOT_AFTER).unwrap();
    (key, der)
}

/// OpenSSL's full path validation of `leaf` up to `root`, at `at`.
fn openssl_accepts(root: &[u8], leaf: &[u8], at: i64) -> bool {
    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(X509::from_der(root).unwrap()).unwrap();
    let mut param = X509VerifyParam::new().unwrap();
    param.set_time(at);
    store.set_param(&param).unwrap();
    let store = store.build();
    let leaf = X509::from_der(leaf).unwrap();
    let mut ctx = X509StoreContext::new().unwrap();
    ctx.init(&store, &leaf, &Stack::new().unwrap(), |c| c.verify_cert())
        .unwrap()
}

#[test]
fn leaf_verifies_against_its_root() {
    let (ca_key, root_der) = root();
    let issuer = SigningKey::generate(Alg::ES256).unwrap();
    let leaf = leaf_certificate(
        &ca_key,
        &root_der,
        "浙江省电子证照签发",
        &issuer.verifier(),
        NOT_BEFORE,
        NOT_AFTER - 1,
    )
    .unwrap();
    let root_cert = X509::from_der(&root_der).unwrap();
    let leaf_cert = X509::from_der(&leaf).unwrap();
    assert!(leaf_cert.verify(&root_cert.public_key().unwrap()).unwrap());
    assert!(root_cert.verify(&root_cert.public_key().unwrap()).unwrap());
    assert!(openssl_accepts(&root_der, &leaf, INSIDE));
    // Outside the validity window, OpenSSL refuses the same chain.
    assert!(!openssl_accepts(&root_der, &leaf, NOT_AFTER + 10));
    // The leaf carries the issuer key, and is issued by the root's subject.
    let leaf_key = leaf_cert.public_key().unwrap();
    assert_eq!(leaf_key.bits(), 256);
    assert_eq!(
        leaf_cert.issuer_name().to_der().unwrap(),
        root_cert.subject_name().to_der().unwrap()
    );
    // A leaf from another root does not verify against this one.
    let (other_key, other_root) = root();
    let stranger = leaf_certificate(
        &other_key,
        &other_root,
        "stranger",
        &issuer.verifier(),
        NOT_BEFORE,
        NOT_AFTER,
    )
    .unwrap();
    assert!(!openssl_accepts(&root_der, &stranger, INSIDE));
}

#[test]
fn root_is_ca_and_leaf_is_not() {
    let (ca_key, root_der) = root();
    let issuer = SigningKey::generate(Alg::ES256).unwrap();
    let leaf = issuer_certificate(
        &ca_key,
        &root_der,
        "issuer",
        "https://zj.gov.cn.example",
        &issuer.verifier(),
        NOT_BEFORE,
        NOT_AFTER,
    )
    .unwrap();
    let root_text =
        String::from_utf8(X509::from_der(&root_der).unwrap().to_text().unwrap()).unwrap();
    let leaf_text = String::from_utf8(X509::from_der(&leaf).unwrap().to_text().unwrap()).unwrap();
    assert!(root_text.contains("CA:TRUE"), "{root_text}");
    assert!(
        root_text.contains("Certificate Sign, CRL Sign"),
        "{root_text}"
    );
    assert!(root_text.contains("Subject Key Identifier"));
    assert!(root_text.contains("Version: 3"));
    assert!(leaf_text.contains("CA:FALSE"), "{leaf_text}");
    assert!(leaf_text.contains("Digital Signature"));
    assert!(!leaf_text.contains("Certificate Sign"));
    assert!(leaf_text.contains("Authority Key Identifier"));
    assert!(leaf_text.contains("URI:https://zj.gov.cn.example"));
    assert!(leaf_text.contains("ecdsa-with-SHA256"));
    // Serials are random, so two roots of the same key differ.
    let again = root_certificate(&ca_key, "国家电子证照根 CA", NOT_BEFORE, NOT_AFTER).unwrap();
    assert_ne!(
        X509::from_der(&again)
            .unwrap()
            .serial_number()
            .to_bn()
            .unwrap(),
        X509::from_der(&root_der)
            .unwrap()
            .serial_number()
            .to_bn()
            .unwrap()
    );
}

#[test]
fn non_es256_keys_are_refused() {
    let rsa = SigningKey::generate(Alg::RS256).unwrap();
    let err = root_certificate(&rsa, "rsa root", NOT_BEFORE, NOT_AFTER).unwrap_err();
    assert!(
        matches!(&err, KeyError::InvalidKey(m) if m.contains("ES256")),
        "{err}"
    );

    let (ca_key, root_der) = root();
    let err = leaf_certificate(
        &ca_key,
        &root_der,
        "rsa leaf",
        &rsa.verifier(),
        NOT_BEFORE,
        NOT_AFTER,
    )
    .unwrap_err();
    assert!(
        matches!(&err, KeyError::InvalidKey(m) if m.contains("ES256")),
        "{err}"
    );
}

#[test]
fn ca_key_must_match_ca_certificate() {
    let (_, root_der) = root();
    let wrong = SigningKey::generate(Alg::ES256).unwrap();
    let err = leaf_certificate(
        &wrong,
        &root_der,
        "x",
        &wrong.verifier(),
        NOT_BEFORE,
        NOT_AFTER,
    )
    .unwrap_err();
    assert!(matches!(err, KeyError::InvalidKey(_)));
}

#[test]
fn empty_validity_is_refused() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    assert!(root_certificate(&key, "x", NOT_AFTER, NOT_BEFORE).is_err());
}

#[test]
fn pem_round_trip() {
    let (_, root_der) = root();
    let text = pem(&root_der);
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(text.ends_with("-----END CERTIFICATE-----\n"));
    assert!(text.lines().all(|l| l.len() <= 64));
    assert_eq!(der_from_pem(&text).unwrap(), root_der);
    // OpenSSL reads our PEM too.
    assert_eq!(
        X509::from_pem(text.as_bytes()).unwrap().to_der().unwrap(),
        root_der
    );
    assert!(
        der_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err()
    );
    assert!(der_from_pem("hello").is_err());
}

#[test]
fn sign_jwt_with_header_puts_extra_members_and_no_kid() {
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("x5c".into(), serde_json::json!(["AAAA"]));
    let mut payload = serde_json::Map::new();
    payload.insert("iss".into(), "https://issuer.example".into());
    let token = key
        .sign_jwt_with_header("dc+sd-jwt", &extra, &payload)
        .unwrap();
    let header = keys::peek_header(&token).unwrap();
    let names: Vec<&str> = header.keys().map(String::as_str).collect();
    assert_eq!(names, ["alg", "typ", "x5c"]);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "dc+sd-jwt");
    // The signature is the key's.
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    assert!(key.verifier().verify_signature(input.as_bytes(), &sig));
    // alg and typ cannot be overridden.
    let mut bad = serde_json::Map::new();
    bad.insert("alg".into(), "none".into());
    assert!(key.sign_jwt_with_header("JWT", &bad, &payload).is_err());
}
