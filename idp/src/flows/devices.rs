//! The citizen's bound devices: authorizations of the government app whose tokens are bound to
//! a device key (DPoP). Unbinding revokes the authorization: its refresh tokens and access
//! tokens stop working at once.
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::services::Services;

#[derive(Debug, Clone, serde::Serialize)]
pub struct BoundDevice {
    /// The authorization's id (what unbinding names).
    pub id: String,
    pub app: String,
    pub bound_at: i64,
    /// The start of the device key's thumbprint, to tell devices apart.
    pub key: String,
}

pub fn list(svc: &Services, sub: &str) -> Result<Vec<BoundDevice>, Infra> {
    let mut out = Vec::new();
    for grant in svc.store.device_grants_of(sub)? {
        let app = super::authorize::load_client(svc, Some(&grant.client_id))?
            .map(|c| c.name)
            .unwrap_or_else(|| grant.client_id.clone());
        let key = grant.dpop_jkt.as_deref().unwrap_or("");
        out.push(BoundDevice {
            key: key.chars().take(8).collect(),
            id: grant.id,
            app,
            bound_at: grant.created_at,
        });
    }
    Ok(out)
}

/// Unbinds one of the citizen's devices; false when there is no such device of theirs.
pub fn unbind(svc: &Services, sub: &str, id: &str) -> Result<bool, Infra> {
    let Some(grant) = svc.store.grant(id)? else {
        return Ok(false);
    };
    if grant.sub != sub || grant.dpop_jkt.is_none() || !svc.store.revoke_grant(id, svc.now())? {
        return Ok(false);
    }
    svc.audit.append(AuditEvent::new(
        "device.unbound",
        sub,
        Some(&grant.client_id),
        serde_json::json!({ "grant": id }),
    ))?;
    Ok(true)
}
