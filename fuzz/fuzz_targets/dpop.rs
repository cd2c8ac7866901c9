//! DPoP proofs (RFC 9449) through the provider's own check, `flows::dpop::verify`: signature
//! and header rules (`keys::verify_self_signed`, which the `jwt` target also reaches), then
//! `domain::dpop::check` (method, URL, time, `ath`, nonce) and the replay store. The `jwt`
//! target stops at the signature; this one gets past it.
//!
//! Fixed: `POST https://idp.example/token` (or `GET /userinfo` with an access token), the
//! clock at `provider::NOW`. The first byte picks the way in: the rest as a whole proof, or as
//! the JSON claims of a proof genuinely signed with a key in its header (`"nonce": "CURRENT"`
//! becomes the provider's current nonce, which a fuzzer cannot compute).
#![no_main]
use idp::domain::dpop::{self, DpopError, Expected, FUTURE_LEEWAY_SECS, MAX_AGE_SECS};
use idp::flows::dpop::{current_nonce, verify, Request};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use std::sync::OnceLock;

mod provider;

const TOKEN: &str = "at-fuzz";

fn client_key() -> &'static keys::SigningKey {
    static KEY: OnceLock<keys::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| keys::SigningKey::generate(keys::Alg::ES256).expect("a key"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let svc = provider::services();
    let request = match mode & 2 {
        0 => Request {
            method: "POST",
            path: "/token",
            access_token: None,
            require_nonce: mode & 4 != 0,
        },
        _ => Request {
            method: "GET",
            path: "/userinfo",
            access_token: Some(TOKEN),
            require_nonce: mode & 4 != 0,
        },
    };
    let proof = if mode & 1 == 0 {
        text.to_owned()
    } else {
        let Ok(Value::Object(mut claims)) = serde_json::from_str::<Value>(text) else {
            return;
        };
        if claims.get("nonce").and_then(Value::as_str) == Some("CURRENT") {
            claims.insert("nonce".into(), current_nonce(svc).into());
        }
        // The pure rules on the claims alone, before anything is signed.
        check_rules(&claims, request);
        match client_key().sign_self_contained("dpop+jwt", &claims) {
            Ok(p) => p,
            Err(_) => return,
        }
    };
    let first = verify(svc, &proof, request).expect("the store answers");
    if let Ok(jkt) = &first {
        let (jwt, key) = keys::verify_self_signed(&proof, idp::flows::dpop::ALGS, "dpop+jwt")
            .expect("a proof that passed has a valid signature");
        assert_eq!(jkt, key.thumbprint());
        fitting(&jwt.claims, request, svc);
        // Single use: the same proof again is a replay (RFC 9449 11.1).
        let again = verify(svc, &proof, request).expect("the store answers");
        assert_eq!(
            again,
            Err(DpopError::Invalid("the proof was already used")),
            "a proof was accepted twice"
        );
    }
});

/// `domain::dpop::check` on bare claims; whenever it passes, the claims fit the request.
fn check_rules(claims: &Map<String, Value>, request: Request<'_>) {
    let url = format!("{}{}", provider::ISSUER, request.path);
    let current = current_nonce(provider::services());
    let nonce_ok = |n: &str| n == current;
    let expected = Expected {
        method: request.method,
        url: &url,
        now: provider::NOW,
        access_token: request.access_token,
        nonce: request
            .require_nonce
            .then_some(&nonce_ok as &dyn Fn(&str) -> bool),
    };
    if let Ok(fitted) = dpop::check(claims, &expected) {
        assert_eq!(
            Some(fitted.jti.as_str()),
            claims.get("jti").and_then(Value::as_str)
        );
        fitting(claims, request, provider::services());
    }
}

/// What RFC 9449 4.3 asks of a proof that was accepted for `request`.
fn fitting(claims: &Map<String, Value>, request: Request<'_>, svc: &idp::services::Services) {
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    assert_eq!(text("htm"), Some(request.method), "htm");
    let jti = text("jti").unwrap_or("");
    assert!(!jti.is_empty() && jti.len() <= 256, "jti {jti:?}");
    let iat = claims.get("iat").and_then(Value::as_i64).expect("iat");
    assert!(
        (provider::NOW - MAX_AGE_SECS..=provider::NOW + FUTURE_LEEWAY_SECS).contains(&iat),
        "iat {iat}"
    );
    let htu = url::Url::parse(text("htu").unwrap_or("")).expect("htu is a URL");
    let want = url::Url::parse(&format!("{}{}", provider::ISSUER, request.path)).expect("URL");
    assert_eq!(
        (
            htu.scheme(),
            htu.host_str(),
            htu.port_or_known_default(),
            htu.path()
        ),
        (
            want.scheme(),
            want.host_str(),
            want.port_or_known_default(),
            want.path()
        ),
        "htu"
    );
    if let Some(token) = request.access_token {
        assert_eq!(
            text("ath"),
            Some(keys::sha256_b64(token.as_bytes()).as_str())
        );
    }
    if request.require_nonce {
        assert_eq!(text("nonce"), Some(current_nonce(svc).as_str()));
    }
}
