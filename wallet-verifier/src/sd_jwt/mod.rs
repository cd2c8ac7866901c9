//! Electronic licences (电子证照) as SD-JWT VCs: the pure core shared by the issuer (`idp`),
//! the wallet and verifiers. No I/O and no clock: every check that needs time takes `now`
//! (unix seconds), and fetching status lists is the caller's job.
//!
//! - Issuing ([`issue`]): RFC 9901 SD-JWT with `typ` `dc+sd-jwt` (SD-JWT VC draft), ES256,
//!   the issuer's certificate chain in `x5c`; every top-level personal claim is a disclosure.
//! - Presenting ([`present`]): keep the chosen disclosures, add a KB-JWT (`kb+jwt`).
//! - Verifying ([`Verifier`]): strict compact form, ES256 only, `x5c` chain to a configured
//!   national root, disclosures per RFC 9901 7.1, validity, key binding, status list.
//!   The legacy `typ` `vc+sd-jwt` is refused: our issuers never wrote it, and accepting it
//!   would only widen what a verifier takes.
//! - Status lists ([`StatusList`], [`sign_status_list`],
//!   [`Verifier::verify_status_list_token`]): the Token Status List draft, 1/2/4/8 bits.

mod chain_cache;
mod claims;
mod compact;
mod disclosure;
mod error;
mod es256;
mod issue;
mod json;
mod jws;
mod key_binding;
mod nonce_book;
mod present;
mod reconstruct;
mod refusal;
mod status_list;
mod status_token;
mod verify;
mod x5c;

pub use disclosure::SD_ALG;
pub use error::SdJwtError;
pub use issue::{issue, Issue, StatusRef};
pub use nonce_book::NonceBook;
pub use present::{disclosed_names, key_binding, present};
pub use refusal::Refusal;
pub use status_list::{StatusList, StatusListError, INVALID, MAX_LIST_BYTES, SUSPENDED, VALID};
pub use status_token::{sign_status_list, StatusListToken, MAX_STATUS_LIST_TOKEN_LEN};
pub use verify::{Expect, StatusCheck, Verified, Verifier, MAX_PRESENTATION_LEN};

/// `typ` of an issuer-signed SD-JWT VC.
pub const SD_JWT_VC_TYP: &str = "dc+sd-jwt";
/// `typ` of a key binding JWT.
pub const KB_JWT_TYP: &str = "kb+jwt";
/// `typ` of a status list token.
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
