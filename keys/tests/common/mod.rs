//! Helpers shared by the integration tests: build tokens with any header we
//! like, signed by a real key, to probe the verifier.
#![allow(clippy::unwrap_used, dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use josekit::jws::{JwsSigner, ES256, RS256};
use keys::{Alg, Kek, SigningKey};
use serde_json::{Map, Value};

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// The private key's PKCS#8 DER, recovered the only way the API allows: seal and open.
pub fn private_der(key: &SigningKey) -> Vec<u8> {
    let kek = Kek::generate();
    let sealed = key.seal(&kek);
    kek.open(&sealed.sealed_private, key.kid().as_bytes())
        .unwrap()
        .to_vec()
}

/// A josekit signer for the same private key, to sign arbitrary headers.
pub fn raw_signer(key: &SigningKey) -> Box<dyn JwsSigner> {
    let der = private_der(key);
    match key.alg() {
        Alg::ES256 => Box::new(ES256.signer_from_der(&der).unwrap()),
        Alg::RS256 => Box::new(RS256.signer_from_der(&der).unwrap()),
    }
}

/// `b64(header).b64(claims).b64(sign(...))` with the given header text.
pub fn sign_raw(key: &SigningKey, header: &str, claims: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let sig = raw_signer(key).sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&sig))
}

/// A token with the given header and signature bytes (no real signing).
pub fn unsigned(header: &str, claims: &str, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.as_bytes()),
        b64(claims.as_bytes()),
        b64(sig)
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
