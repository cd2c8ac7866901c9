//! The licence registry: import (all records or none), suspend, reinstate, revoke, and a holder's
//! licences. Holders' numbers and claims are sealed at rest; the state each licence is in is
//! what its Token Status List entry publishes (see `flows::status_lists`).
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::licence::{self, Holder, ImportRecord, LicenceAction, LicenceState, NewLicence};
use crate::services::Services;
use crate::store::licences::{LicenceRow, Shard};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde_json::{Map, Value};
use sha2::Sha256;
use std::collections::HashSet;

/// Entries per status list shard. A shard takes licences until half full, so a random free
/// index is found in a couple of tries and indices stay unpredictable.
pub const SHARD_CAPACITY: i64 = 100_000;
const SHARD_FILL: i64 = SHARD_CAPACITY / 2;

/// What an import reports for each stored licence.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Imported {
    pub id: String,
    #[serde(rename = "type")]
    pub licence_type: String,
    /// The holder's number: the operator's own input, echoed so they can match the ids up.
    pub holder: String,
}

/// Why a record was refused: its position in the file (from 0) and every problem found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordProblems {
    pub index: usize,
    pub problems: Vec<String>,
}

/// Imports every record, or none when any is wrong (each wrong one reported). One audit entry.
pub fn import(
    svc: &Services,
    records: &[ImportRecord],
    actor: &str,
) -> Result<Result<Vec<Imported>, Vec<RecordProblems>>, Infra> {
    let now = svc.now();
    let mut checked = Vec::with_capacity(records.len());
    let mut refused = Vec::new();
    for (index, record) in records.iter().enumerate() {
        match licence::check_record(&svc.licence_types, record, now) {
            Ok(ok) => checked.push(ok),
            Err(problems) => refused.push(RecordProblems { index, problems }),
        }
    }
    if !refused.is_empty() {
        return Ok(Err(refused));
    }
    let rows = place_in_shards(svc, &checked, now)?;
    svc.store.insert_licences(&rows)?;
    svc.audit.append(AuditEvent::new(
        "licence.imported",
        actor,
        None,
        serde_json::json!({ "count": rows.len() }),
    ))?;
    Ok(Ok(rows
        .iter()
        .zip(&checked)
        .map(|(row, new)| Imported {
            id: row.id.clone(),
            licence_type: row.licence_type.clone(),
            holder: new.holder.expose().to_owned(),
        })
        .collect()))
}

/// Seals each licence and gives it a random free index in a shard with room.
fn place_in_shards(
    svc: &Services,
    licences: &[NewLicence],
    now: i64,
) -> Result<Vec<LicenceRow>, Infra> {
    let mut shard = current_shard(svc, now)?;
    let mut taken: HashSet<i64> = shard.taken.iter().copied().collect();
    let mut rows = Vec::with_capacity(licences.len());
    let mut rng = rand::rngs::OsRng;
    for new in licences {
        if taken.len() as i64 >= SHARD_FILL {
            shard = new_shard(svc, now)?;
            taken.clear();
        }
        let idx = loop {
            let candidate = rng.gen_range(0..shard.capacity);
            if taken.insert(candidate) {
                break candidate;
            }
        };
        rows.push(sealed_row(svc, new, &shard.id, idx, now));
    }
    Ok(rows)
}

fn current_shard(svc: &Services, now: i64) -> Result<Shard, Infra> {
    match svc.store.shard_with_room(SHARD_FILL)? {
        Some(shard) => Ok(shard),
        None => new_shard(svc, now),
    }
}

fn new_shard(svc: &Services, now: i64) -> Result<Shard, Infra> {
    let id = random_id("sl");
    svc.store.insert_status_list(&id, SHARD_CAPACITY, now)?;
    Ok(Shard {
        id,
        capacity: SHARD_CAPACITY,
        taken: Vec::new(),
    })
}

/// `prefix_` and 96 random bits in hex: safe on a command line, unguessable.
fn random_id(prefix: &str) -> String {
    let bytes: [u8; 12] = rand::rngs::OsRng.gen();
    format!("{prefix}_{}", crate::domain::audit::hex(&bytes))
}

fn sealed_row(svc: &Services, new: &NewLicence, shard: &str, idx: i64, now: i64) -> LicenceRow {
    let id = random_id("lic");
    let claims = Value::Object(new.claims.clone()).to_string();
    LicenceRow {
        holder_lookup: holder_lookup(svc, &new.holder),
        holder_sealed: svc.secrets.licence_seal.seal(
            new.holder.expose().as_bytes(),
            aad(&id, "holder").as_bytes(),
        ),
        claims_sealed: svc
            .secrets
            .licence_seal
            .seal(claims.as_bytes(), aad(&id, "claims").as_bytes()),
        licence_type: new.licence_type.clone(),
        valid_from: new.valid_from,
        valid_until: new.valid_until,
        state: LicenceState::Active.as_str().into(),
        status_list: shard.into(),
        status_idx: idx,
        created_at: now,
        updated_at: now,
        id,
    }
}

fn aad(id: &str, part: &str) -> String {
    format!("licence:{id}:{part}")
}

/// The keyed hash a holder's licences are found by: a citizen's is the same as their account's
/// ID number lookup, so their licences follow them when they log in.
pub fn holder_lookup(svc: &Services, holder: &Holder) -> String {
    match holder {
        Holder::Person(id) => super::users::id_lookup(svc, id),
        Holder::Company(code) => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&svc.secrets.id_lookup[..])
                .expect("HMAC takes any key length");
            mac.update(b"credit-code:");
            mac.update(code.as_str().as_bytes());
            crate::domain::audit::hex(&mac.finalize().into_bytes())
        }
    }
}

/// A licence with its claims opened, for issuing it to its holder.
#[derive(Clone)]
pub struct OpenLicence {
    pub row: LicenceRow,
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for OpenLicence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLicence")
            .field("id", &self.row.id)
            .field("type", &self.row.licence_type)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

pub fn open(svc: &Services, row: LicenceRow) -> Result<OpenLicence, Infra> {
    let bytes = svc
        .secrets
        .licence_seal
        .open(&row.claims_sealed, aad(&row.id, "claims").as_bytes())
        .map_err(|_| Infra::Corrupt("a licence's claims do not open under this KEK"))?;
    let claims = serde_json::from_slice(&bytes)
        .map_err(|_| Infra::Corrupt("a licence's claims are not a JSON object"))?;
    Ok(OpenLicence { row, claims })
}

/// The licences of a holder, claims opened.
pub fn of_holder(svc: &Services, holder: &Holder) -> Result<Vec<OpenLicence>, Infra> {
    svc.store
        .licences_of_holder(&holder_lookup(svc, holder))?
        .into_iter()
        .map(|row| open(svc, row))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("no licence has that id")]
    Unknown,
    #[error("{0}")]
    NotAllowed(&'static str),
}

/// Suspends, reinstates or revokes a licence; verifiers see it at their next status list fetch.
pub fn change(
    svc: &Services,
    id: &str,
    action: LicenceAction,
    actor: &str,
) -> Result<Result<LicenceState, ChangeError>, Infra> {
    let Some(row) = svc.store.licence(id)? else {
        return Ok(Err(ChangeError::Unknown));
    };
    let from =
        LicenceState::parse(&row.state).ok_or(Infra::Corrupt("a licence has an unknown state"))?;
    let to = match from.apply(action) {
        Ok(to) => to,
        Err(why) => return Ok(Err(ChangeError::NotAllowed(why))),
    };
    if !svc
        .store
        .set_licence_state(id, from.as_str(), to.as_str(), svc.now())?
    {
        // Someone else changed it between our read and write: let the operator look again.
        return Ok(Err(ChangeError::NotAllowed(
            "the licence changed meanwhile; try again",
        )));
    }
    svc.audit.append(AuditEvent::new(
        &format!("licence.{}", to.as_str()),
        actor,
        None,
        serde_json::json!({ "licence": id, "type": row.licence_type, "from": from.as_str() }),
    ))?;
    Ok(Ok(to))
}

/// 一证通办: the citizen's active, unexpired licences of each type a granted `licence:{type}`
/// scope names, claims opened, by type. Only a citizen with a verified ID number has any.
pub fn released(
    svc: &Services,
    user: &crate::store::users::UserRow,
    scopes: &crate::domain::scope::ScopeSet,
) -> Result<Map<String, Value>, Infra> {
    let types: Vec<&str> = scopes
        .iter()
        .filter_map(crate::domain::scope::licence_type)
        .filter(|t| svc.licence_types.get(t).is_some())
        .collect();
    let mut out = Map::new();
    let Some(lookup) = user
        .id_number_lookup
        .as_deref()
        .filter(|_| !types.is_empty())
    else {
        return Ok(out);
    };
    let now = svc.now();
    for row in svc.store.licences_of_holder(lookup)? {
        let current = row.state == LicenceState::Active.as_str()
            && row.valid_from <= now
            && now < row.valid_until;
        if !current || !types.contains(&row.licence_type.as_str()) {
            continue;
        }
        let kind = row.licence_type.clone();
        let (valid_from, valid_until) = (row.valid_from, row.valid_until);
        let mut claims = open(svc, row)?.claims;
        claims.insert("valid_from".into(), valid_from.into());
        claims.insert("valid_until".into(), valid_until.into());
        if let Value::Array(list) = out.entry(kind).or_insert_with(|| Value::Array(Vec::new())) {
            list.push(Value::Object(claims));
        }
    }
    Ok(out)
}
