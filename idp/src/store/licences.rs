//! The licence registry, its status list shards and the licence issuer's certificates.
use super::schema::{licence_certificates, licences, status_lists};
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = licences)]
pub struct LicenceRow {
    pub id: String,
    pub licence_type: String,
    pub holder_lookup: String,
    pub holder_sealed: Vec<u8>,
    pub claims_sealed: Vec<u8>,
    pub valid_from: i64,
    pub valid_until: i64,
    pub state: String,
    pub status_list: String,
    pub status_idx: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = licence_certificates)]
pub struct LicenceCertificateRow {
    pub role: String,
    pub cert_der: Vec<u8>,
    pub sealed_private: Vec<u8>,
    pub kek_id: String,
    pub not_after: i64,
    pub created_at: i64,
}

/// A status list shard and the indices already given out in it.
#[derive(Debug, Clone)]
pub struct Shard {
    pub id: String,
    pub capacity: i64,
    pub taken: Vec<i64>,
}

impl Store {
    /// The newest shard holding fewer than `room_below` licences, with its taken indices.
    pub fn shard_with_room(&self, room_below: i64) -> StoreResult<Option<Shard>> {
        let conn = &mut *self.conn()?;
        let newest: Option<(String, i64)> = status_lists::table
            .order((status_lists::created_at.desc(), status_lists::id.desc()))
            .select((status_lists::id, status_lists::capacity))
            .first(conn)
            .optional()?;
        let Some((id, capacity)) = newest else {
            return Ok(None);
        };
        let taken: Vec<i64> = licences::table
            .filter(licences::status_list.eq(&id))
            .select(licences::status_idx)
            .load(conn)?;
        Ok((taken.len() < room_below as usize).then_some(Shard {
            id,
            capacity,
            taken,
        }))
    }

    pub fn insert_status_list(&self, id: &str, capacity: i64, now: i64) -> StoreResult<()> {
        diesel::insert_into(status_lists::table)
            .values((
                status_lists::id.eq(id),
                status_lists::capacity.eq(capacity),
                status_lists::created_at.eq(now),
            ))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn status_list_capacity(&self, id: &str) -> StoreResult<Option<i64>> {
        Ok(status_lists::table
            .find(id)
            .select(status_lists::capacity)
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Every licence of a shard that is not active: (index, state). Active is the default.
    pub fn shard_exceptions(&self, list: &str) -> StoreResult<Vec<(i64, String)>> {
        Ok(licences::table
            .filter(licences::status_list.eq(list))
            .filter(licences::state.ne("active"))
            .select((licences::status_idx, licences::state))
            .load(&mut *self.conn()?)?)
    }

    /// All of `rows` or none (a taken status index fails the whole batch).
    pub fn insert_licences(&self, rows: &[LicenceRow]) -> StoreResult<()> {
        let conn = &mut *self.conn()?;
        conn.transaction(|conn| {
            for row in rows {
                diesel::insert_into(licences::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok(())
        })
    }

    pub fn licence(&self, id: &str) -> StoreResult<Option<LicenceRow>> {
        Ok(licences::table
            .find(id)
            .select(LicenceRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn licences_of_holder(&self, holder_lookup: &str) -> StoreResult<Vec<LicenceRow>> {
        Ok(licences::table
            .filter(licences::holder_lookup.eq(holder_lookup))
            // Newest last, the same on every database (callers take the last that fits).
            .order((
                licences::valid_from.asc(),
                licences::created_at.asc(),
                licences::id.asc(),
            ))
            .select(LicenceRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Moves a licence from state `from` to `to`; false if it was not in `from` (a concurrent
    /// change won, or it does not exist).
    pub fn set_licence_state(&self, id: &str, from: &str, to: &str, now: i64) -> StoreResult<bool> {
        let n = diesel::update(licences::table.find(id).filter(licences::state.eq(from)))
            .set((licences::state.eq(to), licences::updated_at.eq(now)))
            .execute(&mut *self.conn()?)?;
        Ok(n == 1)
    }

    pub fn licence_certificate(&self, role: &str) -> StoreResult<Option<LicenceCertificateRow>> {
        Ok(licence_certificates::table
            .find(role)
            .select(LicenceCertificateRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Stores the rows unless a row of their roles exists (another replica was first): all or
    /// none. True if stored.
    pub fn insert_licence_certificates(&self, rows: &[LicenceCertificateRow]) -> StoreResult<bool> {
        let conn = &mut *self.conn()?;
        conn.transaction(|conn| {
            for row in rows {
                let taken = licence_certificates::table
                    .find(&row.role)
                    .count()
                    .get_result::<i64>(conn)?;
                if taken > 0 {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                diesel::insert_into(licence_certificates::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok(())
        })
        .map(|()| true)
        .or_else(|e| match e {
            diesel::result::Error::RollbackTransaction => Ok(false),
            e => Err(e.into()),
        })
    }
}
