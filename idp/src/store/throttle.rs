use super::connection::write_transaction;
use super::schema::throttle;
use super::{Store, StoreResult};
use crate::domain::throttle::Counter;
use diesel::prelude::*;

impl Store {
    /// One counter as it stands (a read: for checks that count nothing).
    pub fn throttle_counter(&self, key: &str) -> StoreResult<Counter> {
        let row: Option<(i32, i64, Option<i64>)> = throttle::table
            .find(key)
            .select((
                throttle::failures,
                throttle::window_start,
                throttle::locked_until,
            ))
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(row
            .map(|(failures, window_start, locked_until)| Counter {
                failures,
                window_start,
                locked_until,
            })
            .unwrap_or_default())
    }

    /// Read-modify-write of one counter in a write transaction, so parallel guesses all count.
    pub fn update_throttle_counter(
        &self,
        key: &str,
        next: impl FnOnce(Counter) -> Counter,
    ) -> StoreResult<Counter> {
        let mut conn = self.conn()?;
        let counter = write_transaction(&mut conn, |conn| {
            let row: Option<(i32, i64, Option<i64>)> = throttle::table
                .find(key)
                .select((
                    throttle::failures,
                    throttle::window_start,
                    throttle::locked_until,
                ))
                .first(conn)
                .optional()?;
            let exists = row.is_some();
            let current = row
                .map(|(failures, window_start, locked_until)| Counter {
                    failures,
                    window_start,
                    locked_until,
                })
                .unwrap_or_default();
            let c = next(current);
            if exists {
                diesel::update(throttle::table.find(key))
                    .set((
                        throttle::failures.eq(c.failures),
                        throttle::window_start.eq(c.window_start),
                        throttle::locked_until.eq(c.locked_until),
                    ))
                    .execute(conn)?;
            } else {
                diesel::insert_into(throttle::table)
                    .values((
                        throttle::key.eq(key),
                        throttle::failures.eq(c.failures),
                        throttle::window_start.eq(c.window_start),
                        throttle::locked_until.eq(c.locked_until),
                    ))
                    .execute(conn)?;
            }
            Ok(c)
        })?;
        Ok(counter)
    }

    pub fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        diesel::delete(throttle::table.find(key)).execute(&mut *self.conn()?)?;
        Ok(())
    }
}
