//! What the wallet reads from a verifier it does not know: the link of a QR code, the request
//! object behind it, and (on the verifier's side) the vp_token a wallet posts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_verifier::oid4vp::{parse_link, parse_request_object, Request};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_link(text);
    let _ = parse_request_object(text, "redirect_uri:https://counter.example/r");
    let _ = Request::presentation_in(text);
});
