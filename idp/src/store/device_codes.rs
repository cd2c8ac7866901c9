//! Device authorizations in flight (RFC 8628).
use super::schema::device_codes;
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = device_codes)]
pub struct DeviceCodeRow {
    pub device_code_hash: String,
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    pub status: String,
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub acr: Option<String>,
    pub amr: Option<String>,
    pub auth_time: Option<i64>,
    pub interval_secs: i64,
    pub last_poll_at: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Who approved, from their session.
#[derive(Debug, Clone)]
pub struct Approval<'a> {
    pub sub: &'a str,
    pub sid: &'a str,
    pub acr: &'a str,
    pub amr: &'a str,
    pub auth_time: i64,
}

impl Store {
    pub fn insert_device_code(&self, row: &DeviceCodeRow) -> StoreResult<()> {
        diesel::insert_into(device_codes::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn device_code(&self, hash: &str) -> StoreResult<Option<DeviceCodeRow>> {
        Ok(device_codes::table
            .find(hash)
            .select(DeviceCodeRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn device_code_by_user_code(&self, user_code: &str) -> StoreResult<Option<DeviceCodeRow>> {
        Ok(device_codes::table
            .filter(device_codes::user_code.eq(user_code))
            .select(DeviceCodeRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn record_device_poll(&self, hash: &str, now: i64, interval_secs: i64) -> StoreResult<()> {
        diesel::update(device_codes::table.find(hash))
            .set((
                device_codes::last_poll_at.eq(now),
                device_codes::interval_secs.eq(interval_secs),
            ))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    /// Approves or denies a pending code; false when it was no longer pending.
    pub fn decide_device_code(
        &self,
        user_code: &str,
        approval: Option<&Approval<'_>>,
        now: i64,
    ) -> StoreResult<bool> {
        let pending = device_codes::table
            .filter(device_codes::user_code.eq(user_code))
            .filter(device_codes::status.eq("pending"))
            .filter(device_codes::expires_at.gt(now));
        let n = match approval {
            Some(a) => diesel::update(pending)
                .set((
                    device_codes::status.eq("approved"),
                    device_codes::sub.eq(a.sub),
                    device_codes::sid.eq(a.sid),
                    device_codes::acr.eq(a.acr),
                    device_codes::amr.eq(a.amr),
                    device_codes::auth_time.eq(a.auth_time),
                ))
                .execute(&mut *self.conn()?)?,
            None => diesel::update(pending)
                .set(device_codes::status.eq("denied"))
                .execute(&mut *self.conn()?)?,
        };
        Ok(n == 1)
    }

    /// Spends an approved code; true for the one caller whose UPDATE did it.
    pub fn spend_device_code(&self, hash: &str) -> StoreResult<bool> {
        Ok(diesel::update(
            device_codes::table
                .find(hash)
                .filter(device_codes::status.eq("approved")),
        )
        .set(device_codes::status.eq("spent"))
        .execute(&mut *self.conn()?)?
            == 1)
    }

    pub fn purge_device_codes(&self, now: i64) -> StoreResult<usize> {
        // Kept a day past expiry so a late poll still hears `expired_token`.
        Ok(
            diesel::delete(device_codes::table.filter(device_codes::expires_at.lt(now - 86_400)))
                .execute(&mut *self.conn()?)?,
        )
    }
}
