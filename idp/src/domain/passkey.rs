//! Passkey rules that do not depend on WebAuthn plumbing: names, what an assertion says about
//! how the citizen was verified (RFC 8176 `amr`), and the stable error codes of the JSON API.
use serde_cbor_2::Value;

/// FIDO UVM registry: `USER_VERIFY_FINGERPRINT_INTERNAL`.
const UVM_FINGERPRINT_INTERNAL: i128 = 0x0000_0002;
/// Authenticator data flags (WebAuthn §6.1).
const FLAG_ATTESTED_DATA: u8 = 0x40;
const FLAG_EXTENSIONS: u8 = 0x80;
/// rpIdHash (32) + flags (1) + signCount (4).
const AUTH_DATA_HEADER: usize = 37;

pub const MAX_NAME_CHARS: usize = 40;

/// How recent the login must be to bind a passkey. A passkey logs in at the strong level, so a
/// session got with a phished password must not be able to add the thief's authenticator later.
pub const BIND_FRESHNESS_SECS: i64 = 300;

/// Whether a session that authenticated at `auth_time` may bind a passkey `now`.
pub fn may_bind(auth_time: i64, now: i64) -> bool {
    is_recent_login(auth_time, now)
}

/// A login of the last five minutes: what acts that a borrowed or stolen session must not do
/// (binding a passkey, erasing the account) ask for.
pub fn is_recent_login(auth_time: i64, now: i64) -> bool {
    (0..=BIND_FRESHNESS_SECS).contains(&(now - auth_time))
}

/// A passkey's display name: trimmed, 1–40 characters, no control characters.
pub fn valid_name(name: &str) -> Option<String> {
    let name = name.trim();
    let chars = name.chars().count();
    ((1..=MAX_NAME_CHARS).contains(&chars) && !name.chars().any(char::is_control))
        .then(|| name.to_owned())
}

/// The `amr` values of a passkey login with user verification: a hardware-held key (`hwk`),
/// the user verified by the authenticator (`user`), and `fpt` when the authenticator's `uvm`
/// extension says the verification was a fingerprint.
pub fn amr_for(authenticator_data: &[u8]) -> Vec<&'static str> {
    let mut amr = vec!["hwk", "user"];
    if verified_by_fingerprint(authenticator_data) {
        amr.push("fpt");
    }
    amr
}

fn verified_by_fingerprint(auth_data: &[u8]) -> bool {
    let Some(&flags) = auth_data.get(32) else {
        return false;
    };
    // Assertions carry no attested credential data, so extensions start right after the
    // header; anything else is not trusted to say how the user was verified.
    if flags & FLAG_EXTENSIONS == 0 || flags & FLAG_ATTESTED_DATA != 0 {
        return false;
    }
    let Some(ext) = auth_data.get(AUTH_DATA_HEADER..) else {
        return false;
    };
    let Ok(Value::Map(map)) = serde_cbor_2::from_slice::<Value>(ext) else {
        return false;
    };
    let Some(Value::Array(entries)) = map.get(&Value::Text("uvm".into())) else {
        return false;
    };
    entries.iter().any(|entry| match entry {
        Value::Array(fields) => matches!(
            fields.first(),
            Some(Value::Integer(method)) if method & UVM_FINGERPRINT_INTERNAL != 0
        ),
        _ => false,
    })
}

/// Why a passkey request was refused; `code()` is the stable `error` of the JSON API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyError {
    /// The provider has no WebAuthn relying party (its issuer host is not a domain).
    Unavailable,
    /// Binding a passkey needs a logged-in citizen.
    LoginRequired,
    /// The login is older than [`BIND_FRESHNESS_SECS`]: log in again to bind.
    ReauthenticationRequired,
    /// The body is not what the API expects.
    InvalidRequest,
    InvalidName,
    /// Unknown, already used or expired ceremony (a replayed challenge lands here).
    CeremonyExpired,
    /// The authenticator did not verify the user (no fingerprint, face or PIN).
    UserVerificationRequired,
    /// The browser reported an origin that is not ours (phishing page, wrong site).
    OriginMismatch,
    /// No such passkey: never bound here, or removed.
    UnknownCredential,
    /// The sign counter went backwards: the passkey may be cloned and is suspended.
    CredentialSuspended,
    /// The credential id is already bound.
    AlreadyRegistered,
    /// Signature, challenge or other check failed.
    VerificationFailed,
    /// The authorization request this login was for is gone.
    RequestExpired,
}

impl PasskeyError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Unavailable => "passkeys_unavailable",
            Self::LoginRequired => "login_required",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidName => "invalid_name",
            Self::CeremonyExpired => "ceremony_expired",
            Self::UserVerificationRequired => "user_verification_required",
            Self::OriginMismatch => "origin_mismatch",
            Self::UnknownCredential => "unknown_credential",
            Self::CredentialSuspended => "credential_suspended",
            Self::AlreadyRegistered => "already_registered",
            Self::VerificationFailed => "verification_failed",
            Self::RequestExpired => "request_expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn auth_data(flags: u8, extensions: Option<Value>) -> Vec<u8> {
        let mut data = vec![0u8; 32];
        data.push(flags);
        data.extend_from_slice(&7u32.to_be_bytes());
        if let Some(ext) = extensions {
            data.extend(serde_cbor_2::to_vec(&ext).expect("cbor"));
        }
        data
    }

    fn uvm(method: i128) -> Value {
        let mut map = BTreeMap::new();
        map.insert(
            Value::Text("uvm".into()),
            Value::Array(vec![Value::Array(vec![
                Value::Integer(method),
                Value::Integer(2),
                Value::Integer(2),
            ])]),
        );
        Value::Map(map)
    }

    #[test]
    fn fingerprint_reported_by_uvm_adds_fpt() {
        let data = auth_data(0x05 | FLAG_EXTENSIONS, Some(uvm(UVM_FINGERPRINT_INTERNAL)));
        assert_eq!(amr_for(&data), vec!["hwk", "user", "fpt"]);
    }

    #[test]
    fn other_or_missing_verification_methods_say_only_user() {
        // 0x4 is USER_VERIFY_PASSCODE_INTERNAL.
        let passcode = auth_data(0x05 | FLAG_EXTENSIONS, Some(uvm(0x4)));
        assert_eq!(amr_for(&passcode), vec!["hwk", "user"]);
        assert_eq!(amr_for(&auth_data(0x05, None)), vec!["hwk", "user"]);
        // Extension flag without a parseable map, or a truncated buffer: no claim of a fingerprint.
        let mut garbage = auth_data(0x05 | FLAG_EXTENSIONS, None);
        garbage.extend_from_slice(&[0xff, 0x00]);
        assert_eq!(amr_for(&garbage), vec!["hwk", "user"]);
        assert_eq!(amr_for(&[1, 2, 3]), vec!["hwk", "user"]);
        // The extension flag without the map, but with attested data set: not trusted.
        let attested = auth_data(
            0x05 | FLAG_EXTENSIONS | FLAG_ATTESTED_DATA,
            Some(uvm(UVM_FINGERPRINT_INTERNAL)),
        );
        assert_eq!(amr_for(&attested), vec!["hwk", "user"]);
    }

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(valid_name("  我的手机 ").as_deref(), Some("我的手机"));
        assert_eq!(valid_name(""), None);
        assert_eq!(valid_name("   "), None);
        assert_eq!(valid_name("a\u{0}b"), None);
        assert_eq!(
            valid_name(&"指".repeat(40)).as_deref(),
            Some(&*"指".repeat(40))
        );
        assert_eq!(valid_name(&"指".repeat(41)), None);
    }
}
