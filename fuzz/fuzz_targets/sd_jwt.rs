//! A presentation as a counter receives it (扫码亮证): compact SD-JWT with disclosures and a
//! key-binding JWT, verified against a root. Twice: the raw input, and the input's disclosures
//! and key-binding JWT behind a genuinely signed issuer JWT whose `_sd` lists their digests, so
//! the fuzzer reaches disclosure decoding, reconstruction and key binding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_verifier::sd_jwt::{disclosed_names, Expect, StatusCheck};

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(presentation) = std::str::from_utf8(data) else {
        return;
    };
    let expect = Expect {
        nonce: common::NONCE,
        audience: common::AUD,
        now: common::NOW,
        max_age_secs: 300,
        status: StatusCheck::Skip,
    };
    let _ = common::verifier().verify(presentation, &expect);
    if let Some(signed) = common::behind_real_issuer(presentation) {
        let _ = common::verifier().verify(&signed, &expect);
    }
    let _ = disclosed_names(presentation);
    let _ = wallet_verifier::licences::holder_nonce(presentation);
});
