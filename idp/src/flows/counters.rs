//! Per-client counters for monitoring. Counted in memory on the hot path and added to the
//! database in the background, so counting never costs a request a write.
use crate::clock::SharedClock;
use crate::store::clients::Counts;
use crate::store::{Store, StoreResult};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy)]
pub enum Event {
    Login,
    Token,
    Error,
}

#[derive(Debug, Default)]
pub struct Counters {
    pending: Mutex<HashMap<String, Counts>>,
}

impl Counters {
    pub fn count(&self, client_id: &str, event: Event) {
        let Ok(mut map) = self.pending.lock() else {
            return;
        };
        // Bounded: an attacker inventing client_ids cannot grow this without limit.
        if !map.contains_key(client_id) && map.len() >= 10_000 {
            return;
        }
        let c = map.entry(client_id.to_owned()).or_default();
        match event {
            Event::Login => c.logins += 1,
            Event::Token => c.tokens += 1,
            Event::Error => c.errors += 1,
        }
    }

    /// Moves the pending deltas into the database.
    pub fn flush(&self, store: &Store, clock: &SharedClock) -> StoreResult<()> {
        let pending = match self.pending.lock() {
            Ok(mut map) => std::mem::take(&mut *map),
            Err(_) => return Ok(()),
        };
        for (client_id, delta) in pending {
            store.add_counts(&client_id, delta, clock.now())?;
        }
        Ok(())
    }
}
