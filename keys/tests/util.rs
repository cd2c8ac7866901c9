#![allow(clippy::unwrap_used)]
//! The small helpers in lib.rs.

use keys::{constant_time_eq, random_token, sha256_b64, Alg};

#[test]
fn random_token_is_base64url_and_fresh() {
    let a = random_token(32);
    assert_eq!(a.len(), 43);
    assert!(a
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(a, random_token(32));
    assert_eq!(random_token(0), "");
}

#[test]
fn sha256_b64_known_answer() {
    // SHA-256("abc") = ba7816bf..., base64url.
    assert_eq!(
        sha256_b64(b"abc"),
        "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
    );
}

#[test]
fn constant_time_eq_works() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
fn alg_names_and_serde() {
    assert_eq!(Alg::ES256.as_str(), "ES256");
    assert_eq!("RS256".parse::<Alg>().unwrap(), Alg::RS256);
    for bad in ["none", "es256", "HS256", "RS256 ", ""] {
        assert!(bad.parse::<Alg>().is_err(), "{bad}");
    }
    assert_eq!(serde_json::to_string(&Alg::ES256).unwrap(), "\"ES256\"");
    assert_eq!(
        serde_json::from_str::<Alg>("\"RS256\"").unwrap(),
        Alg::RS256
    );
    assert!(serde_json::from_str::<Alg>("\"none\"").is_err());
}
