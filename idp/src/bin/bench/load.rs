//! One scenario run: N virtual clients, each with a state of its own, each doing one operation
//! after another until the time is up; the server's CPU time is read from /proc around it.
use crate::server::{cpu_seconds, hashing_seconds};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Outcome {
    pub name: String,
    pub ops: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Sorted.
    pub latencies_us: Vec<u32>,
    pub server_cpu: f64,
    /// Of `server_cpu`, the seconds its Argon2id threads used.
    pub hashing_cpu: f64,
}

impl Outcome {
    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.seconds.max(1e-9)
    }

    /// Two runs of the same scenario as one: their operations, time and CPU added up.
    pub fn merged(mut self, other: Outcome) -> Outcome {
        self.ops += other.ops;
        self.errors += other.errors;
        self.seconds += other.seconds;
        self.server_cpu += other.server_cpu;
        self.hashing_cpu += other.hashing_cpu;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
        self
    }

    /// Server CPU milliseconds per operation.
    pub fn cpu_ms_per_op(&self) -> f64 {
        if self.ops == 0 {
            return 0.0;
        }
        self.server_cpu * 1000.0 / self.ops as f64
    }

    /// For scenarios that hash a password: the hash's share of the server's CPU, and the
    /// server's CPU milliseconds per operation besides the hash.
    pub fn hashing(&self) -> Option<(f64, f64)> {
        (self.hashing_cpu > 0.0 && self.server_cpu > 0.0 && self.ops > 0).then(|| {
            (
                self.hashing_cpu / self.server_cpu,
                (self.server_cpu - self.hashing_cpu) * 1000.0 / self.ops as f64,
            )
        })
    }
}

/// Runs `op` on every state concurrently for `duration`; `op` takes its state and gives it
/// back with whether the operation succeeded (a refresh token rotates, a session lives on).
pub async fn measure<S, F, Fut>(
    name: &str,
    states: Vec<S>,
    duration: Duration,
    pid: u32,
    op: F,
) -> Outcome
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = (S, bool)> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let (cpu_before, hashing_before) = (cpu_seconds(pid), hashing_seconds(pid));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for state in states {
        let (stop, errors, op) = (stop.clone(), errors.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut state = Some(state);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let (next, ok) = op(state.take().expect("the state comes back")).await;
                state = Some(next);
                if ok {
                    latencies.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    Outcome {
        name: name.to_owned(),
        ops: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        latencies_us,
        server_cpu: cpu_seconds(pid) - cpu_before,
        hashing_cpu: hashing_seconds(pid) - hashing_before,
    }
}
