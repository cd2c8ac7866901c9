//! Licence figures, in this process (no server): verifications per second of the verifier
//! library on one core (the chain cached, as a running verifier has it), credentials signed per
//! second on one core, and a Token Status List of `entries` entries with 1% revoked: its
//! compressed size, and the time to decode it and to look an entry up.
use rand::Rng as _;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};
use wallet_verifier::sd_jwt::{self, Expect, Issue, StatusCheck, StatusList, StatusRef, Verifier};

pub struct LicenceFigures {
    pub verifications_per_sec: f64,
    pub issued_per_sec: f64,
    pub presentation_bytes: usize,
    pub list_entries: u64,
    pub list_lst_bytes: usize,
    pub list_decode_ms: f64,
    pub list_lookup_ns: f64,
}

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://counter.example";

/// Runs `f` repeatedly for `for_how_long` on this thread; calls per second.
fn rate(for_how_long: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < for_how_long {
        for _ in 0..50 {
            f();
        }
        n += 50;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

pub fn measure(for_how_long: Duration, list_entries: u64) -> LicenceFigures {
    let root_key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let root = keys::root_certificate(&root_key, "bench root", NOW - 3600, NOW + 86_400).unwrap();
    let issuer_key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let leaf = keys::issuer_certificate(
        &root_key,
        &root,
        "bench issuer",
        "https://idp.example",
        &issuer_key.verifier(),
        NOW - 3600,
        NOW + 86_400,
    )
    .unwrap();
    let x5c = vec![leaf];
    let holder = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let holder_jwk = holder.public_jwk();
    let claims: Map<String, Value> = json!({"name": "张三", "sex": "男", "birth_date": "1980-01-01",
        "address": "北京市西城区", "id_number": "11010519491231002X", "issuing_authority": "北京市公安局"})
    .as_object()
    .unwrap()
    .clone();
    let request = Issue {
        signer: &issuer_key,
        x5c: &x5c,
        iss: "https://idp.example",
        vct: "urn:cn:gov:licence:resident-id:1",
        iat: NOW,
        nbf: None,
        exp: NOW + 3600,
        holder_jwk: &holder_jwk,
        status: Some(StatusRef {
            uri: "https://idp.example/status-lists/a".into(),
            idx: 7,
        }),
        claims: &claims,
    };
    let issued_per_sec = rate(for_how_long, || {
        sd_jwt::issue(&request).unwrap();
    });
    let credential = sd_jwt::issue(&request).unwrap();
    let presentation =
        sd_jwt::present(&credential, &["name", "birth_date"], &holder, AUD, "n", NOW).unwrap();
    let verifier = Verifier::new(vec![root]).unwrap();
    let expect = Expect {
        nonce: "n",
        audience: AUD,
        now: NOW,
        max_age_secs: 300,
        status: StatusCheck::Skip,
    };
    verifier.verify(&presentation, &expect).unwrap();
    let verifications_per_sec = rate(for_how_long, || {
        verifier.verify(&presentation, &expect).unwrap();
    });

    let mut list = StatusList::new(2, list_entries).unwrap();
    let mut rng = rand::rngs::OsRng;
    for _ in 0..list_entries / 100 {
        list.set(rng.gen_range(0..list_entries), sd_jwt::INVALID)
            .unwrap();
    }
    let lst = list.to_lst().unwrap();
    let start = Instant::now();
    let decoded = StatusList::from_lst(2, &lst).unwrap();
    let list_decode_ms = start.elapsed().as_secs_f64() * 1000.0;
    let probes: Vec<u64> = (0..1_000_000)
        .map(|_| rng.gen_range(0..list_entries))
        .collect();
    let start = Instant::now();
    let mut revoked = 0u64;
    for &i in &probes {
        revoked += u64::from(decoded.get(i) == Some(sd_jwt::INVALID));
    }
    let list_lookup_ns = start.elapsed().as_nanos() as f64 / probes.len() as f64;
    assert!(revoked > 0, "1% of the probes hit revoked entries");
    LicenceFigures {
        verifications_per_sec,
        issued_per_sec,
        presentation_bytes: presentation.len(),
        list_entries,
        list_lst_bytes: lst.len(),
        list_decode_ms,
        list_lookup_ns,
    }
}
