//! Argon2id runs on a few dedicated threads. Each hash takes 19 MiB; on the general blocking
//! pool every thread that ever hashed would keep its own 19 MiB malloc arena (hundreds of MB
//! under load). Here the memory is bounded by the pool size and a burst of logins queues.
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordPool {
    jobs: SyncSender<Job>,
}

impl std::fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordPool")
    }
}

impl PasswordPool {
    pub fn start(threads: usize) -> Self {
        let (jobs, rx) = mpsc::sync_channel::<Job>(1024);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { jobs }
    }

    /// Runs `f` on a hashing thread and waits for its result. Blocking.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.jobs.send(job).ok()?;
        result.recv().ok()
    }
}
