//! 我的授权: the apps a citizen has let read their data, what each may read, and withdrawing
//! that. Withdrawing ends the app's authorizations at once: its refresh tokens stop working and
//! its access tokens fail every check that looks at the grant (userinfo, introspection).
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::services::Services;

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuthorizedApp {
    pub client_id: String,
    pub name: String,
    /// The consented scopes, in the order they were granted.
    pub scopes: Vec<String>,
    pub granted_at: i64,
}

pub fn list(svc: &Services, sub: &str) -> Result<Vec<AuthorizedApp>, Infra> {
    let mut out = Vec::new();
    for consent in svc.store.consents_of(sub)? {
        let name = super::authorize::load_client(svc, Some(&consent.client_id))?
            .map(|c| c.name)
            .unwrap_or_else(|| consent.client_id.clone());
        out.push(AuthorizedApp {
            name,
            scopes: consent.scope.split(' ').map(str::to_owned).collect(),
            client_id: consent.client_id,
            granted_at: consent.granted_at,
        });
    }
    Ok(out)
}

/// Withdraws the citizen's consent for `client_id` and revokes what the app holds; false when
/// the app had nothing of theirs.
pub fn revoke(svc: &Services, sub: &str, client_id: &str) -> Result<bool, Infra> {
    if client_id.is_empty() || client_id.len() > 128 {
        return Ok(false);
    }
    let Some(grants) = svc.store.revoke_app(sub, client_id, svc.now())? else {
        return Ok(false);
    };
    svc.audit.append(AuditEvent::new(
        "consent.withdrawn",
        sub,
        Some(client_id),
        serde_json::json!({ "grants_revoked": grants.len() }),
    ))?;
    Ok(true)
}
