//! Password hashing with Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::sync::OnceLock;

fn our_params() -> Params {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1.
    Params::new(19_456, 2, 1, None).unwrap_or_default()
}

thread_local! {
    /// Argon2id's 19 MiB of working memory, kept by each hashing thread and reused. Allocated
    /// per hash, glibc served it from the thread's malloc arena after the first one and kept
    /// each arena at about 58 MB. Nothing in it after a hash shortens a guess: with two passes
    /// every block left over was computed from the whole first pass.
    static WORK: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 with `params`, computing into `out` with this thread's working memory.
fn hash_into(params: Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut compute = |work: &mut [Block]| {
        argon2
            .hash_password_into_with_memory(password, salt, out, work)
            .is_ok()
    };
    if blocks > our_params().block_count() {
        // A hash stored at larger parameters: its memory is not kept.
        return compute(&mut vec![Block::default(); blocks]);
    }
    WORK.with(|work| {
        let mut work = work.borrow_mut();
        if work.len() < blocks {
            *work = vec![Block::default(); blocks];
        }
        compute(&mut work[..blocks])
    })
}

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 256;
/// The most memory a stored hash may ask of a verification (256 MiB).
const MAX_STORED_M_KIB: u32 = 262_144;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("a password has at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("password hashing failed")]
    Hashing,
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_LENGTH {
        return Err(PasswordError::TooLong);
    }
    let salt = SaltString::generate(&mut OsRng);
    let params = our_params();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|_| PasswordError::Hashing)?;
    let hash = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        if hash_into(params.clone(), password.as_bytes(), salt_bytes, out) {
            Ok(())
        } else {
            Err(argon2::password_hash::Error::Crypto)
        }
    })
    .map_err(|_| PasswordError::Hashing)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| PasswordError::Hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Verifies a password. With no stored hash (unknown account) it still spends one full hash,
/// so an unknown account and a wrong password take the same time.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("dummy password for timing").unwrap_or_default());
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (dummy.as_str(), false),
    };
    let bounded = password.len() <= MAX_LENGTH * 4;
    let ok = matches_phc(password.as_bytes(), phc);
    ok && real && bounded
}

/// Recomputes a stored Argon2id PHC string's hash for `password` and compares in constant time.
fn matches_phc(password: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(u32::from(Version::V0x13))
    {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    // A stored string asking for more memory than any parameters this provider ever used is
    // damaged (or planted): refuse it rather than allocate what it asks.
    if params.m_cost() > MAX_STORED_M_KIB {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut computed = vec![0u8; expected.len()];
    // `Output`'s equality is constant-time.
    hash_into(params, password, salt_bytes, &mut computed)
        && Output::new(&computed).is_ok_and(|c| c == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("dummy password for timing", None));
        assert_eq!(hash("short"), Err(PasswordError::TooShort));
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, our_params());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = reference
            .hash_password(b"correct horse battery", &salt)
            .expect("reference hash")
            .to_string();
        assert!(verify("correct horse battery", Some(&theirs)));
        assert!(!verify("correct horse batterY", Some(&theirs)));
        let ours = hash("correct horse battery").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(reference
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(reference.verify_password(b"wrong", &parsed).is_err());
    }

    #[test]
    fn other_parameters_and_malformed_strings_are_handled() {
        use argon2::password_hash::PasswordHasher;
        // Stored at smaller (older) parameters: still verifies, on a buffer of its own size.
        let small = Params::new(8_192, 1, 1, None).expect("params");
        let salt = SaltString::generate(&mut OsRng);
        let older = Argon2::new(Algorithm::Argon2id, Version::V0x13, small)
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(verify("correct horse battery", Some(&older)));
        // An Argon2i string, a truncated string and garbage never match.
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, our_params())
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(!verify("correct horse battery", Some(&argon2i)));
        let ours = hash("correct horse battery").expect("hash");
        assert!(!verify(
            "correct horse battery",
            Some(&ours[..ours.len() - 4])
        ));
        assert!(!verify(
            "correct horse battery",
            Some("$argon2id$v=19$garbage")
        ));
        assert!(!verify("correct horse battery", Some("")));
        // A genuine hash, but at more memory than a verification may take: refused unread.
        let greedy = Params::new(MAX_STORED_M_KIB + 8, 1, 1, None).expect("params");
        let greedy = Argon2::new(Algorithm::Argon2id, Version::V0x13, greedy)
            .hash_password(b"correct horse battery", &salt)
            .expect("hash")
            .to_string();
        assert!(!verify("correct horse battery", Some(&greedy)));
    }
}
