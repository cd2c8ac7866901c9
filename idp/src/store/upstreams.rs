//! The federation's upstream identity providers (see `domain::upstream`).
use super::schema::upstreams;
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = upstreams)]
pub struct UpstreamRow {
    pub code: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret_sealed: Vec<u8>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Store {
    /// False when the code is taken.
    pub fn insert_upstream(&self, row: &UpstreamRow) -> StoreResult<bool> {
        let conn = &mut *self.conn()?;
        conn.transaction(|conn| {
            let taken = upstreams::table
                .find(&row.code)
                .select(upstreams::code)
                .first::<String>(conn)
                .optional()?
                .is_some();
            if taken {
                return Ok(false);
            }
            diesel::insert_into(upstreams::table)
                .values(row)
                .execute(conn)?;
            Ok(true)
        })
    }

    /// Inserts all of `rows` or none: false (nothing stored) when a code is taken.
    pub fn insert_upstreams(&self, rows: &[UpstreamRow]) -> StoreResult<bool> {
        let conn = &mut *self.conn()?;
        conn.transaction(|conn| {
            for chunk in rows.chunks(500) {
                let codes: Vec<&str> = chunk.iter().map(|r| r.code.as_str()).collect();
                let taken: i64 = upstreams::table
                    .filter(upstreams::code.eq_any(&codes))
                    .count()
                    .get_result(conn)?;
                if taken > 0 {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                for row in chunk {
                    diesel::insert_into(upstreams::table)
                        .values(row)
                        .execute(conn)?;
                }
            }
            Ok(())
        })
        .map(|()| true)
        .or_else(|e| match e {
            diesel::result::Error::RollbackTransaction => Ok(false),
            other => Err(other.into()),
        })
    }

    /// Every upstream, by code.
    pub fn upstreams(&self) -> StoreResult<Vec<UpstreamRow>> {
        Ok(upstreams::table
            .order(upstreams::code)
            .select(UpstreamRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    pub fn upstream(&self, code: &str) -> StoreResult<Option<UpstreamRow>> {
        Ok(upstreams::table
            .find(code)
            .select(UpstreamRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// The enabled upstream with this issuer (the `iss` of a token it sent), if any.
    pub fn enabled_upstream_by_issuer(&self, issuer: &str) -> StoreResult<Option<UpstreamRow>> {
        Ok(upstreams::table
            .filter(upstreams::issuer.eq(issuer))
            .filter(upstreams::enabled.eq(true))
            .order(upstreams::code.asc())
            .select(UpstreamRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// The codes among `codes` that are enabled upstreams (one indexed lookup).
    pub fn enabled_upstream_codes(&self, codes: &[&str]) -> StoreResult<Vec<String>> {
        Ok(upstreams::table
            .filter(upstreams::code.eq_any(codes))
            .filter(upstreams::enabled.eq(true))
            .select(upstreams::code)
            .load(&mut *self.conn()?)?)
    }

    /// Whether any upstream is enabled (the login page then offers other regions' accounts).
    pub fn any_enabled_upstream(&self) -> StoreResult<bool> {
        Ok(upstreams::table
            .filter(upstreams::enabled.eq(true))
            .select(upstreams::code)
            .first::<String>(&mut *self.conn()?)
            .optional()?
            .is_some())
    }

    /// True when the upstream exists (whatever it was before).
    pub fn set_upstream_enabled(&self, code: &str, enabled: bool, now: i64) -> StoreResult<bool> {
        Ok(diesel::update(upstreams::table.find(code))
            .set((
                upstreams::enabled.eq(enabled),
                upstreams::updated_at.eq(now),
            ))
            .execute(&mut *self.conn()?)?
            == 1)
    }
}
