//! When a verifier may use a status list it fetched earlier. Pure: the binary does the fetching
//! and the file I/O. Within the list's `ttl` the cached copy is used without asking; after it,
//! the verifier fetches again, and only if that fails (offline at a counter) does it fall back
//! to the old copy, for at most the stated grace period, and says so in its answer.

/// A status list token as fetched.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CachedList {
    pub uri: String,
    pub token: String,
    pub fetched_at: i64,
    /// The list's own `ttl`, or the default when it has none.
    pub ttl: i64,
}

/// A list without `ttl` is refetched after this.
pub const DEFAULT_TTL_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The cached copy is fresh: use it.
    UseCached,
    /// Fetch; on failure call [`fallback`].
    Fetch,
}

pub fn plan(cached: Option<&CachedList>, now: i64) -> Plan {
    match cached {
        Some(c) if now >= c.fetched_at && now < c.fetched_at + c.ttl => Plan::UseCached,
        _ => Plan::Fetch,
    }
}

/// After a failed fetch: the old copy if it went stale less than `grace_secs` ago.
pub fn fallback(cached: Option<&CachedList>, now: i64, grace_secs: i64) -> Option<&CachedList> {
    cached.filter(|c| now >= c.fetched_at && now < c.fetched_at + c.ttl + grace_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(fetched_at: i64) -> CachedList {
        CachedList {
            uri: "https://idp.example/status-lists/a".into(),
            token: "t".into(),
            fetched_at,
            ttl: 300,
        }
    }

    #[test]
    fn a_fresh_copy_is_used_and_a_stale_one_refetched() {
        assert_eq!(plan(None, 1000), Plan::Fetch);
        assert_eq!(plan(Some(&list(1000)), 1299), Plan::UseCached);
        assert_eq!(plan(Some(&list(1000)), 1300), Plan::Fetch);
        // A copy from the future (clock moved back) is not trusted.
        assert_eq!(plan(Some(&list(1000)), 999), Plan::Fetch);
    }

    #[test]
    fn offline_the_old_copy_serves_only_within_the_grace_period() {
        let cached = list(1000);
        assert!(fallback(Some(&cached), 1300 + 3599, 3600).is_some());
        assert!(fallback(Some(&cached), 1300 + 3600, 3600).is_none());
        assert!(fallback(None, 1000, 3600).is_none());
    }
}
