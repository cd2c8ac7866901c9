//! Appending to the audit log with group commit: callers hand an event to one writer thread
//! and wait; the writer commits whatever has queued up in one transaction, so a burst of
//! logins costs one database round trip, and nothing is acknowledged before it is stored.
use crate::clock::SharedClock;
use crate::domain::audit::{AuditEvent, ChainBreak, ChainKey, ChainVerifier};
use crate::store::audit::{Companion, Pending};
use crate::store::{Store, StoreError};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use zeroize::Zeroizing;

const MAX_BATCH: usize = 512;

/// What a caller is told once the transaction ends: whether its entry was written (`false`:
/// its companion declined), or why not.
type Outcome = Result<bool, String>;

/// How a caller is told its event is committed: a blocked thread, or an async task.
enum Ack {
    Thread(SyncSender<Outcome>),
    Task(tokio::sync::oneshot::Sender<Outcome>),
}

impl Ack {
    fn send(self, result: Outcome) {
        // A caller that gave up waiting is no error of the log's.
        let _ = match self {
            Ack::Thread(tx) => tx.send(result).map_err(|_| ()),
            Ack::Task(tx) => tx.send(result).map_err(|_| ()),
        };
    }
}

#[derive(Clone)]
pub struct AuditLog {
    queue: SyncSender<(Pending, Ack)>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the audit log could not be written: {0}")]
pub struct AuditError(pub String);

impl AuditLog {
    pub fn start(store: Store, clock: SharedClock, key: Zeroizing<ChainKey>) -> Self {
        let (queue, rx) = mpsc::sync_channel(8192);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer(store, clock, key, rx))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the audit writer"));
        Self { queue }
    }

    /// Appends and waits until the event is committed. Blocking: call from blocking code.
    pub fn append(&self, event: AuditEvent) -> Result<(), AuditError> {
        self.append_with(event, None).map(|_| ())
    }

    /// Appends after `companion` ran in the same transaction, and waits until it is committed:
    /// whether the entry was written (`false`: the companion declined it). A companion that
    /// fails is undone and reported as an error; the other entries of the batch are not held
    /// back by it. Blocking: call from blocking code.
    pub fn append_with(
        &self,
        event: AuditEvent,
        companion: Option<Companion>,
    ) -> Result<bool, AuditError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.queue
            .send((Pending { event, companion }, Ack::Thread(ack)))
            .map_err(|_| AuditError("writer stopped".into()))?;
        done.recv()
            .map_err(|_| AuditError("writer stopped".into()))?
            .map_err(AuditError)
    }

    /// Appends and resolves when the event is committed, without holding a thread meanwhile:
    /// for answers given from the async workers. Never blocks: with the queue full (thousands
    /// of entries waiting) it fails at once, and the request is answered 503.
    pub async fn append_async(&self, event: AuditEvent) -> Result<(), AuditError> {
        self.append_async_with(event, None).await.map(|_| ())
    }

    /// [`AuditLog::append_with`] for the async workers, never blocking (as `append_async`).
    pub async fn append_async_with(
        &self,
        event: AuditEvent,
        companion: Option<Companion>,
    ) -> Result<bool, AuditError> {
        let (ack, done) = tokio::sync::oneshot::channel();
        let pending = Pending { event, companion };
        self.queue
            .try_send((pending, Ack::Task(ack)))
            .map_err(|e| {
                AuditError(match e {
                    TrySendError::Full(_) => "the queue is full".into(),
                    TrySendError::Disconnected(_) => "writer stopped".into(),
                })
            })?;
        done.await
            .map_err(|_| AuditError("writer stopped".into()))?
            .map_err(AuditError)
    }
}

fn writer(
    store: Store,
    clock: SharedClock,
    key: Zeroizing<ChainKey>,
    rx: Receiver<(Pending, Ack)>,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let (pending, acks): (Vec<Pending>, Vec<Ack>) = batch.into_iter().unzip();
        let count = pending.len();
        match store.append_audit_with(&key, pending, clock.now()) {
            Ok(outcomes) => {
                for (ack, outcome) in acks.into_iter().zip(outcomes) {
                    ack.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, events = count, "audit append failed");
                for ack in acks {
                    ack.send(Err(e.to_string()));
                }
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Broken(#[from] ChainBreak),
}

/// Walks the whole log in pages and checks it against the stored head.
pub fn verify(store: &Store, key: &ChainKey) -> Result<i64, VerifyError> {
    let (head_seq, head_hash) = store.audit_head()?;
    let mut verifier = ChainVerifier::new(key);
    let mut after = 0;
    loop {
        let page = store.audit_entries(after, 5000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in &page {
            verifier.push(entry)?;
        }
    }
    Ok(verifier.finish(head_seq, &head_hash)?)
}
