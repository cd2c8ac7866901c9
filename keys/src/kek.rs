//! The key-encryption key: one AES-256-GCM key, kept outside the database, that
//! seals every private key and secret the database stores. Also the root from
//! which purpose-specific subkeys are derived (HMAC-SHA256), so one file is the
//! only secret an operator has to protect.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

use crate::KeyError;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const SALT_LEN: usize = 16;

/// AES-256-GCM key-encryption key. Wiped from memory on drop; never printed.
#[derive(Clone)]
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    pub fn from_bytes(mut bytes: [u8; 32]) -> Kek {
        let kek = Kek {
            key: Zeroizing::new(bytes),
        };
        // `bytes` was a copy on our stack: wipe it too.
        bytes.zeroize();
        kek
    }

    /// A new random KEK from the OS RNG.
    pub fn generate() -> Kek {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        Kek { key }
    }

    /// Reads a KEK file: 32 raw bytes, or 64 hex digits, or base64 (standard or
    /// url-safe, padded or not) of 32 bytes; surrounding whitespace is ignored
    /// for the text forms.
    pub fn load(path: &Path) -> Result<Kek, KeyError> {
        let data = Zeroizing::new(std::fs::read(path)?);
        Self::parse(&data)
    }

    /// Loads the KEK file, or creates it (mode 0600 on unix) with a new random
    /// key when it does not exist. Returns `created = true` in that case.
    /// Safe against two replicas starting at once: the file appears atomically
    /// with its full contents, and the loser of the race loads the winner's key.
    pub fn load_or_create(path: &Path) -> Result<(Kek, bool), KeyError> {
        match Self::load(path) {
            Ok(kek) => return Ok((kek, false)),
            Err(KeyError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let kek = Kek::generate();
        let mut text = Zeroizing::new(hex(kek.key.as_ref()));
        text.push('\n');
        // Write a private temp file next to the target, then hard-link it into
        // place: `hard_link` fails if the target exists, so we never overwrite a
        // key another process created, and readers never see a partial file.
        let tmp = path.with_file_name(format!(
            ".{}.tmp-{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("kek"),
            crate::random_token(6)
        ));
        let result = (|| {
            let mut file = create_private(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::hard_link(&tmp, path)
        })();
        let _ = std::fs::remove_file(&tmp);
        match result {
            Ok(()) => {
                sync_parent(path);
                Ok((kek, true))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok((Self::load(path)?, false))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Public identifier of this KEK (16 hex digits), stored next to everything
    /// it seals so a wrong or rotated KEK is reported clearly instead of as
    /// "tampered data". Reveals nothing about the key (one-way, domain-separated).
    pub fn id(&self) -> String {
        let mac = self.hmac(b"kek-id");
        hex(&Sha256::digest(mac.as_ref())[..8])
    }

    /// AES-256-GCM with a random 96-bit nonce: `nonce || ciphertext || tag`.
    /// `aad` binds the ciphertext to its context (e.g. the kid), so a sealed
    /// blob cannot be moved to another row.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        // Encryption with a valid key and in-memory buffers cannot fail
        // (only plaintexts over ~64 GiB would); keep the signature infallible.
        if let Ok(ct) = self.cipher().encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        ) {
            out.extend_from_slice(&ct);
        }
        out
    }

    /// Opens what [`Kek::seal`] produced with the same `aad`. Fails with
    /// [`KeyError::Kek`] for a wrong KEK, a wrong `aad` or any modified byte.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(KeyError::Kek("sealed data is too short".into()));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| {
                KeyError::Kek(
                    "cannot open sealed data: wrong KEK, wrong context or tampered".into(),
                )
            })
    }

    /// Like [`Kek::seal`], for a key that seals without bound (one value per login, say):
    /// each message gets its own key, HMAC(key, random 128-bit salt). Random 96-bit GCM nonces
    /// are safe for about 2^32 messages per key (NIST SP 800-38D 8.3), which a national
    /// provider would pass within weeks; per salt the bound is never approached.
    /// Output: `salt || nonce || ciphertext || tag`.
    pub fn seal_salted(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut salt = [0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let sealed = self.salted(&salt).seal(plaintext, aad);
        let mut out = Vec::with_capacity(SALT_LEN + sealed.len());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`Kek::seal_salted`] produced with the same `aad`.
    pub fn open_salted(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < SALT_LEN + NONCE_LEN + TAG_LEN {
            return Err(KeyError::Kek("sealed data is too short".into()));
        }
        let (salt, rest) = sealed.split_at(SALT_LEN);
        self.salted(salt).open(rest, aad)
    }

    /// The per-message key of [`Kek::seal_salted`]; its label cannot collide with
    /// [`Kek::derive`]'s.
    fn salted(&self, salt: &[u8]) -> Kek {
        let mut label = Vec::with_capacity(11 + salt.len());
        label.extend_from_slice(b"idp-salted:");
        label.extend_from_slice(salt);
        Kek {
            key: self.hmac(&label),
        }
    }

    /// An independent 32-byte subkey for `purpose` (e.g. "csrf",
    /// "id-number-lookup", "id-number-encryption"):
    /// HMAC-SHA256(kek, "idp-subkey:" + purpose). Knowing one subkey reveals
    /// neither the KEK nor any other subkey.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut label = Vec::with_capacity(11 + purpose.len());
        label.extend_from_slice(b"idp-subkey:");
        label.extend_from_slice(purpose.as_bytes());
        self.hmac(&label)
    }

    fn hmac(&self, msg: &[u8]) -> Zeroizing<[u8; 32]> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(msg);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.key.as_ref().into())
    }

    fn parse(data: &[u8]) -> Result<Kek, KeyError> {
        let bad =
            || KeyError::Kek("KEK file must hold 32 bytes: raw, 64 hex digits or base64".into());
        if data.len() == 32 {
            let mut key = [0u8; 32];
            key.copy_from_slice(data);
            return Ok(Kek::from_bytes(key));
        }
        let text = std::str::from_utf8(data).map_err(|_| bad())?.trim();
        if let Some(key) = unhex32(text) {
            return Ok(Kek { key });
        }
        let engines = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD];
        let decoded = Zeroizing::new(
            engines
                .iter()
                .find_map(|e| e.decode(text).ok())
                .ok_or_else(bad)?,
        );
        let key: [u8; 32] = decoded.as_slice().try_into().map_err(|_| bad())?;
        Ok(Kek::from_bytes(key))
    }
}

/// Lower-case hex. One spare byte of capacity so the caller can add a newline
/// without a reallocation leaving a copy of the key in freed memory.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2 + 1);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// 64 hex digits to 32 bytes, written straight into a wiped buffer.
fn unhex32(s: &str) -> Option<Zeroizing<[u8; 32]>> {
    fn nibble(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (o, p) in out.iter_mut().zip(b.chunks_exact(2)) {
        *o = nibble(p[0])? << 4 | nibble(p[1])?;
    }
    Some(out)
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Makes the new directory entry durable (best effort: not all platforms allow it).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
