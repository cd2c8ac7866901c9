//! Measures signing and verification throughput on one thread.
//! `cargo run --release -p keys --example sign_speed`
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use keys::{verify_jwt, Alg, KeySet, SigningKey};
use serde_json::json;

fn main() {
    let claims = json!({
        "iss": "https://idp.example.gov.cn", "sub": "3a8f0c2e-7d41-4b8e-9f0a-12c3d4e5f607",
        "aud": "client-123", "exp": 2_000_000_000, "iat": 1_999_999_000,
        "nonce": "n-0S6_WzA2Mj", "auth_time": 1_999_999_000, "acr": "urn:gov:loa:2",
    });
    let claims = claims.as_object().unwrap().clone();
    for (alg, n) in [(Alg::ES256, 20_000), (Alg::RS256, 2_000)] {
        let key = SigningKey::generate(alg).unwrap();
        let set = KeySet::new(vec![key.verifier()]);
        let start = Instant::now();
        let mut token = String::new();
        for _ in 0..n {
            token = key.sign_jwt("JWT", &claims).unwrap();
        }
        let sign = n as f64 / start.elapsed().as_secs_f64();
        let start = Instant::now();
        for _ in 0..n {
            verify_jwt(&token, &set, &[alg], None).unwrap();
        }
        let verify = n as f64 / start.elapsed().as_secs_f64();
        println!("{alg}: sign {sign:.0}/s, verify {verify:.0}/s (one thread, {n} each)");
    }
}
