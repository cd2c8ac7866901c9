//! Chains already validated, so the hot path of a verifier costs two signature checks
//! (issuer JWT and KB-JWT) instead of parsing and checking certificates every time.
//! Bounded: a flood of distinct chains can only make the cache start over, never grow it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::x5c::ValidatedChain;

/// How many distinct chains to remember; a nation has far fewer issuers.
pub(crate) const CAPACITY: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct ChainCache {
    entries: Mutex<HashMap<[u8; 32], Arc<ValidatedChain>>>,
}

impl ChainCache {
    /// The chain with this id, if it was validated and every certificate is valid at `now`.
    pub fn get(&self, id: &[u8; 32], now: i64) -> Option<Arc<ValidatedChain>> {
        let entries = self.lock();
        entries
            .get(id)
            .filter(|c| c.valid_from <= now && now <= c.valid_until)
            .cloned()
    }

    pub fn insert(&self, id: [u8; 32], chain: Arc<ValidatedChain>, now: i64) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.retain(|_, c| now <= c.valid_until);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(id, chain);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<ValidatedChain>>> {
        // A panic elsewhere cannot leave a map of immutable verdicts half-written.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(valid_until: i64) -> Arc<ValidatedChain> {
        let key = keys::SigningKey::generate(keys::Alg::ES256).expect("a test key");
        Arc::new(ValidatedChain {
            leaf_key: super::super::es256::P256Key::from_jwk(&key.public_jwk())
                .expect("an EC P-256 JWK"),
            valid_from: 0,
            valid_until,
            san_uris: Vec::new(),
            san_dns: Vec::new(),
        })
    }

    #[test]
    fn hits_only_inside_validity_and_stays_bounded() {
        let cache = ChainCache::default();
        let entry = chain(100);
        cache.insert([1; 32], Arc::clone(&entry), 10);
        assert!(cache.get(&[1; 32], 100).is_some());
        assert!(
            cache.get(&[1; 32], 101).is_none(),
            "past the earliest not_after"
        );
        assert!(
            cache.get(&[1; 32], -1).is_none(),
            "before the latest not_before"
        );
        assert!(cache.get(&[2; 32], 10).is_none());
        for i in 0..CAPACITY * 3 {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.insert(id, Arc::clone(&entry), 10);
            assert!(cache.len() <= CAPACITY);
        }
    }
}
