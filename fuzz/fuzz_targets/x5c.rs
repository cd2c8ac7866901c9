//! Certificate chain handling: the input is the DER of the certificate(s) a credential's `x5c`
//! carries (split on a 0x00 0x00 0xff marker), signed over by the real issuer key so that the
//! verifier reaches chain validation with attacker-chosen certificates.
#![no_main]
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use wallet_verifier::sd_jwt::{Expect, StatusCheck};

mod common;

fuzz_target!(|data: &[u8]| {
    let pki = common::pki();
    let certs: Vec<Value> = data
        .split(|b| *b == 0xff)
        .take(5)
        .map(|der| json!(STANDARD.encode(der)))
        .collect();
    let mut header = Map::new();
    header.insert("x5c".into(), Value::Array(certs));
    let payload = json!({"iss": "https://idp.example", "vct": "urn:x", "iat": common::NOW, "exp": common::NOW + 60,
        "_sd_alg": "sha-256", "_sd": [], "cnf": {"jwk": pki.issuer_key.public_jwk()}});
    let Ok(jwt) = pki.issuer_key.sign_jwt_with_header(
        "dc+sd-jwt",
        &header,
        payload.as_object().expect("object"),
    ) else {
        return;
    };
    let expect = Expect {
        nonce: common::NONCE,
        audience: common::AUD,
        now: common::NOW,
        max_age_secs: 300,
        status: StatusCheck::Skip,
    };
    let _ = common::verifier().verify(&format!("{jwt}~"), &expect);
    let _ = common::verifier().verify_status_list_token(&jwt, "https://idp.example/s", common::NOW);
});
