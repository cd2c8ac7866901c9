use super::audit::Step;
use super::connection::{write_transaction, AnyConnection};
use super::schema::throttle;
use super::{Store, StoreResult};
use crate::domain::throttle::Counter;
use diesel::prelude::*;

type CounterRow = (i32, i64, Option<i64>);

const COUNTER_COLUMNS: (
    throttle::failures,
    throttle::window_start,
    throttle::locked_until,
) = (
    throttle::failures,
    throttle::window_start,
    throttle::locked_until,
);

fn counter((failures, window_start, locked_until): CounterRow) -> Counter {
    Counter {
        failures,
        window_start,
        locked_until,
    }
}

type CounterValues<'a> = (
    diesel::dsl::Eq<throttle::key, &'a str>,
    diesel::dsl::Eq<throttle::failures, i32>,
    diesel::dsl::Eq<throttle::window_start, i64>,
    diesel::dsl::Eq<throttle::locked_until, Option<i64>>,
);

/// A counter as the values of its row.
fn counter_row(key: &str, c: Counter) -> CounterValues<'_> {
    (
        throttle::key.eq(key),
        throttle::failures.eq(c.failures),
        throttle::window_start.eq(c.window_start),
        throttle::locked_until.eq(c.locked_until),
    )
}

impl Store {
    /// One counter as it stands (a read: for checks that count nothing).
    pub fn throttle_counter(&self, key: &str) -> StoreResult<Counter> {
        let row: Option<CounterRow> = throttle::table
            .find(key)
            .select(COUNTER_COLUMNS)
            .first(&mut *self.conn()?)
            .optional()?;
        Ok(row.map(counter).unwrap_or_default())
    }

    /// Read-modify-write of several counters in one write transaction, so parallel guesses all
    /// count and a login pays one commit for its account and its address together.
    /// `next(i, counter)` is the new value of the counter of `keys[i]`; None deletes it.
    pub fn update_throttle_counters(
        &self,
        keys: &[&str],
        next: impl FnMut(usize, Counter) -> Option<Counter>,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, |conn| update_counters(conn, keys, next))?;
        Ok(())
    }
}

/// Settles counters (as `Store::update_throttle_counters`), as a step of an audit entry's
/// companion: a successful login's forgiveness commits with its entry.
pub fn settling(
    keys: Vec<String>,
    next: impl FnMut(usize, Counter) -> Option<Counter> + Send + 'static,
) -> Step {
    Box::new(move |conn| {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        update_counters(conn, &keys, next)
    })
}

/// The read-modify-write of `update_throttle_counters`, inside the caller's transaction.
fn update_counters(
    conn: &mut AnyConnection,
    keys: &[&str],
    mut next: impl FnMut(usize, Counter) -> Option<Counter>,
) -> QueryResult<()> {
    for (i, key) in keys.iter().enumerate() {
        let row = read_for_update(conn, key)?;
        let exists = row.is_some();
        let current = row.map(counter).unwrap_or_default();
        match (next(i, current), exists) {
            (Some(c), true) => {
                diesel::update(throttle::table.find(key))
                    .set((
                        throttle::failures.eq(c.failures),
                        throttle::window_start.eq(c.window_start),
                        throttle::locked_until.eq(c.locked_until),
                    ))
                    .execute(conn)?;
            }
            (Some(c), false) => {
                diesel::insert_into(throttle::table)
                    .values(counter_row(key, c))
                    .execute(conn)?;
            }
            (None, true) => {
                diesel::delete(throttle::table.find(key)).execute(conn)?;
            }
            (None, false) => {}
        }
    }
    Ok(())
}

/// A counter's row inside a write transaction, held until it ends. SQLite's write transaction
/// already shuts out every other writer; PostgreSQL's READ COMMITTED would let two parallel
/// guesses read the same count and both write count + 1, so there the row is read FOR UPDATE,
/// after making sure there is a row to lock (a blank one is the same as no counter).
fn read_for_update(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<CounterRow>> {
    let query = throttle::table.find(key).select(COUNTER_COLUMNS);
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::insert_into(throttle::table)
            .values(counter_row(key, Counter::default()))
            .on_conflict_do_nothing()
            .execute(pg)?;
        return query.for_update().first(pg).optional();
    }
    query.first(conn).optional()
}
