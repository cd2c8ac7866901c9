//! Throttling of password guessing, per account and per client IP (RFC 9700 4.1, OWASP).
//! The policy is pure; the counters live in the database so every replica sees them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: i32,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

/// Five wrong passwords for one account lock it for 15 minutes.
pub const PER_ACCOUNT: Policy = Policy {
    max_failures: 5,
    window_secs: 900,
    lockout_secs: 900,
};
/// One address may fail 50 times in 15 minutes (shared NATs are common at government counters).
pub const PER_IP: Policy = Policy {
    max_failures: 50,
    window_secs: 900,
    lockout_secs: 900,
};

/// A counter as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: i32,
    pub window_start: i64,
    pub locked_until: Option<i64>,
}

impl Policy {
    pub fn is_locked(&self, counter: &Counter, now: i64) -> bool {
        counter.locked_until.is_some_and(|until| now < until)
    }

    /// Takes back one counted attempt (it turned out to be a success).
    pub fn forgive_one(&self, counter: Counter) -> Counter {
        let failures = (counter.failures - 1).max(0);
        Counter {
            failures,
            locked_until: if failures < self.max_failures {
                None
            } else {
                counter.locked_until
            },
            ..counter
        }
    }

    /// The counter after one more failure at `now`.
    pub fn record_failure(&self, counter: Counter, now: i64) -> Counter {
        let mut next = if now - counter.window_start >= self.window_secs {
            Counter {
                failures: 0,
                window_start: now,
                locked_until: None,
            }
        } else {
            counter
        };
        next.failures += 1;
        if next.failures >= self.max_failures {
            next.locked_until = Some(now + self.lockout_secs);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_unlocks_later() {
        let mut c = Counter {
            window_start: 0,
            ..Default::default()
        };
        for i in 0..5 {
            assert!(!PER_ACCOUNT.is_locked(&c, 10 + i));
            c = PER_ACCOUNT.record_failure(c, 10 + i);
        }
        assert!(PER_ACCOUNT.is_locked(&c, 20));
        assert!(!PER_ACCOUNT.is_locked(&c, 20 + 900));
    }

    #[test]
    fn window_resets() {
        let c = PER_ACCOUNT.record_failure(Counter::default(), 0);
        let c = PER_ACCOUNT.record_failure(c, 1000);
        assert_eq!(c.failures, 1);
    }
}
