//! The physical limit: what the cryptography that no implementation can skip costs on this
//! machine (one ES256 signature, one ES256 verification, one Argon2id hash at our parameters),
//! and so the most operations per second a scenario could reach if it did nothing else.
use std::time::{Duration, Instant};

pub struct Limits {
    pub sign_us: f64,
    pub verify_us: f64,
    /// One hash with the machine otherwise idle.
    pub argon2_alone_ms: f64,
    /// Per hash per core, every core hashing at once (what the ceiling uses).
    pub argon2_ms: f64,
    pub cores: usize,
}

/// The unavoidable cryptography of one operation, on the server.
#[derive(Clone, Copy)]
pub struct Crypto {
    pub signs: u32,
    pub verifies: u32,
    pub hashes: u32,
}

impl Limits {
    /// Operations per second all cores could do if the cryptography were the whole cost;
    /// None when the operation has none.
    pub fn ceiling(&self, c: Crypto) -> Option<f64> {
        let us = f64::from(c.signs) * self.sign_us
            + f64::from(c.verifies) * self.verify_us
            + f64::from(c.hashes) * self.argon2_ms * 1000.0;
        (us > 0.0).then(|| self.cores as f64 * 1_000_000.0 / us)
    }
}

fn per_op(d: Duration, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < d {
        f();
        n += 1;
    }
    started.elapsed().as_secs_f64() * 1_000_000.0 / n as f64
}

/// Measures on one thread of this process (the server is idle meanwhile).
pub fn measure(d: Duration) -> Limits {
    use base64::Engine as _;
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), "bench".into());
    let sign_us = per_op(d, || {
        std::hint::black_box(key.sign_jwt("JWT", &claims).unwrap());
    });
    let jwt = key.sign_jwt("JWT", &claims).unwrap();
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .unwrap();
    let verifier = key.verifier();
    let verify_us = per_op(d, || {
        assert!(verifier.verify_signature(input.as_bytes(), &sig));
    });
    let mut hashes: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(idp::domain::password::hash("correct horse battery").unwrap());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    hashes.sort_by(f64::total_cmp);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let argon2_all_cores_ms = argon2_on_every_core(cores, d.min(Duration::from_millis(1500)));
    Limits {
        sign_us,
        verify_us,
        argon2_alone_ms: hashes[hashes.len() / 2],
        argon2_ms: argon2_all_cores_ms,
        cores,
    }
}

/// Milliseconds per Argon2id hash per core with every core hashing at once. Each hash streams
/// 19 MiB through memory, so hashes on all cores at once are slower than one alone (the cores
/// share caches and memory bandwidth): this, not the lone hash, is the machine's ceiling.
/// Every core hashes for the same window and the hashes are counted, three rounds, the best
/// kept: a limit is what the machine can do, and a pause of the host only ever slows a round
/// (timing a few hashes on the slowest thread let one pause halve the ceiling).
fn argon2_on_every_core(cores: usize, window: Duration) -> f64 {
    let round = || {
        let start = std::sync::Barrier::new(cores);
        let hashed = std::thread::scope(|s| {
            let threads: Vec<_> = (0..cores)
                .map(|_| {
                    s.spawn(|| {
                        // Untimed: the thread's first hash also allocates its working memory.
                        std::hint::black_box(
                            idp::domain::password::hash("warming up the memory").ok(),
                        );
                        start.wait();
                        let t = Instant::now();
                        let mut n = 0u32;
                        while t.elapsed() < window {
                            std::hint::black_box(
                                idp::domain::password::hash("correct horse battery").ok(),
                            );
                            n += 1;
                        }
                        (n, t.elapsed())
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        });
        let hashes: u32 = hashed.iter().map(|(n, _)| n).sum();
        let busy: f64 = hashed.iter().map(|(_, t)| t.as_secs_f64()).sum();
        busy * 1000.0 / f64::from(hashes.max(1))
    };
    (0..3).map(|_| round()).fold(f64::INFINITY, f64::min)
}
