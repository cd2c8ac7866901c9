use super::connection::write_transaction;
use super::schema::{audit_head, audit_log};
use super::{AnyConnection, Store, StoreResult};
use crate::domain::audit::{self, AuditEntry, AuditEvent};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub(super) struct AuditRow {
    seq: i64,
    at: i64,
    kind: String,
    actor: String,
    client_id: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            seq: r.seq,
            at: r.at,
            event: AuditEvent {
                kind: r.kind,
                actor: r.actor,
                client_id: r.client_id,
                detail: r.detail,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

impl Store {
    /// Appends events to the chain in one transaction. The head row is locked first, so
    /// writers on every replica (and the admin CLI) take turns and the chain stays linear.
    pub fn append_audit(
        &self,
        key: &audit::ChainKey,
        events: &[AuditEvent],
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| {
            if let AnyConnection::Postgresql(pg) = conn {
                pg.batch_execute("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE")?;
            }
            let (mut seq, mut prev): (i64, String) = audit_head::table
                .find(1)
                .select((audit_head::seq, audit_head::hash))
                .first(conn)?;
            for event in events {
                seq += 1;
                let entry = audit::chain(key, &prev, seq, now, event.clone());
                diesel::insert_into(audit_log::table)
                    .values(AuditRow {
                        seq,
                        at: now,
                        kind: entry.event.kind,
                        actor: entry.event.actor,
                        client_id: entry.event.client_id,
                        detail: entry.event.detail,
                        prev_hash: entry.prev_hash,
                        hash: entry.hash.clone(),
                    })
                    .execute(conn)?;
                prev = entry.hash;
            }
            diesel::update(audit_head::table.find(1))
                .set((audit_head::seq.eq(seq), audit_head::hash.eq(&prev)))
                .execute(conn)?;
            Ok(())
        })?;
        Ok(())
    }

    /// Entries after `after_seq`, in order, at most `limit`.
    pub fn audit_entries(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.gt(after_seq))
            .order(audit_log::seq.asc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(&mut *self.conn()?)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub fn audit_head(&self) -> StoreResult<(i64, String)> {
        Ok(audit_head::table
            .find(1)
            .select((audit_head::seq, audit_head::hash))
            .first(&mut *self.conn()?)?)
    }

    /// Most recent entries of one kind (newest first).
    pub fn audit_recent(&self, kind: Option<&str>, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let mut q = audit_log::table.into_boxed();
        if let Some(k) = kind {
            q = q.filter(audit_log::kind.eq(k.to_owned()));
        }
        let rows: Vec<AuditRow> = q
            .order(audit_log::seq.desc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(&mut *self.conn()?)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
