//! Fingerprint login with a software passkey bound through the JSON API.
//!
//! The phone is a minimal WebAuthn authenticator of the generator's own (ES256, "none"
//! attestation, user verified), signing with OpenSSL. The generator shares the two cores with
//! the server it measures: webauthn-authenticator-rs's SoftPasskey parses its private key and
//! derives the public key again for every assertion, with pure-Rust P-256, which made signing
//! the larger part of what a fingerprint login cost the generator, and that came out of the
//! server's share.
use crate::flows::Session;
use crate::server::Server;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A phone with a software passkey bound to the citizen: a discoverable credential, so the
/// assertion names its credential and user handle itself.
pub struct Phone {
    key: EcKey<Private>,
    /// The origin the browser would report, e.g. `http://127.0.0.1:8080`.
    origin: String,
    credential_id: Vec<u8>,
    user_handle: String,
    counter: u32,
}

pub async fn post_json(
    http: &reqwest::Client,
    url: String,
    cookies: Option<&str>,
    body: &serde_json::Value,
) -> Option<serde_json::Value> {
    let mut req = http.post(url).json(body);
    if let Some(c) = cookies {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

/// The authenticator's flags: user present, user verified (the fingerprint), and on
/// registration the attested credential data that follows.
const USER_PRESENT_AND_VERIFIED: u8 = 0b0000_0101;
const ATTESTED_CREDENTIAL: u8 = 0b0100_0000;

pub async fn bind_phone(http: &reqwest::Client, server: &Server, s: &Session) -> Option<Phone> {
    let base = &server.base;
    let start = post_json(
        http,
        format!("{base}/webauthn/register/start"),
        Some(&s.cookies),
        &serde_json::json!({ "name": "bench" }),
    )
    .await?;
    let options = &start["publicKey"];
    let origin = url::Url::parse(&server.issuer)
        .ok()?
        .origin()
        .ascii_serialization();
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).ok()?;
    let key = EcKey::generate(&group).ok()?;
    let credential_id = keys::random_token(16).into_bytes();
    let client_data = client_data("webauthn.create", options["challenge"].as_str()?, &origin);
    let mut auth_data = Sha256::digest(options["rp"]["id"].as_str()?.as_bytes()).to_vec();
    auth_data.push(USER_PRESENT_AND_VERIFIED | ATTESTED_CREDENTIAL);
    auth_data.extend_from_slice(&0u32.to_be_bytes());
    auth_data.extend_from_slice(&[0; 16]); // AAGUID: none
    auth_data.extend_from_slice(&u16::try_from(credential_id.len()).ok()?.to_be_bytes());
    auth_data.extend_from_slice(&credential_id);
    auth_data.extend_from_slice(&cose_public_key(&key)?);
    let attestation = cbor_map(vec![
        ("fmt", Value::Text("none".into())),
        ("attStmt", Value::Map(BTreeMap::new())),
        ("authData", Value::Bytes(auth_data)),
    ])?;
    let id = B64.encode(&credential_id);
    let credential = serde_json::json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "attestationObject": B64.encode(attestation),
            "clientDataJSON": B64.encode(client_data),
        },
        "extensions": {},
    });
    post_json(
        http,
        format!("{base}/webauthn/register/finish"),
        Some(&s.cookies),
        &serde_json::json!({ "ceremony": start["ceremony"], "credential": credential }),
    )
    .await?;
    Some(Phone {
        key,
        origin,
        credential_id,
        user_handle: options["user"]["id"].as_str()?.to_owned(),
        counter: 0,
    })
}

/// One fingerprint login: start, sign the challenge with the passkey, finish.
pub async fn passkey_login(http: &reqwest::Client, base: &str, phone: &mut Phone) -> bool {
    let Some(options) = post_json(
        http,
        format!("{base}/webauthn/login/start"),
        None,
        &serde_json::json!({}),
    )
    .await
    else {
        return false;
    };
    let Some(credential) = phone.assert(&options["publicKey"]) else {
        return false;
    };
    post_json(
        http,
        format!("{base}/webauthn/login/finish"),
        None,
        &serde_json::json!({ "ceremony": options["ceremony"], "credential": credential }),
    )
    .await
    .is_some_and(|r| r["redirect_to"].is_string())
}

impl Phone {
    /// The assertion for a login's options (W3C WebAuthn 6.3.3 and 7.2): the authenticator
    /// data, the client data, and the signature over both.
    fn assert(&mut self, options: &serde_json::Value) -> Option<serde_json::Value> {
        self.counter += 1;
        let client_data = client_data("webauthn.get", options["challenge"].as_str()?, &self.origin);
        let mut auth_data = Sha256::digest(options["rpId"].as_str()?.as_bytes()).to_vec();
        auth_data.push(USER_PRESENT_AND_VERIFIED);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        let signed = Sha256::new()
            .chain_update(&auth_data)
            .chain_update(Sha256::digest(&client_data))
            .finalize();
        let signature = EcdsaSig::sign(&signed, &self.key).ok()?.to_der().ok()?;
        let id = B64.encode(&self.credential_id);
        Some(serde_json::json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature),
                "userHandle": self.user_handle,
            },
            "extensions": {},
        }))
    }
}

/// The client data JSON a browser would send.
fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": kind,
        "challenge": challenge,
        "origin": origin,
        "crossOrigin": false,
    }))
    .unwrap_or_default()
}

/// The public key as a COSE_Key (RFC 9053): EC2, ES256, P-256, x, y.
fn cose_public_key(key: &EcKey<Private>) -> Option<Vec<u8>> {
    let (mut x, mut y) = (BigNum::new().ok()?, BigNum::new().ok()?);
    let mut ctx = BigNumContext::new().ok()?;
    key.public_key()
        .affine_coordinates(key.group(), &mut x, &mut y, &mut ctx)
        .ok()?;
    let map: BTreeMap<Value, Value> = [
        (1, Value::Integer(2)),
        (3, Value::Integer(-7)),
        (-1, Value::Integer(1)),
        (-2, Value::Bytes(x.to_vec_padded(32).ok()?)),
        (-3, Value::Bytes(y.to_vec_padded(32).ok()?)),
    ]
    .into_iter()
    .map(|(k, v)| (Value::Integer(k), v))
    .collect();
    serde_cbor_2::to_vec(&Value::Map(map)).ok()
}

fn cbor_map(entries: Vec<(&str, Value)>) -> Option<Vec<u8>> {
    let map: BTreeMap<Value, Value> = entries
        .into_iter()
        .map(|(k, v)| (Value::Text(k.into()), v))
        .collect();
    serde_cbor_2::to_vec(&Value::Map(map)).ok()
}
