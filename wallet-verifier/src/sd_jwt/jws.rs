//! Compact JWS as the verifier reads it: header parsed and checked before any key is touched,
//! payload parsed only after the signature verified.

use serde_json::{Map, Value};

use super::json::{b64_decode, decode_object};
use super::refusal::echo;
use super::Refusal;

/// A compact JWS split in its parts, header decoded.
pub(crate) struct Jws<'a> {
    pub header: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub signing_input: &'a str,
    payload: &'a str,
    pub signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    pub fn parse(token: &'a str) -> Result<Jws<'a>, Refusal> {
        let malformed = Refusal::Malformed("a JWT must be three base64url parts separated by '.'");
        let (signing_input, signature) = token.rsplit_once('.').ok_or(malformed.clone())?;
        let (header, payload) = signing_input.split_once('.').ok_or(malformed.clone())?;
        if header.is_empty() || payload.is_empty() || payload.contains('.') {
            return Err(malformed);
        }
        let header = decode_object(header)
            .ok_or(Refusal::Malformed("the JWT header is not a JSON object"))?;
        let signature = b64_decode(signature)
            .ok_or(Refusal::Malformed("the JWT signature is not base64url"))?;
        Ok(Jws {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The claims; call only once the signature verified.
    pub fn payload(&self) -> Result<Map<String, Value>, Refusal> {
        decode_object(self.payload)
            .ok_or(Refusal::Malformed("the JWT payload is not a JSON object"))
    }

    /// `typ` must be exactly `expected` (no case folding, no `application/` prefix: our
    /// issuers and wallets write the short form, and one spelling leaves nothing to confuse).
    pub fn require_typ(&self, expected: &'static str) -> Result<(), Refusal> {
        match self.header.get("typ") {
            Some(Value::String(t)) if t == expected => Ok(()),
            Some(Value::String(t)) => Err(Refusal::WrongType {
                expected,
                found: echo(t),
            }),
            Some(_) => Err(Refusal::WrongType {
                expected,
                found: "(not a string)".into(),
            }),
            None => Err(Refusal::WrongType {
                expected,
                found: "(missing)".into(),
            }),
        }
    }

    /// The `alg` string, which the caller matches against its allow-list.
    pub fn alg(&self) -> Result<&str, Refusal> {
        match self.header.get("alg") {
            Some(Value::String(a)) => Ok(a),
            Some(_) => Err(Refusal::UnsupportedAlg("(not a string)".into())),
            None => Err(Refusal::UnsupportedAlg("(missing)".into())),
        }
    }

    /// Refuses the first of `names` present in the header.
    pub fn forbid(&self, names: &[&'static str]) -> Result<(), Refusal> {
        match names.iter().find(|n| self.header.contains_key(**n)) {
            Some(n) => Err(Refusal::ForbiddenHeader(n)),
            None => Ok(()),
        }
    }
}
