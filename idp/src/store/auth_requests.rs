use super::audit::Step;
use super::schema::auth_requests;
use super::{AnyConnection, Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_requests)]
pub struct AuthRequestRow {
    pub id: String,
    pub client_id: String,
    /// The validated request as JSON.
    pub request: String,
    pub login_sid: Option<String>,
    pub consent_sub: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    pub fn insert_auth_request(&self, row: &AuthRequestRow) -> StoreResult<()> {
        diesel::insert_into(auth_requests::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn auth_request(&self, id: &str, now: i64) -> StoreResult<Option<AuthRequestRow>> {
        Ok(auth_requests::table
            .find(id)
            .filter(auth_requests::expires_at.gt(now))
            .select(AuthRequestRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn mark_request_consent(&self, id: &str, sub: &str) -> StoreResult<()> {
        diesel::update(auth_requests::table.find(id))
            .set(auth_requests::consent_sub.eq(sub))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    /// Deletes a pending request; true if this call deleted it (single use).
    pub fn take_auth_request(&self, id: &str) -> StoreResult<bool> {
        Ok(diesel::delete(auth_requests::table.find(id)).execute(&mut *self.conn()?)? == 1)
    }
}

fn mark_login(conn: &mut AnyConnection, id: &str, sid: &str) -> QueryResult<()> {
    diesel::update(auth_requests::table.find(id))
        .set(auth_requests::login_sid.eq(sid))
        .execute(conn)
        .map(|_| ())
}

/// Marks a parked request as logged in by session `sid`, as a step of an audit entry's companion.
pub fn marking_login(id: String, sid: String) -> Step {
    Box::new(move |conn| mark_login(conn, &id, &sid))
}
