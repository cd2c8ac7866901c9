//! ES256 verification with ring, for the verifier's hot path. Building a josekit/OpenSSL
//! verifier from a JWK costs more than a signature check (OpenSSL's full key check is a
//! scalar multiplication), and a presentation brings a new holder key every time; ring takes
//! the raw point and checks it is on the curve as part of verifying.

use serde_json::{Map, Value};

use super::json::b64_decode;

/// A P-256 public key as an uncompressed SEC1 point (0x04 || x || y).
#[derive(Clone, Debug)]
pub(crate) struct P256Key {
    point: [u8; 65],
}

impl P256Key {
    /// From the SEC1 point of a certificate's subjectPublicKeyInfo.
    pub fn from_sec1(point: &[u8]) -> Option<P256Key> {
        let point: [u8; 65] = point.try_into().ok()?;
        (point[0] == 4).then_some(P256Key { point })
    }

    /// From a public EC JWK on P-256; a JWK with a private member (`d`) is refused.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Option<P256Key> {
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        if member("kty") != Some("EC") || member("crv") != Some("P-256") || jwk.contains_key("d") {
            return None;
        }
        let x = b64_decode(member("x")?)?;
        let y = b64_decode(member("y")?)?;
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = [4u8; 65];
        point[1..33].copy_from_slice(&x);
        point[33..].copy_from_slice(&y);
        Some(P256Key { point })
    }

    /// Checks a JWS ES256 signature (r || s, 64 bytes) over `signing_input`.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            &self.point,
        )
        .verify(signing_input, signature)
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_what_keys_signs_and_nothing_else() {
        let key = keys::SigningKey::generate(keys::Alg::ES256).expect("a test key");
        let token = key
            .sign_jwt("JWT", &Map::new())
            .expect("signs an empty payload");
        let (input, sig) = token.rsplit_once('.').expect("compact JWS");
        let sig = b64_decode(sig).expect("base64url signature");
        let p256 = P256Key::from_jwk(&key.public_jwk()).expect("an EC P-256 JWK");
        assert!(p256.verify(input.as_bytes(), &sig));
        assert!(!p256.verify(b"other input", &sig));
        assert!(!p256.verify(input.as_bytes(), &[0u8; 64]));
        let mut private = key.public_jwk();
        private.insert("d".into(), "AAAA".into());
        assert!(P256Key::from_jwk(&private).is_none());
        assert!(P256Key::from_sec1(&[4u8; 64]).is_none());
    }
}
