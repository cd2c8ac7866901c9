//! The tamper-evident audit log: each entry's hash covers the previous entry's hash, so
//! altering or removing any entry breaks every hash after it.
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as the flows report it. `actor` is a subject or a pseudonym, never an ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub kind: String,
    pub actor: String,
    pub client_id: Option<String>,
    /// Short JSON with the facts that matter; never secrets or ID numbers.
    pub detail: String,
}

impl AuditEvent {
    pub fn new(
        kind: &str,
        actor: &str,
        client_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            kind: kind.into(),
            actor: actor.into(),
            client_id: client_id.map(Into::into),
            detail: detail.to_string(),
        }
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

/// The key of the chain (derived from the KEK). With a keyed hash, someone who can write to the
/// database but does not hold the KEK cannot rewrite the chain consistently.
pub type ChainKey = [u8; 32];

/// Hash of one entry: HMAC-SHA-256 over a length-prefixed encoding (no ambiguity between fields).
pub fn entry_hash(
    key: &ChainKey,
    prev_hash: &str,
    seq: i64,
    at: i64,
    event: &AuditEvent,
) -> String {
    let mut h = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    let client = event.client_id.as_deref().unwrap_or("");
    for field in [
        prev_hash,
        &seq.to_string(),
        &at.to_string(),
        &event.kind,
        &event.actor,
        client,
        &event.detail,
    ] {
        h.update(&(field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex(&h.finalize().into_bytes())
}

pub fn chain(key: &ChainKey, prev_hash: &str, seq: i64, at: i64, event: AuditEvent) -> AuditEntry {
    let hash = entry_hash(key, prev_hash, seq, at, &event);
    AuditEntry {
        seq,
        at,
        event,
        prev_hash: prev_hash.to_owned(),
        hash,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {0} is missing (sequence gap)")]
    Missing(i64),
    #[error("entry {0} was altered (its hash does not match its content)")]
    Altered(i64),
    #[error("entry {0} does not follow the entry before it")]
    Relinked(i64),
    #[error("the chain head says {expected} entries, the log has {found}: entries were removed from the end")]
    Truncated { expected: i64, found: i64 },
}

/// Walks entries in order, checking sequence, links and hashes. Returns the number checked.
pub struct ChainVerifier {
    key: ChainKey,
    prev_hash: String,
    next_seq: i64,
}

impl ChainVerifier {
    pub fn new(key: &ChainKey) -> Self {
        Self {
            key: *key,
            prev_hash: GENESIS.into(),
            next_seq: 1,
        }
    }
}

impl std::fmt::Debug for ChainVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainVerifier(next_seq={})", self.next_seq)
    }
}

impl ChainVerifier {
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.next_seq {
            return Err(ChainBreak::Missing(self.next_seq));
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Relinked(entry.seq));
        }
        if entry_hash(
            &self.key,
            &entry.prev_hash,
            entry.seq,
            entry.at,
            &entry.event,
        ) != entry.hash
        {
            return Err(ChainBreak::Altered(entry.seq));
        }
        self.prev_hash = entry.hash.clone();
        self.next_seq += 1;
        Ok(())
    }
    /// Compares the end of the walk with the separately stored chain head.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let found = self.next_seq - 1;
        if head_seq != found {
            return Err(ChainBreak::Truncated {
                expected: head_seq,
                found,
            });
        }
        if found > 0 && head_hash != self.prev_hash {
            return Err(ChainBreak::Altered(found));
        }
        Ok(found)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: ChainKey = [9; 32];

    fn sample_with(key: &ChainKey, n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let e = chain(
                    key,
                    &prev,
                    seq,
                    1000 + seq,
                    AuditEvent::new("login.success", "sub-1", None, serde_json::json!({})),
                );
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn sample(n: i64) -> Vec<AuditEntry> {
        sample_with(&KEY, n)
    }

    fn verify(entries: &[AuditEntry], head: (i64, &str)) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::new(&KEY);
        for e in entries {
            v.push(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let log = sample(5);
        assert_eq!(verify(&log, (5, &log[4].hash.clone())), Ok(5));
    }

    #[test]
    fn a_chain_rebuilt_without_the_key_does_not_verify() {
        let forged = sample_with(&[0; 32], 3);
        assert_eq!(
            verify(&forged, (3, &forged[2].hash.clone())),
            Err(ChainBreak::Altered(1))
        );
    }

    #[test]
    fn alteration_removal_and_truncation_are_found() {
        let log = sample(5);
        let head = log[4].hash.clone();
        let mut altered = log.clone();
        altered[2].event.actor = "someone-else".into();
        assert_eq!(verify(&altered, (5, &head)), Err(ChainBreak::Altered(3)));
        let mut removed = log.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, (5, &head)), Err(ChainBreak::Missing(2)));
        assert_eq!(
            verify(&log[..4], (5, &head)),
            Err(ChainBreak::Truncated {
                expected: 5,
                found: 4
            })
        );
    }
}
