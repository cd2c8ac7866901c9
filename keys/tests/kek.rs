#![allow(clippy::unwrap_used)]
//! The key-encryption key: sealing, file handling, derivation, redaction.

mod common;

use keys::{Kek, KeyError};

#[test]
fn seal_open_round_trip() {
    let kek = Kek::generate();
    let sealed = kek.seal(b"secret", b"ctx");
    assert_eq!(sealed.len(), 12 + 6 + 16);
    assert_eq!(kek.open(&sealed, b"ctx").unwrap().as_slice(), b"secret");
    // Fresh nonce each time.
    assert_ne!(kek.seal(b"secret", b"ctx"), sealed);
}

#[test]
fn wrong_kek_fails() {
    let sealed = Kek::generate().seal(b"secret", b"ctx");
    assert!(matches!(
        Kek::generate().open(&sealed, b"ctx"),
        Err(KeyError::Kek(_))
    ));
}

#[test]
fn tampered_ciphertext_fails() {
    let kek = Kek::generate();
    let sealed = kek.seal(b"secret", b"ctx");
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 1;
        assert!(
            matches!(kek.open(&t, b"ctx"), Err(KeyError::Kek(_))),
            "byte {i}"
        );
    }
    assert!(kek.open(&sealed[..sealed.len() - 1], b"ctx").is_err());
    assert!(kek.open(&sealed[..20], b"ctx").is_err());
    assert!(kek.open(&[], b"ctx").is_err());
}

#[test]
fn aad_mismatch_fails() {
    let kek = Kek::generate();
    let sealed = kek.seal(b"secret", b"kid-1");
    assert!(matches!(kek.open(&sealed, b"kid-2"), Err(KeyError::Kek(_))));
    assert!(kek.open(&sealed, b"").is_err());
}

#[test]
fn salted_sealing_uses_a_fresh_key_per_message() {
    let kek = Kek::generate();
    let sealed = kek.seal_salted(b"secret", b"ctx");
    assert_eq!(sealed.len(), 16 + 12 + 6 + 16);
    assert_eq!(
        kek.open_salted(&sealed, b"ctx").unwrap().as_slice(),
        b"secret"
    );
    // Not the plain construction under the same key: the salt picks another key.
    assert!(kek.open(&sealed[16..], b"ctx").is_err());
    assert_ne!(kek.seal_salted(b"secret", b"ctx")[..16], sealed[..16]);
    assert!(kek.open_salted(&sealed, b"other").is_err());
    assert!(Kek::generate().open_salted(&sealed, b"ctx").is_err());
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 1;
        assert!(kek.open_salted(&t, b"ctx").is_err(), "byte {i}");
    }
    assert!(kek.open_salted(&sealed[..43], b"ctx").is_err());
    assert!(kek.open_salted(&[], b"ctx").is_err());
}

#[test]
fn id_and_derive_are_deterministic_and_separated() {
    let kek = Kek::from_bytes([7; 32]);
    let same = Kek::from_bytes([7; 32]);
    assert_eq!(kek.id(), same.id());
    assert_eq!(kek.id().len(), 16);
    assert_ne!(kek.id(), Kek::from_bytes([8; 32]).id());
    assert_eq!(*kek.derive("csrf"), *same.derive("csrf"));
    assert_ne!(*kek.derive("csrf"), *kek.derive("id-number-lookup"));
    assert_ne!(kek.derive("csrf").as_slice(), &[7u8; 32]);
}

#[test]
fn derive_is_hmac_of_label() {
    use hmac::{Hmac, Mac};
    let kek = Kek::from_bytes([1; 32]);
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&[1; 32]).unwrap();
    mac.update(b"idp-subkey:csrf");
    assert_eq!(
        kek.derive("csrf").as_slice(),
        mac.finalize().into_bytes().as_slice()
    );
}

#[test]
fn debug_is_redacted() {
    let bytes = [0xab; 32];
    let kek = Kek::from_bytes(bytes);
    let dbg = format!("{kek:?} {kek:#?}");
    assert_eq!(format!("{kek:?}"), "Kek(<redacted>)");
    assert!(!dbg.contains(&common::hex(&bytes)));
    assert!(!dbg.contains(&common::b64(&bytes)));
    assert!(!dbg.contains("171")); // 0xab as a decimal array element
}

#[cfg(unix)]
#[test]
fn load_or_create_makes_private_file_and_reloads_same_key() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kek");
    let (kek, created) = Kek::load_or_create(&path).unwrap();
    assert!(created);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let (again, created) = Kek::load_or_create(&path).unwrap();
    assert!(!created);
    assert_eq!(kek.id(), again.id());
    assert_eq!(Kek::load(&path).unwrap().id(), kek.id());
    let sealed = kek.seal(b"x", b"");
    assert_eq!(again.open(&sealed, b"").unwrap().as_slice(), b"x");
    // No temp files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn load_accepts_raw_hex_and_base64() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let bytes: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
    let want = Kek::from_bytes(bytes).id();
    let b64 = base64::engine::general_purpose::STANDARD;
    let forms: Vec<Vec<u8>> = vec![
        bytes.to_vec(),
        common::hex(&bytes).into_bytes(),
        format!("{}\n", common::hex(&bytes)).into_bytes(),
        format!("{}\n", common::hex(&bytes).to_uppercase()).into_bytes(),
        b64.encode(bytes).into_bytes(),
        format!("{}\n", b64.encode(bytes)).into_bytes(),
        format!("{}\r\n", common::b64(&bytes)).into_bytes(),
    ];
    for (i, form) in forms.iter().enumerate() {
        let path = dir.path().join(format!("k{i}"));
        std::fs::write(&path, form).unwrap();
        assert_eq!(Kek::load(&path).unwrap().id(), want, "form {i}");
    }
}

#[test]
fn load_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in [&b""[..], &[1u8; 31], &[1u8; 33], b"zz", &[b'g'; 64]]
        .iter()
        .enumerate()
    {
        let path = dir.path().join(format!("bad{i}"));
        std::fs::write(&path, bad).unwrap();
        assert!(
            matches!(Kek::load(&path), Err(KeyError::Kek(_))),
            "case {i}"
        );
    }
    let missing = Kek::load(&dir.path().join("missing"));
    assert!(matches!(missing, Err(KeyError::Io(_))));
}

#[test]
fn load_or_create_race_yields_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kek");
    let results: Vec<(String, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let (k, created) = Kek::load_or_create(&path).unwrap();
                    (k.id(), created)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.1).count(), 1);
    assert!(results.iter().all(|r| r.0 == results[0].0));
    assert_eq!(Kek::load(&path).unwrap().id(), results[0].0);
}
