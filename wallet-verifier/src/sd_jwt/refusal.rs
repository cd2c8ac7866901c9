//! Why a verifier refused a licence presentation or a status list. Each reason has a stable
//! machine code (for APIs, metrics and tests) and a precise English message. No message ever
//! holds a claim value: those are personal data. Strings echoed from the input (alg, typ,
//! claim names, URIs) are cut short so a hostile token cannot flood a log.

/// A refused presentation or status list token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    #[error("the token is larger than the limit of {max} bytes")]
    TooLarge { max: usize },
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("the presentation has no key binding JWT: the holder must prove possession of the credential's key")]
    MissingKeyBinding,
    #[error("signature algorithm {0:?} is not accepted (ES256 only for issuers; ES256 or RS256 matching cnf.jwk for holders)")]
    UnsupportedAlg(String),
    #[error("token type (typ) {found:?} is not the expected {expected:?}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("header parameter {0:?} is not allowed")]
    ForbiddenHeader(&'static str),
    #[error("issuer certificate chain refused: {0}")]
    BadCertificate(&'static str),
    #[error("certificate {0} of the x5c chain is self-signed; the chain must stop below the trusted root, which is never sent")]
    SelfSignedCertificate(usize),
    #[error("certificate {0} of the x5c chain is not signed by the certificate after it")]
    BrokenChain(usize),
    #[error("the x5c chain does not lead to a trusted root")]
    UntrustedRoot,
    #[error("certificate {0} of the x5c chain (or the root, if it is the last) is not valid at the verification time")]
    CertificateNotValidNow(usize),
    #[error("certificate {index} of the x5c chain may not be used this way: {reason}")]
    CertificateMisuse { index: usize, reason: &'static str },
    #[error("the issuer signature does not verify with the key of the leaf certificate")]
    BadIssuerSignature,
    #[error("the credential's iss {0:?} is not named in the leaf certificate's subject alternative names")]
    IssuerNotInCertificate(String),
    #[error("_sd_alg {0:?} is not supported (sha-256 only)")]
    UnsupportedSdAlg(String),
    #[error("malformed disclosure: {0}")]
    BadDisclosure(&'static str),
    #[error("a disclosure is not part of this credential: its digest is not in the issuer-signed JWT (tampered, or taken from another credential)")]
    UnknownDisclosure,
    #[error("the same disclosure is sent twice")]
    DuplicateDisclosure,
    #[error("a digest appears more than once in the issuer-signed JWT")]
    DuplicateDigest,
    #[error("disclosed claim {0:?} collides with a claim of the same name")]
    ClaimCollision(String),
    #[error("claim {0:?} may not be selectively disclosed")]
    ReservedClaimDisclosed(String),
    #[error("required claim {0:?} is missing")]
    MissingClaim(&'static str),
    #[error("claim {0:?} has an invalid value")]
    InvalidClaim(&'static str),
    #[error("the credential expired at {exp} (now {now})")]
    Expired { exp: i64, now: i64 },
    #[error("the credential is not valid before {nbf} (now {now})")]
    NotYetValid { nbf: i64, now: i64 },
    #[error("the token was issued in the future ({iat}, now {now})")]
    IssuedInFuture { iat: i64, now: i64 },
    #[error("the holder key in cnf.jwk is not usable")]
    BadHolderKey,
    #[error("the key binding JWT is not signed by the credential's holder key")]
    WrongHolderKey,
    #[error("the key binding JWT has no nonce")]
    MissingNonce,
    #[error("the key binding JWT's nonce is not the one this verifier issued")]
    WrongNonce,
    #[error("the key binding JWT is addressed to another audience")]
    WrongAudience,
    #[error("the key binding JWT was made at {iat}, more than {max_age} s before now ({now})")]
    StaleKeyBinding { iat: i64, max_age: i64, now: i64 },
    #[error("the key binding JWT was made in the future ({iat}, now {now})")]
    KeyBindingInFuture { iat: i64, now: i64 },
    #[error(
        "the key binding JWT's sd_hash does not match the presented credential and disclosures"
    )]
    SdHashMismatch,
    #[error("this nonce was already used or has expired: the presentation is a replay")]
    ReplayedNonce,
    #[error("the credential has been revoked")]
    Revoked,
    #[error("the credential is suspended")]
    Suspended,
    #[error("the status list holds the unknown status value {0}")]
    UnknownStatus(u8),
    #[error("the status list given is for {given:?}, but the credential refers to {expected:?}")]
    StatusListMismatch { expected: String, given: String },
    #[error("the credential's status index {0} is outside the status list")]
    StatusIndexOutOfRange(u64),
    #[error("the status list expired at {exp} (now {now}); fetch a fresh one")]
    StatusListExpired { exp: i64, now: i64 },
    #[error("the status list token's sub {found:?} is not the requested uri {expected:?}")]
    WrongSubject { expected: String, found: String },
    #[error("bad status list: {0}")]
    BadStatusList(&'static str),
    /// The issuer's status list could not be fetched and no cached copy is recent enough.
    #[error("the licence's status cannot be checked: {0}")]
    StatusUnavailable(String),
}

impl Refusal {
    /// A stable snake_case code for machines (API error bodies, metrics, tests).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Malformed(_) => "malformed",
            Refusal::MissingKeyBinding => "missing_key_binding",
            Refusal::UnsupportedAlg(_) => "unsupported_alg",
            Refusal::WrongType { .. } => "wrong_typ",
            Refusal::ForbiddenHeader(_) => "forbidden_header",
            Refusal::BadCertificate(_) => "bad_certificate",
            Refusal::SelfSignedCertificate(_) => "self_signed_certificate",
            Refusal::BrokenChain(_) => "broken_chain",
            Refusal::UntrustedRoot => "untrusted_root",
            Refusal::CertificateNotValidNow(_) => "certificate_not_valid_now",
            Refusal::CertificateMisuse { .. } => "certificate_misuse",
            Refusal::BadIssuerSignature => "bad_issuer_signature",
            Refusal::IssuerNotInCertificate(_) => "issuer_not_in_certificate",
            Refusal::UnsupportedSdAlg(_) => "unsupported_sd_alg",
            Refusal::BadDisclosure(_) => "bad_disclosure",
            Refusal::UnknownDisclosure => "unknown_disclosure",
            Refusal::DuplicateDisclosure => "duplicate_disclosure",
            Refusal::DuplicateDigest => "duplicate_digest",
            Refusal::ClaimCollision(_) => "claim_collision",
            Refusal::ReservedClaimDisclosed(_) => "reserved_claim_disclosed",
            Refusal::MissingClaim(_) => "missing_claim",
            Refusal::InvalidClaim(_) => "invalid_claim",
            Refusal::Expired { .. } => "expired",
            Refusal::NotYetValid { .. } => "not_yet_valid",
            Refusal::IssuedInFuture { .. } => "issued_in_future",
            Refusal::BadHolderKey => "bad_holder_key",
            Refusal::WrongHolderKey => "wrong_holder_key",
            Refusal::MissingNonce => "missing_nonce",
            Refusal::WrongNonce => "wrong_nonce",
            Refusal::WrongAudience => "wrong_audience",
            Refusal::StaleKeyBinding { .. } => "stale_key_binding",
            Refusal::KeyBindingInFuture { .. } => "key_binding_in_future",
            Refusal::SdHashMismatch => "sd_hash_mismatch",
            Refusal::ReplayedNonce => "replayed_nonce",
            Refusal::Revoked => "revoked",
            Refusal::Suspended => "suspended",
            Refusal::UnknownStatus(_) => "unknown_status",
            Refusal::StatusListMismatch { .. } => "status_list_mismatch",
            Refusal::StatusIndexOutOfRange(_) => "status_index_out_of_range",
            Refusal::StatusListExpired { .. } => "status_list_expired",
            Refusal::WrongSubject { .. } => "wrong_subject",
            Refusal::BadStatusList(_) => "bad_status_list",
            Refusal::StatusUnavailable(_) => "status_unavailable",
        }
    }
}

/// At most 64 characters of an attacker-chosen string, for a message.
pub(crate) fn echo(s: &str) -> String {
    s.chars().take(64).collect()
}
