//! Device Authorization Grant rules (RFC 8628): user codes people can read and type, and what
//! a polling device is told.
use rand::Rng;

/// Consonants only (RFC 8628 6.1): no words, no 0/O or 1/I confusion. 20^8 ≈ 2^34.6 codes,
/// with guessing throttled on the verification page and codes living ten minutes.
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LEN: usize = 8;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Seconds between polls the device is asked to keep, and the step `slow_down` adds.
pub const INTERVAL_SECS: i64 = 5;
pub const LIFETIME_SECS: i64 = 600;

pub fn new_user_code() -> String {
    let mut rng = rand::thread_rng();
    (0..USER_CODE_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `BCDF-GHJK` for display.
pub fn display(code: &str) -> String {
    match code.len() {
        USER_CODE_LEN => format!("{}-{}", &code[..4], &code[4..]),
        _ => code.to_owned(),
    }
}

/// What a person typed, as stored: upper case, separators and spaces dropped; `None` when it
/// cannot be a user code (wrong length or characters).
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{3000}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Spent,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Spent => "spent",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "denied" => Status::Denied,
            "spent" => Status::Spent,
            _ => return None,
        })
    }
}

/// The answer to one poll of the token endpoint (RFC 8628 3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Issue the tokens.
    Approved,
    AuthorizationPending,
    /// Polled too fast: the interval grows by `INTERVAL_SECS` from now on.
    SlowDown,
    ExpiredToken,
    AccessDenied,
    /// Already exchanged: the code is spent (`invalid_grant`).
    Spent,
}

#[derive(Debug, Clone, Copy)]
pub struct PollState {
    pub status: Status,
    pub now: i64,
    pub expires_at: i64,
    pub last_poll_at: Option<i64>,
    pub interval_secs: i64,
}

pub fn poll(s: &PollState) -> Poll {
    if s.status == Status::Spent {
        return Poll::Spent;
    }
    if s.now >= s.expires_at {
        return Poll::ExpiredToken;
    }
    match s.status {
        Status::Denied => Poll::AccessDenied,
        Status::Approved => Poll::Approved,
        _ if s.last_poll_at.is_some_and(|t| s.now - t < s.interval_secs) => Poll::SlowDown,
        _ => Poll::AuthorizationPending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: Status, now: i64, last: Option<i64>) -> PollState {
        PollState {
            status,
            now,
            expires_at: 1600,
            last_poll_at: last,
            interval_secs: 5,
        }
    }

    #[test]
    fn every_polling_answer() {
        assert_eq!(
            poll(&state(Status::Pending, 1000, None)),
            Poll::AuthorizationPending
        );
        assert_eq!(
            poll(&state(Status::Pending, 1005, Some(1000))),
            Poll::AuthorizationPending
        );
        assert_eq!(
            poll(&state(Status::Pending, 1004, Some(1000))),
            Poll::SlowDown
        );
        assert_eq!(
            poll(&state(Status::Approved, 1001, Some(1000))),
            Poll::Approved
        );
        assert_eq!(
            poll(&state(Status::Denied, 1001, Some(1000))),
            Poll::AccessDenied
        );
        assert_eq!(
            poll(&state(Status::Pending, 1600, None)),
            Poll::ExpiredToken
        );
        assert_eq!(
            poll(&state(Status::Approved, 1600, None)),
            Poll::ExpiredToken
        );
        assert_eq!(poll(&state(Status::Spent, 1001, None)), Poll::Spent);
    }

    #[test]
    fn user_codes_are_typeable() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(normalise(&code).as_deref(), Some(code.as_str()));
            assert_eq!(
                normalise(&display(&code).to_lowercase()).as_deref(),
                Some(code.as_str())
            );
        }
        assert_eq!(normalise("bcdf ghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalise("BCDF-GHJ"), None, "too short");
        assert_eq!(normalise("BCDF-GHJA"), None, "a vowel is never in a code");
        assert_eq!(normalise("BCDF-GHJ0"), None);
        assert_eq!(display("BCDFGHJK"), "BCDF-GHJK");
    }
}
