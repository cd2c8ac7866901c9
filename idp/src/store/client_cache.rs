//! Registered apps as read in the last second. Every token, introspection and authorization
//! request reads its app; at thousands of requests a second that was one query each for rows
//! that change a few times a year. A change made through this process (a new app, a status)
//! is seen at once; one made by another replica or the CLI within `TTL`.
use super::clients::ClientRow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a row read from the database is trusted: a suspended app on another replica, or a
/// changed secret, takes effect here within this time.
pub const TTL: Duration = Duration::from_secs(1);

/// Only apps that exist are kept, so unknown ids sent by anyone cannot grow the map; past
/// this many (far more than a national platform registers), it starts over.
const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Default)]
pub struct ClientCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    rows: HashMap<String, (Instant, ClientRow)>,
    /// Bumped by every change: a read that began before a change must not store what it read.
    generation: u64,
}

impl ClientCache {
    pub fn get(&self, client_id: &str, now: Instant) -> Option<ClientRow> {
        let entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .rows
            .get(client_id)
            .filter(|(read_at, _)| now.duration_since(*read_at) < TTL)
            .map(|(_, row)| row.clone())
    }

    /// The generation to hand back to `put` after reading the database.
    pub fn generation(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation
    }

    /// Keeps a row read at `read_at`, unless a change happened since `generation` was taken.
    pub fn put(&self, generation: u64, row: &ClientRow, read_at: Instant) {
        let mut entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if entries.generation != generation {
            return;
        }
        if entries.rows.len() >= MAX_ENTRIES {
            entries.rows.clear();
        }
        entries
            .rows
            .insert(row.client_id.clone(), (read_at, row.clone()));
    }

    /// After this process changed an app.
    pub fn forget(&self, client_id: &str) {
        let mut entries = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        entries.generation += 1;
        entries.rows.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: &str) -> ClientRow {
        ClientRow {
            client_id: id.into(),
            name: "app".into(),
            secret_hash: None,
            auth_method: "none".into(),
            redirect_uris: "[]".into(),
            post_logout_redirect_uris: "[]".into(),
            grant_types: "[]".into(),
            scopes: "[]".into(),
            id_token_alg: "ES256".into(),
            jwks: None,
            jwks_uri: None,
            request_object_alg: None,
            backchannel_logout_uri: None,
            status: status.into(),
            status_reason: None,
            registration_token_hash: None,
            metadata: "{}".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_row_is_served_for_one_ttl_and_then_read_again() {
        let cache = ClientCache::default();
        let t0 = Instant::now();
        cache.put(cache.generation(), &row("a", "approved"), t0);
        assert_eq!(
            cache.get("a", t0).map(|r| r.status),
            Some("approved".into())
        );
        assert!(cache.get("a", t0 + TTL).is_none(), "stale after the TTL");
        assert!(cache.get("b", t0).is_none());
    }

    #[test]
    fn a_change_here_is_seen_at_once_even_by_a_read_in_flight() {
        let cache = ClientCache::default();
        let t0 = Instant::now();
        cache.put(cache.generation(), &row("a", "approved"), t0);
        // A read of the old row began, then the app was suspended, then the read finished.
        let before = cache.generation();
        cache.forget("a");
        cache.put(before, &row("a", "approved"), t0);
        assert!(cache.get("a", t0).is_none(), "the stale read was not kept");
        cache.put(cache.generation(), &row("a", "suspended"), t0);
        assert_eq!(
            cache.get("a", t0).map(|r| r.status),
            Some("suspended".into())
        );
    }

    #[test]
    fn the_map_is_bounded() {
        let cache = ClientCache::default();
        let t0 = Instant::now();
        for i in 0..=MAX_ENTRIES {
            cache.put(cache.generation(), &row(&format!("c{i}"), "approved"), t0);
        }
        let len = cache.inner.lock().expect("not poisoned").rows.len();
        assert!(len <= MAX_ENTRIES, "{len}");
    }
}
