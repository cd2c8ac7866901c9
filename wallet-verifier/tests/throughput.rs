#![allow(clippy::unwrap_used)]
//! The verifier's hot path: a cached chain leaves two ES256 checks per presentation.
//! Measure in release: `cargo test --release -p wallet-verifier --test throughput -- --nocapture`
//! (the >= 4,000/s per core target is asserted only there; a debug run is a smoke test).

mod common;

use std::time::Instant;

use common::*;
use wallet_verifier::sd_jwt::{present, StatusCheck};

#[test]
fn verifications_per_second_on_one_core() {
    let pki = Pki::new();
    let holder = holder();
    let verifier = pki.verifier();
    let issued = pki.issue(&holder, None);
    let presentation = present(&issued, &["姓名", "出生日期"], &holder, AUD, NONCE, NOW).unwrap();
    let e = expect(StatusCheck::Skip);
    verifier.verify(&presentation, &e).unwrap(); // warms the chain cache
    let n = 4000;
    let start = Instant::now();
    for _ in 0..n {
        verifier.verify(&presentation, &e).unwrap();
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    eprintln!(
        "{rate:.0} verifications/s on one core ({} bytes each)",
        presentation.len()
    );
    if !cfg!(debug_assertions) {
        assert!(rate >= 4000.0, "{rate:.0}/s is under the 4,000/s target");
    }
}
