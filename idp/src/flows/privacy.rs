//! A citizen's personal data: all of it as one JSON document (their own copy, or an operator's
//! answer to a request), and erasure of the account.
use super::{authorized_apps, corrections, devices, logout, passkeys, ratings, users, Infra};
use crate::domain::audit::AuditEvent;
use crate::services::Services;
use serde::Serialize;
use serde_json::Value;

/// The export's format name: a consumer can tell versions apart.
pub const EXPORT_FORMAT: &str = "idp-citizen-export/1";

/// What a login history shows: logins and logouts, newest first.
pub const HISTORY_KINDS: &[&str] = &["login.success", "logout", "consent.withdrawn"];
const HISTORY_LIMIT: i64 = 200;

#[derive(Debug, Serialize)]
pub struct Export {
    pub format: &'static str,
    pub exported_at: i64,
    pub account: Account,
    pub passkeys: Vec<passkeys::PasskeyInfo>,
    pub authorized_apps: Vec<authorized_apps::AuthorizedApp>,
    pub devices: Vec<devices::BoundDevice>,
    pub sessions: Vec<Session>,
    pub history: Vec<HistoryEntry>,
    pub federation_links: Vec<FederationLink>,
    pub licences: Vec<Licence>,
    pub corrections: Vec<corrections::Correction>,
    pub ratings: Vec<ratings::MyRating>,
}

#[derive(Debug, Serialize)]
pub struct Account {
    pub sub: String,
    pub name: String,
    /// The citizen's own ID number: this document goes only to them (or to an operator
    /// answering their request).
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize)]
pub struct Session {
    pub sid: String,
    pub acr: String,
    pub amr: Vec<String>,
    pub auth_time: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub kind: String,
    /// How they logged in (`pwd`, `hwk`, `mca`, `fed`...), when the entry says.
    pub method: Option<String>,
    pub client_id: Option<String>,
    /// The app's name, when the entry names an app.
    pub app: Option<String>,
    /// Where from, coarsely: the network (`202.96.*.*`), never the full address; no GeoIP
    /// database is shipped, so no city.
    pub network: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FederationLink {
    pub upstream: String,
    pub linked_at: i64,
}

#[derive(Debug, Serialize)]
pub struct Licence {
    pub id: String,
    pub licence_type: String,
    pub state: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub claims: serde_json::Map<String, Value>,
}

/// The citizen's login history, newest first.
pub fn history(svc: &Services, sub: &str) -> Result<Vec<HistoryEntry>, Infra> {
    let mut names: std::collections::HashMap<String, Option<String>> = Default::default();
    let mut out = Vec::new();
    for e in svc
        .store
        .audit_of_actor(sub, HISTORY_KINDS, HISTORY_LIMIT)?
    {
        let detail: Value = serde_json::from_str(&e.event.detail).unwrap_or(Value::Null);
        let app = match &e.event.client_id {
            Some(id) => {
                if !names.contains_key(id) {
                    let name = super::authorize::load_client(svc, Some(id))?.map(|c| c.name);
                    names.insert(id.clone(), name);
                }
                names.get(id).cloned().flatten()
            }
            None => None,
        };
        out.push(HistoryEntry {
            at: e.at,
            method: detail
                .get("method")
                .and_then(Value::as_str)
                .map(str::to_owned),
            network: detail.get("net").and_then(Value::as_str).map(str::to_owned),
            kind: e.event.kind,
            client_id: e.event.client_id,
            app,
        });
    }
    Ok(out)
}

/// Everything stored about the citizen; `None` when there is no such account. Audited.
pub fn export(svc: &Services, sub: &str, by: &str) -> Result<Option<Export>, Infra> {
    let Some(user) = svc.store.user_by_sub(sub)? else {
        return Ok(None);
    };
    let now = svc.now();
    let licences = match &user.id_number_lookup {
        Some(lookup) => svc
            .store
            .licences_of_holder(lookup)?
            .into_iter()
            .map(|row| super::licences::open(svc, row))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(|l| Licence {
                id: l.row.id,
                licence_type: l.row.licence_type,
                state: l.row.state,
                valid_from: l.row.valid_from,
                valid_until: l.row.valid_until,
                claims: l.claims,
            })
            .collect(),
        None => Vec::new(),
    };
    let export = Export {
        format: EXPORT_FORMAT,
        exported_at: now,
        passkeys: passkeys::list(svc, sub)?,
        authorized_apps: authorized_apps::list(svc, sub)?,
        devices: devices::list(svc, sub)?,
        sessions: svc
            .store
            .open_sessions_of(sub, now)?
            .into_iter()
            .map(|s| Session {
                amr: s.amr_list(),
                sid: s.sid,
                acr: s.acr,
                auth_time: s.auth_time,
                expires_at: s.expires_at,
            })
            .collect(),
        history: history(svc, sub)?,
        federation_links: svc
            .store
            .federated_links_of(sub)?
            .into_iter()
            .map(|(upstream, linked_at)| FederationLink {
                upstream,
                linked_at,
            })
            .collect(),
        licences,
        corrections: corrections::of_citizen(svc, sub)?,
        ratings: ratings::of_citizen(svc, sub)?,
        account: Account {
            id_number: users::reveal_id_number(svc, &user),
            sub: user.sub,
            name: user.name,
            phone: user.phone,
            email: user.email,
            address: user.address,
            has_password: user.password_hash.is_some(),
            created_at: user.created_at,
            updated_at: user.updated_at,
        },
    };
    svc.audit.append(AuditEvent::new(
        "privacy.exported",
        sub,
        None,
        serde_json::json!({ "by": by }),
    ))?;
    Ok(Some(export))
}

/// Erases the account: every open session ends (apps with a back-channel endpoint are told,
/// through the returned aftermath), then everything keyed by the account goes in one
/// transaction. Licences stay in the registry: they are the issuing authority's records, not
/// the account's, and are found by the ID number, which the account no longer holds.
pub fn erase(svc: &Services, sub: &str, by: &str) -> Result<Option<logout::Aftermath>, Infra> {
    let now = svc.now();
    let mut aftermath = logout::Aftermath::default();
    for session in svc.store.open_sessions_of(sub, now)? {
        if let Some(ended) = svc.store.end_session(&session.id_hash, now)? {
            aftermath.merge(logout::aftermath(svc, &ended, "erased", None, true)?);
        }
    }
    if !svc.store.erase_citizen(sub)? {
        return Ok(None);
    }
    // The actor is the random subject, which from now on names no one: a pseudonym.
    svc.audit.append(AuditEvent::new(
        "privacy.erased",
        sub,
        None,
        serde_json::json!({ "by": by }),
    ))?;
    Ok(Some(aftermath))
}
