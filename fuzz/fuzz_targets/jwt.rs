//! Every JWT we accept goes through `keys::verify_jwt` (our own tokens, client assertions,
//! request objects, logout tokens) or `keys::verify_self_signed` (DPoP proofs, OpenID4VCI
//! proofs): hostile bytes must get an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static keys::KeySet {
    static KEYS: OnceLock<keys::KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let es = keys::SigningKey::generate(keys::Alg::ES256).expect("a key");
        keys::KeySet::new(vec![es.verifier()])
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = keys::peek_header(token);
    let _ = keys::verify_jwt(
        token,
        keys(),
        &[keys::Alg::ES256, keys::Alg::RS256],
        Some("at+jwt"),
    );
    let _ = keys::verify_jwt(token, keys(), &[keys::Alg::ES256], None);
    let _ = keys::verify_self_signed(token, &[keys::Alg::ES256, keys::Alg::RS256], "dpop+jwt");
});
