//! A verifier's ledger of the nonces it handed out, so each presentation is accepted once.
//!
//! Pure and in memory: right for one verifier process (a kiosk, the CLI). A verifier service
//! with several replicas must keep the same ledger in its database instead, since a wallet's
//! answer may reach another replica than the one that issued the nonce.

use std::collections::HashMap;
use std::fmt;

use super::Refusal;

/// Outstanding nonces with their expiry.
pub struct NonceBook {
    ttl_secs: i64,
    capacity: usize,
    live: HashMap<String, i64>,
}

impl fmt::Debug for NonceBook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceBook")
            .field("ttl_secs", &self.ttl_secs)
            .field("capacity", &self.capacity)
            .field("outstanding", &self.live.len())
            .finish()
    }
}

impl NonceBook {
    /// Nonces live `ttl_secs`; at most `capacity` are outstanding at once.
    pub fn new(ttl_secs: i64, capacity: usize) -> NonceBook {
        NonceBook {
            ttl_secs: ttl_secs.max(1),
            capacity: capacity.max(1),
            live: HashMap::new(),
        }
    }

    /// A fresh 128-bit nonce valid until `now + ttl`, or `None` when `capacity` nonces are
    /// still outstanding (the caller answers "busy": evicting live nonces would fail
    /// wallets that are mid-way, and growing would let a flood exhaust memory).
    pub fn issue(&mut self, now: i64) -> Option<String> {
        if self.live.len() >= self.capacity {
            self.sweep(now);
            if self.live.len() >= self.capacity {
                return None;
            }
        }
        let nonce = keys::random_token(16);
        self.live.insert(nonce.clone(), now + self.ttl_secs);
        Some(nonce)
    }

    /// True once per issued nonce, and only before it expires; it is gone afterwards.
    pub fn spend(&mut self, nonce: &str, now: i64) -> bool {
        self.live.remove(nonce).is_some_and(|expiry| now < expiry)
    }

    /// [`Self::spend`], as a refusal for a replayed or expired nonce.
    pub fn spend_or_refuse(&mut self, nonce: &str, now: i64) -> Result<(), Refusal> {
        if self.spend(nonce, now) {
            Ok(())
        } else {
            Err(Refusal::ReplayedNonce)
        }
    }

    /// Forgets expired nonces.
    pub fn sweep(&mut self, now: i64) {
        self.live.retain(|_, expiry| now < *expiry);
    }

    /// Nonces issued and not yet spent or swept.
    pub fn outstanding(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_once_and_only_before_expiry() {
        let mut book = NonceBook::new(60, 10);
        let n = book.issue(1000).expect("room");
        assert_eq!(n.len(), 22);
        assert!(book.spend(&n, 1059));
        assert!(!book.spend(&n, 1059), "second spend is a replay");
        assert_eq!(book.spend_or_refuse(&n, 1059), Err(Refusal::ReplayedNonce));
        let late = book.issue(1000).expect("room");
        assert!(!book.spend(&late, 1060), "expired");
        assert!(!book.spend("never-issued", 1000));
    }

    #[test]
    fn memory_is_bounded() {
        let mut book = NonceBook::new(60, 3);
        for _ in 0..3 {
            assert!(book.issue(0).is_some());
        }
        assert!(book.issue(10).is_none(), "full of live nonces");
        assert!(book.issue(60).is_some(), "expired ones were swept");
        assert_eq!(book.outstanding(), 1);
    }
}
