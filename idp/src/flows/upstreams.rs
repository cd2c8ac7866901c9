//! The operator's federation configuration: adding, listing and disabling upstream identity
//! providers, and finding a citizen's home among them.
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::id_number::IdNumber;
use crate::domain::upstream::{
    home_candidates, most_specific, valid_code, UpstreamError, UpstreamSpec, HUB_CODE,
};
use crate::services::Services;
use crate::store::upstreams::UpstreamRow;
use zeroize::Zeroizing;

/// An upstream as shown to operators and pages: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpstreamInfo {
    pub code: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub enabled: bool,
}

impl From<&UpstreamRow> for UpstreamInfo {
    fn from(row: &UpstreamRow) -> Self {
        Self {
            code: row.code.clone(),
            name: row.name.clone(),
            issuer: row.issuer.clone(),
            client_id: row.client_id.clone(),
            enabled: row.enabled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    #[error(transparent)]
    Invalid(#[from] UpstreamError),
    #[error("an upstream with this code exists already")]
    Taken,
}

/// What an operator gives to add an upstream.
#[derive(Debug)]
pub struct NewUpstream<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

/// A checked upstream as stored: enabled, its secret sealed with the code as associated data.
fn sealed_row(svc: &Services, spec: UpstreamSpec, secret: &str, now: i64) -> UpstreamRow {
    UpstreamRow {
        client_secret_sealed: svc
            .secrets
            .upstream_seal
            .seal(secret.as_bytes(), spec.code.as_bytes()),
        code: spec.code,
        name: spec.name,
        issuer: spec.issuer,
        client_id: spec.client_id,
        enabled: true,
        created_at: now,
        updated_at: now,
    }
}

pub fn add(
    svc: &Services,
    new: &NewUpstream<'_>,
    actor: &str,
) -> Result<Result<UpstreamInfo, AddError>, Infra> {
    let spec = match UpstreamSpec::new(
        new.code,
        new.name,
        new.issuer,
        new.client_id,
        new.client_secret,
    ) {
        Ok(spec) => spec,
        Err(e) => return Ok(Err(e.into())),
    };
    let row = sealed_row(svc, spec, new.client_secret, svc.now());
    if !svc.store.insert_upstream(&row)? {
        return Ok(Err(AddError::Taken));
    }
    svc.audit.append(AuditEvent::new(
        "upstream.added",
        actor,
        None,
        serde_json::json!({ "code": row.code, "issuer": row.issuer, "client_id": row.client_id }),
    ))?;
    Ok(Ok(UpstreamInfo::from(&row)))
}

/// One line of a bulk import (`idp province import`).
#[derive(Debug, serde::Deserialize)]
pub struct ImportLine {
    pub code: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("line {0}: {1}")]
    Invalid(usize, UpstreamError),
    #[error("line {0}: the code appears twice")]
    Duplicate(usize),
    #[error("a code exists already; nothing was imported")]
    Taken,
}

/// Adds many upstreams at once (the counties of a province, say): all of them, or none when any
/// line is wrong. One audit entry for the import.
pub fn import(
    svc: &Services,
    lines: &[ImportLine],
    actor: &str,
) -> Result<Result<usize, ImportError>, Infra> {
    let now = svc.now();
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let spec =
            match UpstreamSpec::new(&l.code, &l.name, &l.issuer, &l.client_id, &l.client_secret) {
                Ok(spec) => spec,
                Err(e) => return Ok(Err(ImportError::Invalid(i + 1, e))),
            };
        if !seen.insert(spec.code.clone()) {
            return Ok(Err(ImportError::Duplicate(i + 1)));
        }
        rows.push(sealed_row(svc, spec, &l.client_secret, now));
    }
    if !svc.store.insert_upstreams(&rows)? {
        return Ok(Err(ImportError::Taken));
    }
    svc.audit.append(AuditEvent::new(
        "upstream.imported",
        actor,
        None,
        serde_json::json!({ "count": rows.len() }),
    ))?;
    Ok(Ok(rows.len()))
}

pub fn list(svc: &Services) -> Result<Vec<UpstreamInfo>, Infra> {
    Ok(svc
        .store
        .upstreams()?
        .iter()
        .map(UpstreamInfo::from)
        .collect())
}

/// Turns an upstream off (no citizen is sent there) or on again; false for an unknown code.
pub fn set_enabled(svc: &Services, code: &str, enabled: bool, actor: &str) -> Result<bool, Infra> {
    if !svc.store.set_upstream_enabled(code, enabled, svc.now())? {
        return Ok(false);
    }
    svc.audit.append(AuditEvent::new(
        if enabled {
            "upstream.enabled"
        } else {
            "upstream.disabled"
        },
        actor,
        None,
        serde_json::json!({ "code": code }),
    ))?;
    Ok(true)
}

/// The client secret this node holds at `row`'s provider.
pub fn client_secret(svc: &Services, row: &UpstreamRow) -> Result<Zeroizing<String>, Infra> {
    let plain = svc
        .secrets
        .upstream_seal
        .open(&row.client_secret_sealed, row.code.as_bytes())?;
    Ok(Zeroizing::new(String::from_utf8_lossy(&plain).into_owned()))
}

/// The enabled upstream that is home to the holder of `id_number`, if any.
pub fn home_of(svc: &Services, id_number: &IdNumber) -> Result<Option<UpstreamInfo>, Infra> {
    let candidates = home_candidates(id_number);
    let found = svc.store.enabled_upstream_codes(&candidates)?;
    let Some(code) = most_specific(&candidates, &found) else {
        return Ok(None);
    };
    Ok(svc.store.upstream(code)?.map(|u| UpstreamInfo::from(&u)))
}

/// What the login page offers for other regions' accounts.
#[derive(Debug, Clone, Default)]
pub struct LoginChoices {
    /// Some upstream is enabled: offer "an account elsewhere".
    pub offered: bool,
    /// The home this browser chose before, if it is still enabled.
    pub remembered: Option<UpstreamInfo>,
}

pub fn login_choices(svc: &Services, remembered: Option<&str>) -> Result<LoginChoices, Infra> {
    let remembered = match remembered.filter(|c| crate::domain::upstream::valid_code(c)) {
        Some(code) => svc
            .store
            .upstream(code)?
            .filter(|u| u.enabled)
            .map(|u| UpstreamInfo::from(&u)),
        None => None,
    };
    Ok(LoginChoices {
        offered: remembered.is_some() || svc.store.any_enabled_upstream()?,
        remembered,
    })
}

/// Where a citizen who typed their ID number logs in: their home, else the hub (which knows
/// every home) with the province's code as a hint, so that the citizen is not asked again
/// there; else nowhere.
pub fn route(
    svc: &Services,
    id_number: &IdNumber,
) -> Result<Option<(UpstreamInfo, Option<String>)>, Infra> {
    if let Some(home) = home_of(svc, id_number)? {
        return Ok(Some((home, None)));
    }
    let province = format!("{:02}", id_number.province_code());
    Ok(svc
        .store
        .upstream(HUB_CODE)?
        .filter(|u| u.enabled)
        .map(|u| (UpstreamInfo::from(&u), Some(province))))
}

/// The `login_hint` a node sends the hub for a citizen it routed there: the home region only.
pub fn region_hint(code: &str) -> String {
    format!("{REGION_HINT_PREFIX}{code}")
}

const REGION_HINT_PREFIX: &str = "region:";

/// The enabled home a `login_hint` of the form `region:CODE` names (at the hub).
pub fn hinted_home(svc: &Services, login_hint: &str) -> Result<Option<UpstreamInfo>, Infra> {
    let Some(code) = login_hint.strip_prefix(REGION_HINT_PREFIX) else {
        return Ok(None);
    };
    if !valid_code(code) || code == HUB_CODE {
        return Ok(None);
    }
    Ok(svc
        .store
        .upstream(code)?
        .filter(|u| u.enabled)
        .map(|u| UpstreamInfo::from(&u)))
}
