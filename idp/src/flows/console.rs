//! The operator's console: what it shows, gathered from the registry and the audit log. The
//! acts it offers are the same flows the CLI calls (clients, licences, keyring).
use super::Infra;
use crate::domain::client::ClientStatus;
use crate::services::Services;
use crate::store::clients::ClientRow;

/// One app in the registry, as the review queue lists it.
#[derive(Debug, Clone)]
pub struct AppEntry {
    pub client_id: String,
    pub name: String,
    pub status: String,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub created_at: i64,
    /// 好差评: citizens' ratings of the app.
    pub ratings: crate::domain::rating::Tally,
}

impl From<&ClientRow> for AppEntry {
    fn from(c: &ClientRow) -> Self {
        Self {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            status: c.status.clone(),
            // Stored as a JSON list; a damaged row shows as stored rather than failing the page.
            redirect_uris: serde_json::from_str(&c.redirect_uris)
                .unwrap_or_else(|_| vec![c.redirect_uris.clone()]),
            scopes: c.scopes.clone(),
            created_at: c.created_at,
            ratings: Default::default(),
        }
    }
}

/// Every app, the pending ones first (the review queue), then by name.
pub fn apps(svc: &Services) -> Result<Vec<AppEntry>, Infra> {
    let tallies = super::ratings::tallies(svc)?;
    let mut apps: Vec<AppEntry> = svc
        .store
        .clients()?
        .iter()
        .map(|c| AppEntry {
            ratings: tallies.get(&c.client_id).copied().unwrap_or_default(),
            ..AppEntry::from(c)
        })
        .collect();
    let pending = ClientStatus::Pending.as_str();
    apps.sort_by(|a, b| {
        (a.status != pending, &a.name, &a.client_id).cmp(&(
            b.status != pending,
            &b.name,
            &b.client_id,
        ))
    });
    Ok(apps)
}

/// An app's activity per hour over the last `hours`: tokens issued, logins and refusals
/// (replayed codes, reused refresh tokens), from the audit log.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// The start of the first hour (unix seconds).
    pub from: i64,
    pub tokens: Vec<u32>,
    pub consents: Vec<u32>,
    pub refusals: Vec<u32>,
}

pub fn activity(svc: &Services, client_id: &str, hours: usize) -> Result<Activity, Infra> {
    let now = svc.now();
    let from = (now / 3600 - hours as i64 + 1) * 3600;
    let mut a = Activity {
        from,
        tokens: vec![0; hours],
        consents: vec![0; hours],
        refusals: vec![0; hours],
    };
    for (at, kind) in svc.store.client_events_since(client_id, from)? {
        let Some(slot) = usize::try_from((at - from) / 3600)
            .ok()
            .filter(|s| *s < hours)
        else {
            continue;
        };
        let series = match kind.as_str() {
            "token.issued" => &mut a.tokens,
            "consent.granted" => &mut a.consents,
            "code.replayed" | "refresh.reuse_detected" | "consent.denied" => &mut a.refusals,
            _ => continue,
        };
        series[slot] += 1;
    }
    Ok(a)
}
