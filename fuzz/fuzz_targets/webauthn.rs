//! The JSON a browser posts to /webauthn/register/finish and /webauthn/login/finish
//! (`web::handlers::webauthn`), deserialised into the webauthn-rs types and verified as
//! `flows::passkeys` does, by the provider's own relying party (`flows::passkeys::relying_party`)
//! against one fixed ceremony each: a registration and a discoverable login, started once per
//! process and answered once by a software passkey, whose genuine answers must verify.
//!
//! The first byte picks what the rest is: a whole finish body; or one part of a genuine answer
//! (attestation object; client data, raw or as JSON members merged over the genuine ones;
//! authenticator data after the genuine RP id hash; signature). The provider's own parser of
//! authenticator data, `domain::passkey::amr_for`, gets the bytes too.
#![no_main]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use idp::domain::passkey;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::sync::OnceLock;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::*;

const ORIGIN: &str = "https://idp.example";

/// The bodies `web::handlers::webauthn` parses (its own structs are private).
#[derive(serde::Deserialize)]
struct RegisterFinish {
    #[allow(dead_code)]
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

#[derive(serde::Deserialize)]
struct LoginFinish {
    #[allow(dead_code)]
    ceremony: String,
    credential: PublicKeyCredential,
}

struct Ceremony {
    rp: Webauthn,
    user: Uuid,
    registration: PasskeyRegistration,
    registered: RegisterPublicKeyCredential,
    login: DiscoverableAuthentication,
    passkey: Passkey,
    assertion: PublicKeyCredential,
}

fn ceremony() -> &'static Ceremony {
    static CEREMONY: OnceLock<Ceremony> = OnceLock::new();
    CEREMONY.get_or_init(|| {
        let config = idp::config::Config {
            issuer: ORIGIN.into(),
            ..Default::default()
        };
        let rp = idp::flows::passkeys::relying_party(&config)
            .expect("a relying party")
            .expect("passkeys on for a domain issuer");
        let origin = Url::parse(ORIGIN).expect("URL");
        let user = Uuid::from_bytes([7; 16]);
        let (options, registration) = rp
            .start_passkey_registration(user, "张三", "张三", None)
            .expect("registration options");
        // As flows::passkeys::register_start, except that SoftPasskey keeps no resident keys.
        let mut options = serde_json::to_value(options).expect("JSON");
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(false);
        let mut phone = SoftPasskey::new(true);
        let registered = phone
            .do_registration(
                origin.clone(),
                serde_json::from_value(options).expect("options"),
            )
            .expect("the soft passkey registers");
        let passkey = rp
            .finish_passkey_registration(&registered, &registration)
            .expect("a genuine registration verifies");
        let (options, login) = rp
            .start_discoverable_authentication()
            .expect("login options");
        let mut options = serde_json::to_value(options).expect("JSON");
        options["publicKey"]["allowCredentials"] =
            json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(passkey.cred_id()) }]);
        let mut assertion = phone
            .do_authentication(origin, serde_json::from_value(options).expect("options"))
            .expect("the soft passkey signs");
        assertion.response.user_handle = Some(user.as_bytes().to_vec());
        let c = Ceremony {
            rp,
            user,
            registration,
            registered,
            login,
            passkey,
            assertion,
        };
        let genuine = c.assertion.clone();
        assert!(log_in(&c, &genuine), "a genuine assertion verifies");
        c
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let c = ceremony();
    amr(rest);
    match mode % 8 {
        0 => {
            if let Ok(body) = serde_json::from_slice::<RegisterFinish>(rest) {
                register(c, &body.credential);
            }
            if let Ok(credential) = serde_json::from_slice(rest) {
                register(c, &credential);
            }
            if let Ok(name) = std::str::from_utf8(rest) {
                if let Some(name) = passkey::valid_name(name) {
                    let chars = name.chars().count();
                    assert!((1..=passkey::MAX_NAME_CHARS).contains(&chars));
                    assert!(!name.chars().any(char::is_control));
                }
            }
        }
        1 => {
            if let Ok(body) = serde_json::from_slice::<LoginFinish>(rest) {
                log_in(c, &body.credential);
            }
            if let Ok(credential) = serde_json::from_slice(rest) {
                log_in(c, &credential);
            }
        }
        2 => {
            let mut r = c.registered.clone();
            r.response.attestation_object = rest.to_vec();
            register(c, &r);
        }
        3 => {
            let mut r = c.registered.clone();
            r.response.client_data_json = merged(&c.registered.response.client_data_json, rest);
            register(c, &r);
        }
        4 => {
            // An attestation of format "none" around authenticator data the fuzzer writes after
            // the genuine RP id hash: flags, counter, AAGUID, credential id, COSE key, extensions.
            let mut r = c.registered.clone();
            r.response.attestation_object = attestation_none(&auth_data(rest));
            register(c, &r);
        }
        5 => {
            let mut a = c.assertion.clone();
            a.response.client_data_json = merged(&c.assertion.response.client_data_json, rest);
            accepted_only_if_genuine(c, &a);
        }
        6 => {
            let mut a = c.assertion.clone();
            a.response.authenticator_data = auth_data(rest);
            amr(&a.response.authenticator_data);
            accepted_only_if_genuine(c, &a);
        }
        _ => {
            let mut a = c.assertion.clone();
            let (handle, signature) = rest.split_at(rest.len().min(usize::from(mode >> 3)));
            a.response.signature = signature.to_vec();
            if !handle.is_empty() {
                a.response.user_handle = Some(handle.to_vec());
            }
            accepted_only_if_genuine(c, &a);
        }
    }
});

/// `flows::passkeys::register_finish`'s verification; what it accepts the provider stores.
fn register(c: &Ceremony, credential: &RegisterPublicKeyCredential) {
    if let Ok(key) =
        c.rp.finish_passkey_registration(credential, &c.registration)
    {
        // WebAuthn caps credential ids at 1023 bytes; `flows::passkeys::remove` takes ids of at
        // most 1400 base64url characters, so every bound passkey can be removed again.
        let id = URL_SAFE_NO_PAD.encode(key.cred_id());
        assert!(id.len() <= 1400, "a passkey that cannot be removed");
        assert!(serde_json::to_string(&key).is_ok());
    }
}

/// `flows::passkeys::login_finish`'s verification; true when the assertion was accepted.
fn log_in(c: &Ceremony, credential: &PublicKeyCredential) -> bool {
    let _ = URL_SAFE_NO_PAD.encode(credential.get_credential_id());
    let handle =
        c.rp.identify_discoverable_authentication(credential)
            .ok()
            .map(|(u, _)| u);
    if let Some(h) = handle {
        assert_eq!(credential.get_user_unique_id().map(<[u8]>::len), Some(16));
        if h != c.user {
            return false;
        }
    } else {
        return false;
    }
    #[allow(deprecated)]
    let result = c.rp.finish_discoverable_authentication(
        credential,
        c.login.clone(),
        &[DiscoverableKey::from(&c.passkey)],
    );
    amr(&credential.response.authenticator_data);
    match result {
        Ok(r) => {
            assert!(
                r.user_verified(),
                "the passkey policy requires user verification"
            );
            true
        }
        Err(_) => false,
    }
}

/// `amr` says fingerprint only for an assertion's authenticator data with extensions (flag ED)
/// and without attested credential data (flag AT).
fn amr(auth_data: &[u8]) {
    let amr = passkey::amr_for(auth_data);
    assert_eq!(amr[..2], ["hwk", "user"]);
    if amr.contains(&"fpt") {
        let flags = auth_data.get(32).copied().unwrap_or(0);
        assert!(
            flags & 0x80 != 0 && flags & 0x40 == 0,
            "fpt with flags {flags:#x}"
        );
    }
}

/// A genuine assertion with one part replaced verifies only if that part was left as it was.
fn accepted_only_if_genuine(c: &Ceremony, a: &PublicKeyCredential) {
    if log_in(c, a) {
        let g = &c.assertion.response;
        let r = &a.response;
        assert_eq!(r.authenticator_data, g.authenticator_data);
        assert_eq!(r.client_data_json, g.client_data_json);
    }
}

/// The genuine client data with the fuzzer's JSON members over it (`null` removes one), or the
/// raw bytes when they are not a JSON object.
fn merged(genuine: &[u8], input: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(input) {
        Ok(Value::Object(over)) => {
            let mut base: serde_json::Map<String, Value> =
                serde_json::from_slice(genuine).expect("genuine client data is JSON");
            for (k, v) in over {
                if v.is_null() {
                    base.remove(&k);
                } else {
                    base.insert(k, v);
                }
            }
            serde_json::to_vec(&base).expect("JSON")
        }
        _ => input.to_vec(),
    }
}

/// The RP id hash the relying party expects, then the fuzzer's bytes.
fn auth_data(rest: &[u8]) -> Vec<u8> {
    let mut data = sha2::Sha256::digest(b"idp.example").to_vec();
    data.extend_from_slice(rest);
    data
}

fn attestation_none(auth_data: &[u8]) -> Vec<u8> {
    use serde_cbor_2::Value as Cbor;
    let mut map = std::collections::BTreeMap::new();
    map.insert(Cbor::Text("fmt".into()), Cbor::Text("none".into()));
    map.insert(
        Cbor::Text("attStmt".into()),
        Cbor::Map(std::collections::BTreeMap::new()),
    );
    map.insert(
        Cbor::Text("authData".into()),
        Cbor::Bytes(auth_data.to_vec()),
    );
    serde_cbor_2::to_vec(&Cbor::Map(map)).expect("CBOR")
}
