#![allow(clippy::unwrap_used)]
//! The Token Status List codec and status list tokens.

mod common;

use std::io::Write as _;

use common::*;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use wallet_verifier::sd_jwt::{
    sign_status_list, StatusList, StatusListError, INVALID, MAX_LIST_BYTES, VALID,
};

#[test]
fn two_bit_values_round_trip_over_random_indices() {
    let mut rng = StdRng::seed_from_u64(2026);
    let len = 100_003; // not a multiple of 4: the last byte is partly used
    let mut list = StatusList::new(2, len).unwrap();
    let mut truth = vec![0u8; len as usize];
    for _ in 0..50_000 {
        let idx = rng.gen_range(0..len);
        let value = rng.gen_range(0..4u8);
        list.set(idx, value).unwrap();
        truth[idx as usize] = value;
    }
    let check = |list: &StatusList| {
        for (i, want) in truth.iter().enumerate() {
            assert_eq!(list.get(i as u64), Some(*want), "index {i}");
        }
    };
    check(&list);
    assert_eq!(list.get(len), None);
    let back = StatusList::from_lst(2, &list.to_lst().unwrap()).unwrap();
    // Decoded lists hold as many entries as their bytes can.
    assert_eq!(back.len(), len.div_ceil(4) * 4);
    check(&back);
    for bits in [1u8, 4, 8] {
        let mut l = StatusList::new(bits, 1000).unwrap();
        let max = ((1u16 << bits) - 1) as u8;
        l.set(999, max).unwrap();
        l.set(0, 1).unwrap();
        let b = StatusList::from_lst(bits, &l.to_lst().unwrap()).unwrap();
        assert_eq!(
            (b.get(0), b.get(999), b.get(500)),
            (Some(1), Some(max), Some(VALID))
        );
    }
}

#[test]
fn ten_million_entries_with_one_percent_revoked_stay_small() {
    let mut rng = StdRng::seed_from_u64(7);
    let len = 10_000_000u64;
    let mut list = StatusList::new(2, len).unwrap();
    for _ in 0..len / 100 {
        list.set(rng.gen_range(0..len), INVALID).unwrap();
    }
    let lst = list.to_lst().unwrap();
    eprintln!(
        "10,000,000 x 2-bit entries, 1% revoked: {} bytes raw, lst {} bytes (base64url)",
        list.bytes().len(),
        lst.len()
    );
    assert_eq!(list.bytes().len(), 2_500_000);
    assert!(lst.len() < 1_000_000, "lst is {} bytes", lst.len());
    let back = StatusList::from_lst(2, &lst).unwrap();
    assert_eq!(back.bytes(), list.bytes());
}

#[test]
fn zip_bombs_and_garbage_are_refused() {
    // 17 MiB of zeros compress to about 17 KB.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(&vec![0u8; MAX_LIST_BYTES + 1024 * 1024])
        .unwrap();
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 100_000);
    assert_eq!(
        StatusList::from_lst(2, &b64url(&bomb)),
        Err(StatusListError::TooLarge)
    );
    // Exactly at the bound is fine.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(&vec![0u8; MAX_LIST_BYTES]).unwrap();
    assert!(StatusList::from_lst(8, &b64url(&z.finish().unwrap())).is_ok());

    let list = StatusList::new(1, 64).unwrap();
    let good = b64url_decode(&list.to_lst().unwrap());
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    let truncated = &good[..good.len() - 2];
    for garbage in [
        "!!!".to_string(),
        "eNrbuRgAAhcBXQ==".to_string(), // padded base64
        b64url(b"plainly not zlib"),
        b64url(&trailing),
        b64url(truncated),
        String::new(),
    ] {
        assert!(
            StatusList::from_lst(1, &garbage).is_err(),
            "accepted {garbage:?}"
        );
    }
    assert_eq!(
        StatusList::from_lst(3, &list.to_lst().unwrap()),
        Err(StatusListError::BadBits(3))
    );
}

#[test]
fn status_list_token_verifies() {
    let pki = Pki::new();
    let mut list = StatusList::new(2, 4096).unwrap();
    list.set(42, INVALID).unwrap();
    let token = pki.status_token(&list);
    let header = keys::peek_header(&token).unwrap();
    assert_eq!(header["typ"], "statuslist+jwt");
    assert_eq!(header["alg"], "ES256");
    let verified = pki
        .verifier()
        .verify_status_list_token(&token, STATUS_URI, NOW)
        .unwrap();
    assert_eq!(verified.uri, STATUS_URI);
    assert_eq!(verified.list, list);
    assert_eq!(verified.list.get(42), Some(INVALID));
    assert_eq!(
        (verified.iat, verified.exp, verified.ttl),
        (NOW - 60, Some(NOW + 3600), Some(600))
    );
}

#[test]
fn status_list_token_refusals() {
    let pki = Pki::new();
    let list = StatusList::new(1, 64).unwrap();
    let verifier = pki.verifier();
    let refused = |token: &str, uri: &str, now: i64| {
        verifier
            .verify_status_list_token(token, uri, now)
            .unwrap_err()
            .code()
    };
    // Signed under another root.
    let stranger = Pki::new();
    assert_eq!(
        refused(&stranger.status_token(&list), STATUS_URI, NOW),
        "untrusted_root"
    );
    let token = pki.status_token(&list);
    assert_eq!(
        refused(&token, "https://hub.gov.cn.example/status/9", NOW),
        "wrong_subject"
    );
    assert_eq!(
        refused(&token, STATUS_URI, NOW + 3600),
        "status_list_expired"
    );
    // A credential is not a status list.
    let holder = holder();
    let credential = pki.issue(&holder, None);
    let (jwt, _) = split(&credential);
    assert_eq!(refused(&jwt, STATUS_URI, NOW), "wrong_typ");
    // A tampered list fails the signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut claims = payload(&token);
    claims["status_list"]["bits"] = 2.into();
    parts[1] = b64url(serde_json::Value::Object(claims).to_string().as_bytes());
    assert_eq!(
        refused(&parts.join("."), STATUS_URI, NOW),
        "bad_issuer_signature"
    );
    // An unsigned bomb never gets inflated: the signature is checked first, and a signed
    // one is refused by size.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    z.write_all(&vec![0u8; MAX_LIST_BYTES + 1]).unwrap();
    let mut claims = payload(&token);
    claims["status_list"]["lst"] = b64url(&z.finish().unwrap()).into();
    let bomb = pki
        .issuer_key
        .sign_jwt_with_header("statuslist+jwt", &x5c(&pki.chain()), &claims)
        .unwrap();
    assert_eq!(refused(&bomb, STATUS_URI, NOW), "bad_status_list");
    // The issuer refuses to sign nonsense.
    assert!(sign_status_list(&pki.issuer_key, &[], STATUS_URI, &list, NOW, None, None).is_err());
    assert!(sign_status_list(
        &pki.issuer_key,
        &pki.chain(),
        STATUS_URI,
        &list,
        NOW,
        Some(NOW),
        None
    )
    .is_err());
}
