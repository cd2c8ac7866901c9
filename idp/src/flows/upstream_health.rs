//! This node's record of how each upstream has been answering (see `domain::upstream_health`).
use crate::domain::upstream_health::Health;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct UpstreamHealth(Mutex<HashMap<String, Health>>);

impl UpstreamHealth {
    pub fn record(&self, code: &str, ok: bool, failure: Option<&str>, now: i64) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(code.to_owned())
            .or_default()
            .record(ok, failure, now);
    }

    pub fn of(&self, code: &str) -> Health {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(code).cloned().unwrap_or_default()
    }
}
