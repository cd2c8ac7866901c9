//! Token Status List shards as verifiers fetch them: built from the registry at each fetch (so
//! a revocation shows at the very next one), signed by the licence issuer with its `x5c`.
use super::Infra;
use crate::domain::licence::LicenceState;
use crate::services::Services;
use wallet_verifier::sd_jwt::{sign_status_list, StatusList};

/// How long verifiers (and caches in between) may keep a list before fetching it again.
pub const TTL_SECS: i64 = 300;
/// A list is unusable after this: a verifier offline longer than its grace period must not
/// trust an old one forever.
const VALID_SECS: i64 = 24 * 3600;
/// Two bits per entry: 0 valid, 1 invalid (revoked), 2 suspended.
const BITS: u8 = 2;

pub fn uri(svc: &Services, list: &str) -> String {
    svc.config.endpoint(&format!("/status-lists/{list}"))
}

/// The signed `statuslist+jwt` of shard `list`; None if there is no such shard.
pub fn token(svc: &Services, list: &str) -> Result<Option<String>, Infra> {
    let Some(capacity) = svc.store.status_list_capacity(list)? else {
        return Ok(None);
    };
    let mut entries = StatusList::new(BITS, capacity as u64)
        .map_err(|_| Infra::Corrupt("a status list shard has an impossible capacity"))?;
    for (idx, state) in svc.store.shard_exceptions(list)? {
        let state =
            LicenceState::parse(&state).ok_or(Infra::Corrupt("a licence has an unknown state"))?;
        entries
            .set(idx as u64, state.status_value())
            .map_err(|_| Infra::Corrupt("a licence's status index is outside its shard"))?;
    }
    let issuer = super::licence_issuer::issuer(svc)?;
    let now = svc.now();
    let token = sign_status_list(
        &issuer.key,
        &issuer.chain(),
        &uri(svc, list),
        &entries,
        now,
        Some(now + VALID_SECS),
        Some(TTL_SECS),
    )
    .map_err(|_| Infra::Corrupt("the status list could not be signed"))?;
    Ok(Some(token))
}
