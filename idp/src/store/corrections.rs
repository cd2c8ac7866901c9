//! Correction requests (身份认证结果纠错) and the account changes that fix them.
use super::schema::{corrections, federated_identities, users};
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = corrections)]
pub struct CorrectionRow {
    pub id: String,
    pub sub: String,
    pub topic: String,
    pub detail: String,
    pub state: String,
    pub filed_at: i64,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
}

/// What a decision changes on the account, in the same transaction as the decision itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    None,
    Rename(String),
    Unlink,
}

impl Store {
    pub fn insert_correction(&self, row: &CorrectionRow) -> StoreResult<()> {
        diesel::insert_into(corrections::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn correction(&self, id: &str) -> StoreResult<Option<CorrectionRow>> {
        Ok(corrections::table
            .find(id)
            .select(CorrectionRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// A citizen's requests, newest first.
    pub fn corrections_of(&self, sub: &str) -> StoreResult<Vec<CorrectionRow>> {
        Ok(corrections::table
            .filter(corrections::sub.eq(sub))
            .order(corrections::filed_at.desc())
            .select(CorrectionRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Requests in `state`, oldest first (a review queue), at most `limit`.
    pub fn corrections_in_state(&self, state: &str, limit: i64) -> StoreResult<Vec<CorrectionRow>> {
        Ok(corrections::table
            .filter(corrections::state.eq(state))
            .order(corrections::filed_at.asc())
            .limit(limit)
            .select(CorrectionRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Records a decision on a request that is still open, and applies `change` to the
    /// citizen's account with it. False when the request was decided meanwhile (or is gone):
    /// then nothing changed.
    pub fn decide_correction(
        &self,
        id: &str,
        state: &str,
        by: &str,
        reason: &str,
        change: &AccountChange,
        now: i64,
    ) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        Ok(super::connection::write_transaction(&mut conn, |conn| {
            let decided = diesel::update(
                corrections::table
                    .filter(corrections::id.eq(id))
                    .filter(corrections::state.eq("open")),
            )
            .set((
                corrections::state.eq(state),
                corrections::decided_at.eq(now),
                corrections::decided_by.eq(by),
                corrections::reason.eq(reason),
            ))
            .execute(conn)?;
            if decided != 1 {
                return Ok(false);
            }
            let sub: String = corrections::table
                .find(id)
                .select(corrections::sub)
                .first(conn)?;
            match change {
                AccountChange::None => {}
                AccountChange::Rename(name) => {
                    diesel::update(users::table.find(&sub))
                        .set((users::name.eq(name), users::updated_at.eq(now)))
                        .execute(conn)?;
                }
                AccountChange::Unlink => {
                    diesel::delete(
                        federated_identities::table.filter(federated_identities::sub.eq(&sub)),
                    )
                    .execute(conn)?;
                }
            }
            Ok(true)
        })?)
    }
}
