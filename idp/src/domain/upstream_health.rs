//! How an upstream identity provider (a province, the hub) has been answering this node: the
//! outcome of its recent logins, for the console's 省级节点 health column. Counted in memory per
//! node (each replica reports what it saw), from the real federation traffic: no probes.
use std::collections::VecDeque;

/// Outcomes that decide the state.
const WINDOW: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No login through it since this node started.
    Unknown,
    Healthy,
    /// Some of the recent answers failed.
    Degraded,
    /// The recent answers all failed.
    Down,
}

#[derive(Debug, Clone, Default)]
pub struct Health {
    recent: VecDeque<bool>,
    pub ok: u64,
    pub failed: u64,
    pub last_ok_at: Option<i64>,
    pub last_failure_at: Option<i64>,
    /// The failure's code (`unreachable`, `invalid_id_token`...), never its details.
    pub last_failure: Option<String>,
}

impl Health {
    pub fn record(&mut self, ok: bool, failure: Option<&str>, now: i64) {
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(ok);
        if ok {
            self.ok += 1;
            self.last_ok_at = Some(now);
        } else {
            self.failed += 1;
            self.last_failure_at = Some(now);
            self.last_failure = failure.map(str::to_owned);
        }
    }

    pub fn state(&self) -> State {
        let failures = self.recent.iter().filter(|ok| !**ok).count();
        match (self.recent.len(), failures) {
            (0, _) => State::Unknown,
            (_, 0) => State::Healthy,
            (n, f) if f == n && n >= 3 => State::Down,
            _ => State::Degraded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_follows_the_recent_outcomes() {
        let mut h = Health::default();
        assert_eq!(h.state(), State::Unknown);
        h.record(true, None, 10);
        assert_eq!(h.state(), State::Healthy);
        h.record(false, Some("unreachable"), 20);
        assert_eq!(h.state(), State::Degraded);
        assert_eq!((h.ok, h.failed), (1, 1));
        assert_eq!(h.last_failure.as_deref(), Some("unreachable"));
        assert_eq!((h.last_ok_at, h.last_failure_at), (Some(10), Some(20)));
        for t in 0..WINDOW as i64 {
            h.record(false, Some("unreachable"), 30 + t);
        }
        assert_eq!(h.state(), State::Down);
        h.record(true, None, 100);
        assert_eq!(h.state(), State::Degraded);
        for t in 0..WINDOW as i64 {
            h.record(true, None, 200 + t);
        }
        assert_eq!(h.state(), State::Healthy);
        assert_eq!(h.failed, 1 + WINDOW as u64);
    }

    #[test]
    fn one_or_two_failures_alone_are_degraded_not_down() {
        let mut h = Health::default();
        h.record(false, None, 1);
        h.record(false, None, 2);
        assert_eq!(h.state(), State::Degraded);
        h.record(false, None, 3);
        assert_eq!(h.state(), State::Down);
    }
}
