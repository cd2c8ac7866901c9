//! Operators: granting roles (CLI) and the console's gate (every console request passes it).
use super::{sessions, Infra};
use crate::domain::audit::AuditEvent;
use crate::domain::operator::{self, Refusal, Role};
use crate::services::Services;

/// An operator let into the console, with what they may do.
#[derive(Debug, Clone)]
pub struct Operator {
    pub sub: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Operator {
    pub fn may(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// How the audit log names them.
    pub fn actor(&self) -> String {
        format!("operator:{}", self.sub)
    }
}

pub fn roles_of(svc: &Services, sub: &str) -> Result<Vec<Role>, Infra> {
    Ok(svc
        .store
        .operator_roles(sub)?
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect())
}

/// The console's gate: the browser's session must be a strong login of someone holding a
/// role, and `needed` when an act asks for one. Refusals of logged-in people are audited.
pub fn admit(
    svc: &Services,
    session_cookie: Option<&str>,
    needed: Option<Role>,
) -> Result<Result<Operator, Refusal>, Infra> {
    let Some(session) = sessions::current(svc, session_cookie)? else {
        return Ok(Err(Refusal::NotLoggedIn));
    };
    let roles = roles_of(svc, &session.sub)?;
    if let Err(refusal) = operator::check(&session.acr, &roles, needed) {
        svc.audit.append(AuditEvent::new(
            "console.refused",
            &session.sub,
            None,
            serde_json::json!({ "needed": needed.map(Role::as_str), "why": format!("{refusal:?}") }),
        ))?;
        return Ok(Err(refusal));
    }
    let name = svc
        .store
        .user_by_sub(&session.sub)?
        .map(|u| u.name)
        .unwrap_or_default();
    Ok(Ok(Operator {
        sub: session.sub,
        name,
        roles,
    }))
}

/// Grants `role` to the citizen `sub` (an account must exist); audited.
pub fn grant(svc: &Services, sub: &str, role: Role, by: &str) -> Result<bool, Infra> {
    if svc.store.user_by_sub(sub)?.is_none() {
        return Ok(false);
    }
    let granted = svc
        .store
        .grant_operator_role(sub, role.as_str(), by, svc.now())?;
    if granted {
        svc.audit.append(AuditEvent::new(
            "operator.granted",
            by,
            None,
            serde_json::json!({ "sub": sub, "role": role.as_str() }),
        ))?;
    }
    Ok(true)
}

pub fn revoke(svc: &Services, sub: &str, role: Role, by: &str) -> Result<bool, Infra> {
    let revoked = svc.store.revoke_operator_role(sub, role.as_str())?;
    if revoked {
        svc.audit.append(AuditEvent::new(
            "operator.revoked",
            by,
            None,
            serde_json::json!({ "sub": sub, "role": role.as_str() }),
        ))?;
    }
    Ok(revoked)
}
