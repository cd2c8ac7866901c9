//! Errors of the producing side (issuer and wallet): bad input from our own callers, or a
//! key that cannot sign. A verifier's reasons are [`super::Refusal`].

use super::StatusListError;

/// Issuing, presenting or signing a status list failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdJwtError {
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error("claim {0:?} is reserved for the credential itself and cannot be a personal claim")]
    ReservedClaim(String),
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    #[error("the credential holds no claim {0:?}")]
    NotInCredential(String),
    #[error("trusted root certificate refused: {0}")]
    BadTrustedRoot(String),
    #[error(transparent)]
    StatusList(#[from] StatusListError),
}
