//! QR-code logins in flight.
use super::audit::Claim;
use super::schema::qr_logins;
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = qr_logins)]
pub struct QrLoginRow {
    pub id_hash: String,
    pub binding_hash: String,
    pub request_id: Option<String>,
    pub status: String,
    pub sub: Option<String>,
    pub acr: Option<String>,
    pub amr: Option<String>,
    pub client_ip: String,
    pub browser: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

/// The app's answer.
#[derive(Debug, Clone)]
pub struct QrAnswer<'a> {
    pub sub: &'a str,
    pub acr: &'a str,
    pub amr: &'a str,
}

impl Store {
    pub fn insert_qr_login(&self, row: &QrLoginRow) -> StoreResult<()> {
        diesel::insert_into(qr_logins::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn qr_login(&self, id_hash: &str) -> StoreResult<Option<QrLoginRow>> {
        Ok(qr_logins::table
            .find(id_hash)
            .select(QrLoginRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Records who scanned a live code: a waiting one, or one this same citizen scanned before.
    /// False otherwise (another phone got there first, or it expired).
    pub fn scan_qr_login(&self, id_hash: &str, scanner_sub: &str, now: i64) -> StoreResult<bool> {
        let n = diesel::update(
            qr_logins::table
                .find(id_hash)
                .filter(qr_logins::expires_at.gt(now))
                .filter(
                    qr_logins::status.eq("waiting").or(qr_logins::status
                        .eq("scanned")
                        .and(qr_logins::sub.eq(scanner_sub))),
                ),
        )
        .set((
            qr_logins::status.eq("scanned"),
            qr_logins::sub.eq(scanner_sub),
            qr_logins::updated_at.eq(now),
        ))
        .execute(&mut *self.conn()?)?;
        Ok(n == 1)
    }

    /// The scanner's answer: only the citizen who scanned may give it, and only once (false
    /// otherwise, so two answers cannot both win).
    pub fn answer_qr_login(
        &self,
        id_hash: &str,
        answer: &QrAnswer<'_>,
        approve: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let live = qr_logins::table
            .find(id_hash)
            .filter(qr_logins::status.eq("scanned"))
            .filter(qr_logins::sub.eq(answer.sub))
            .filter(qr_logins::expires_at.gt(now));
        let n = if approve {
            diesel::update(live)
                .set((
                    qr_logins::status.eq("approved"),
                    qr_logins::acr.eq(answer.acr),
                    qr_logins::amr.eq(answer.amr),
                    qr_logins::updated_at.eq(now),
                ))
                .execute(&mut *self.conn()?)?
        } else {
            diesel::update(live)
                .set((
                    qr_logins::status.eq("denied"),
                    qr_logins::updated_at.eq(now),
                ))
                .execute(&mut *self.conn()?)?
        };
        Ok(n == 1)
    }

    /// Logins whose status changed at or after `since` (for the replica's status watcher).
    pub fn qr_logins_changed_since(&self, since: i64) -> StoreResult<Vec<String>> {
        Ok(qr_logins::table
            .filter(qr_logins::updated_at.ge(since))
            .select(qr_logins::id_hash)
            .load(&mut *self.conn()?)?)
    }

    pub fn purge_qr_logins(&self, now: i64) -> StoreResult<usize> {
        Ok(
            diesel::delete(qr_logins::table.filter(qr_logins::expires_at.lt(now - 3600)))
                .execute(&mut *self.conn()?)?,
        )
    }
}

/// Marks an approved QR login collected by its browser, as the claim of an audit entry's
/// companion: one collection only, even if two tabs of the browser ask at once. An answer given
/// just before the code expired may still be collected for a minute.
pub fn collecting(id_hash: String, now: i64) -> Claim {
    Box::new(move |conn| {
        Ok(diesel::update(
            qr_logins::table
                .find(&id_hash)
                .filter(qr_logins::status.eq("approved"))
                .filter(qr_logins::expires_at.gt(now - 60)),
        )
        .set((qr_logins::status.eq("done"), qr_logins::updated_at.eq(now)))
        .execute(conn)?
            == 1)
    })
}
