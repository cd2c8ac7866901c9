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

/// Work that commits in the same transaction as its audit entry, or not at all: the grant and
/// refresh token behind the tokens an entry records, say. It runs inside a savepoint, so its
/// failure undoes only itself; it returns whether its entry is to be written (its changes stay
/// either way).
pub type Companion = Box<dyn FnOnce(&mut AnyConnection) -> QueryResult<bool> + Send>;

/// One write that goes with an entry (see `together`).
pub type Step = Box<dyn FnOnce(&mut AnyConnection) -> QueryResult<()> + Send>;

/// A first write that decides whether anything else happens (see `together`): false when what
/// it claims (a WebAuthn ceremony, an approved QR login) was claimed first by someone else.
pub type Claim = Box<dyn FnOnce(&mut AnyConnection) -> QueryResult<bool> + Send>;

/// A companion that makes the claim, if any, and then every step, in order, and has its entry
/// written. A claim that loses writes nothing: no step runs and no entry is written.
pub fn together(claim: Option<Claim>, steps: Vec<Step>) -> Companion {
    Box::new(move |conn| {
        if let Some(claim) = claim {
            if !claim(conn)? {
                return Ok(false);
            }
        }
        for step in steps {
            step(conn)?;
        }
        Ok(true)
    })
}

/// An entry to append, with the work that goes with it.
pub struct Pending {
    pub event: AuditEvent,
    pub companion: Option<Companion>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("kind", &self.event.kind)
            .field("companion", &self.companion.is_some())
            .finish()
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
        let pending = events
            .iter()
            .map(|event| Pending {
                event: event.clone(),
                companion: None,
            })
            .collect();
        self.append_audit_with(key, pending, now).map(|_| ())
    }

    /// Like [`Store::append_audit`], each entry after its companion work. Per entry: whether
    /// it was written (`Ok(false)`: its companion declined), or why its companion failed.
    pub fn append_audit_with(
        &self,
        key: &audit::ChainKey,
        pending: Vec<Pending>,
        now: i64,
    ) -> StoreResult<Vec<Result<bool, String>>> {
        let mut conn = self.conn()?;
        Ok(write_transaction(&mut conn, |conn| {
            if let AnyConnection::Postgresql(pg) = conn {
                pg.batch_execute("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE")?;
            }
            let (mut seq, mut prev): (i64, String) = audit_head::table
                .find(1)
                .select((audit_head::seq, audit_head::hash))
                .first(conn)?;
            let mut outcomes = Vec::with_capacity(pending.len());
            for Pending { event, companion } in pending {
                let outcome = match companion {
                    Some(work) => in_savepoint(conn, work)?,
                    None => Ok(true),
                };
                if outcome == Ok(true) {
                    seq += 1;
                    let entry = audit::chain(key, &prev, seq, now, event);
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
                outcomes.push(outcome);
            }
            diesel::update(audit_head::table.find(1))
                .set((audit_head::seq.eq(seq), audit_head::hash.eq(&prev)))
                .execute(conn)?;
            Ok(outcomes)
        })?)
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

/// Runs `work` inside a savepoint: kept when it succeeds, undone (and its error returned as
/// the inner `Err`) when it fails. Only the savepoint's own statements failing is an outer error.
fn in_savepoint(conn: &mut AnyConnection, work: Companion) -> QueryResult<Result<bool, String>> {
    conn.batch_execute("SAVEPOINT companion")?;
    match work(conn) {
        Ok(keep) => {
            conn.batch_execute("RELEASE companion")?;
            Ok(Ok(keep))
        }
        Err(e) => {
            conn.batch_execute("ROLLBACK TO companion; RELEASE companion")?;
            Ok(Err(e.to_string()))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::schema::consents;

    fn consent(sub: &'static str) -> Companion {
        Box::new(move |conn| {
            diesel::insert_into(consents::table)
                .values((
                    consents::sub.eq(sub),
                    consents::client_id.eq("app"),
                    consents::scope.eq("openid"),
                    consents::granted_at.eq(1),
                ))
                .execute(conn)
                .map(|_| true)
        })
    }

    #[test]
    fn companions_commit_with_their_entries_and_a_failing_one_is_undone_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("idp.db").display());
        let store = Store::open(&url, 2).unwrap();
        store.migrate().unwrap();
        let key = [7u8; 32];
        let event = |n: i64| AuditEvent::new("test", "actor", None, serde_json::json!({ "n": n }));
        let declining: Companion = Box::new(|conn| {
            diesel::insert_into(consents::table)
                .values((
                    consents::sub.eq("carol"),
                    consents::client_id.eq("app"),
                    consents::scope.eq("openid"),
                    consents::granted_at.eq(1),
                ))
                .execute(conn)
                .map(|_| false)
        });
        let pending = vec![
            Pending {
                event: event(1),
                companion: Some(consent("alice")),
            },
            // The same row again: a unique violation, undone without the others.
            Pending {
                event: event(2),
                companion: Some(consent("alice")),
            },
            Pending {
                event: event(3),
                companion: Some(declining),
            },
            Pending {
                event: event(4),
                companion: None,
            },
        ];
        let outcomes = store.append_audit_with(&key, pending, 1_000).unwrap();
        assert_eq!(outcomes[0], Ok(true));
        assert!(outcomes[1].is_err(), "{:?}", outcomes[1]);
        assert_eq!(outcomes[2], Ok(false));
        assert_eq!(outcomes[3], Ok(true));

        let written: Vec<String> = store
            .audit_entries(0, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.event.detail)
            .collect();
        assert_eq!(written, [r#"{"n":1}"#, r#"{"n":4}"#]);
        assert_eq!(crate::flows::audit::verify(&store, &key).unwrap(), 2);
        assert!(store.consent("alice", "app").unwrap().is_some());
        // A declining companion's own changes stay.
        assert!(store.consent("carol", "app").unwrap().is_some());
    }
}
