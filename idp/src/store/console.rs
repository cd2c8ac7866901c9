//! What the operator's console reads: the audit log searched, and an app's events over time.
use super::audit::AuditRow;
use super::schema::audit_log;
use super::{Store, StoreResult};
use crate::domain::audit::AuditEntry;
use diesel::prelude::*;

/// Filters of an audit search; each is an exact match when given.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub client_id: Option<String>,
}

impl Store {
    /// The newest entries matching every given filter.
    pub fn audit_search(&self, filter: &AuditFilter, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let mut q = audit_log::table.into_boxed();
        if let Some(k) = &filter.kind {
            q = q.filter(audit_log::kind.eq(k.clone()));
        }
        if let Some(a) = &filter.actor {
            q = q.filter(audit_log::actor.eq(a.clone()));
        }
        if let Some(c) = &filter.client_id {
            q = q.filter(audit_log::client_id.eq(c.clone()));
        }
        let rows: Vec<AuditRow> = q
            .order(audit_log::seq.desc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(&mut *self.conn()?)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// (time, kind) of an app's audit entries since `since`, oldest first.
    pub fn client_events_since(
        &self,
        client_id: &str,
        since: i64,
    ) -> StoreResult<Vec<(i64, String)>> {
        Ok(audit_log::table
            .filter(audit_log::client_id.eq(client_id))
            .filter(audit_log::at.ge(since))
            .order(audit_log::at.asc())
            .select((audit_log::at, audit_log::kind))
            .load(&mut *self.conn()?)?)
    }
}
