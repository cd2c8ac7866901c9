use super::audit::Step;
use super::schema::sessions;
use super::{AnyConnection, Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    /// SHA-256 of the cookie value: a database leak does not hand out sessions.
    pub id_hash: String,
    /// The public session id that goes into tokens (`sid`).
    pub sid: String,
    pub sub: String,
    pub auth_time: i64,
    pub acr: String,
    /// Space-separated RFC 8176 method values.
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

impl SessionRow {
    pub fn amr_list(&self) -> Vec<String> {
        self.amr
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Store {
    pub fn active_session(&self, id_hash: &str, now: i64) -> StoreResult<Option<SessionRow>> {
        Ok(sessions::table
            .find(id_hash)
            .filter(sessions::ended_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .select(SessionRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Ends a session; returns it when it was active.
    pub fn end_session(&self, id_hash: &str, now: i64) -> StoreResult<Option<SessionRow>> {
        let mut conn = self.conn()?;
        let n = diesel::update(
            sessions::table
                .find(id_hash)
                .filter(sessions::ended_at.is_null()),
        )
        .set(sessions::ended_at.eq(now))
        .execute(&mut *conn)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(sessions::table
            .find(id_hash)
            .select(SessionRow::as_select())
            .first(&mut *conn)
            .optional()?)
    }

    /// Ends the session with this public id; returns it when it was active.
    pub fn end_session_by_sid(&self, sid: &str, now: i64) -> StoreResult<Option<SessionRow>> {
        let mut conn = self.conn()?;
        let n = diesel::update(
            sessions::table
                .filter(sessions::sid.eq(sid))
                .filter(sessions::ended_at.is_null()),
        )
        .set(sessions::ended_at.eq(now))
        .execute(&mut *conn)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(sessions::table
            .filter(sessions::sid.eq(sid))
            .select(SessionRow::as_select())
            .first(&mut *conn)
            .optional()?)
    }
}

fn insert(conn: &mut AnyConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Stores a new session, as a step of an audit entry's companion.
pub fn inserting(row: SessionRow) -> Step {
    Box::new(move |conn| insert(conn, &row))
}
