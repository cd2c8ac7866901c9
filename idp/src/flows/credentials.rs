//! Turns a licence from the registry into an SD-JWT VC for its holder's wallet key: every
//! personal claim selectively disclosable, the status list entry attached, signed by the
//! licence issuer with its certificate chain.
use super::licences::OpenLicence;
use super::Infra;
use crate::domain::licence::LicenceState;
use crate::services::Services;
use serde_json::{Map, Value};
use wallet_verifier::sd_jwt::{issue, Issue, StatusRef};

/// A credential lives at most this long; the wallet fetches a fresh one afterwards, which keeps
/// verifiers' offline checks honest even for a licence valid for twenty years.
pub const MAX_CREDENTIAL_SECS: i64 = 365 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the licence is {0}")]
    NotActive(&'static str),
    #[error("the licence has expired")]
    Expired,
    #[error("this node no longer issues licences of that type")]
    UnknownType,
    #[error("the wallet's key is not a usable public key")]
    BadHolderKey,
}

pub fn credential(
    svc: &Services,
    licence: &OpenLicence,
    holder_jwk: &Map<String, Value>,
) -> Result<Result<String, CredentialError>, Infra> {
    let now = svc.now();
    let row = &licence.row;
    match LicenceState::parse(&row.state) {
        Some(LicenceState::Active) => {}
        Some(other) => return Ok(Err(CredentialError::NotActive(other.as_str()))),
        None => return Err(Infra::Corrupt("a licence has an unknown state")),
    }
    if row.valid_until <= now {
        return Ok(Err(CredentialError::Expired));
    }
    let Some(kind) = svc.licence_types.get(&row.licence_type) else {
        return Ok(Err(CredentialError::UnknownType));
    };
    // A private key sent by mistake, or garbage, is refused rather than copied into `cnf`.
    let public = keys::VerifyingKey::from_jwk(holder_jwk).map_err(|_| ());
    if public.is_err()
        || ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .any(|k| holder_jwk.contains_key(*k))
    {
        return Ok(Err(CredentialError::BadHolderKey));
    }
    let issuer = super::licence_issuer::issuer(svc)?;
    let mut claims = licence.claims.clone();
    // The licence's own validity travels as claims too: `exp` is the credential's, not the
    // licence's.
    claims.insert("valid_from".into(), row.valid_from.into());
    claims.insert("valid_until".into(), row.valid_until.into());
    let exp = row
        .valid_until
        .min(now + MAX_CREDENTIAL_SECS)
        .min(issuer.cert_not_after);
    let token = issue(&Issue {
        signer: &issuer.key,
        x5c: &issuer.chain(),
        iss: &svc.config.issuer,
        vct: &kind.vct,
        iat: now,
        nbf: (row.valid_from > now).then_some(row.valid_from),
        exp,
        holder_jwk,
        status: Some(StatusRef {
            uri: super::status_lists::uri(svc, &row.status_list),
            idx: row.status_idx as u64,
        }),
        claims: &claims,
    })
    .map_err(|_| Infra::Corrupt("a credential could not be signed"))?;
    Ok(Ok(token))
}
