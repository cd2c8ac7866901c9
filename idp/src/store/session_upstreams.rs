//! Which upstream session each federated local session came from (for chained logout).
use super::audit::Step;
use super::schema::session_upstreams;
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_upstreams)]
pub struct SessionUpstreamRow {
    pub sid: String,
    pub upstream_code: String,
    pub upstream_sid: String,
    pub created_at: i64,
}

impl Store {
    /// The upstream session a local session came from, if it came from one.
    pub fn session_upstream(&self, sid: &str) -> StoreResult<Option<SessionUpstreamRow>> {
        Ok(session_upstreams::table
            .find(sid)
            .select(SessionUpstreamRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// The local sessions that one upstream session started.
    pub fn sids_from_upstream(&self, code: &str, upstream_sid: &str) -> StoreResult<Vec<String>> {
        Ok(session_upstreams::table
            .filter(session_upstreams::upstream_code.eq(code))
            .filter(session_upstreams::upstream_sid.eq(upstream_sid))
            .select(session_upstreams::sid)
            .limit(100)
            .load(&mut *self.conn()?)?)
    }
}

/// Stores where a session came from, as a step of an audit entry's companion.
pub fn inserting(row: SessionUpstreamRow) -> Step {
    Box::new(move |conn| {
        diesel::insert_into(session_upstreams::table)
            .values(&row)
            .execute(conn)
            .map(|_| ())
    })
}
