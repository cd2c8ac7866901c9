//! Waiting on a QR code's status (long polling): answers as soon as the status differs from
//! what the browser last saw, or when the wait is over. One logic for both places a browser can
//! wait: the main server's `/qr/status` and the lightweight QR events listener.
use super::qr::{self, BrowserView, QrError};
use super::Infra;
use crate::domain::qr::Status;
use crate::services::Services;
use crate::store::StoreError;
use std::sync::Arc;
use std::time::Duration;

/// How long one status request waits for a change before answering anyway.
pub const LONG_POLL: Duration = Duration::from_secs(25);
/// A missed wake-up costs at most this (answers taken on another replica wake within 0.5 s).
const RECHECK: Duration = Duration::from_secs(5);

pub async fn wait(
    svc: Arc<Services>,
    id: String,
    since: Option<String>,
    binding: Option<String>,
) -> Result<Result<BrowserView, QrError>, Infra> {
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    let notify = svc.qr_hub.subscribe(&id);
    let answer = loop {
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (check, check_id, check_binding) = (svc.clone(), id.clone(), binding.clone());
        let view = tokio::task::spawn_blocking(move || {
            qr::browser_view(&check, &check_id, check_binding.as_deref())
        })
        .await;
        match view {
            Err(_) => break Err(StoreError::Unavailable("the blocking pool failed".into()).into()),
            Ok(Err(e)) => break Err(e),
            Ok(Ok(Err(e))) => break Ok(Err(e)),
            Ok(Ok(Ok(BrowserView::Status(s))))
                if since.as_deref() == Some(s.as_str())
                    && !matches!(s, Status::Expired | Status::Denied | Status::Done)
                    && tokio::time::Instant::now() < deadline =>
            {
                let nap = (deadline - tokio::time::Instant::now()).min(RECHECK);
                let _ = tokio::time::timeout(nap, woken).await;
            }
            Ok(Ok(Ok(view))) => break Ok(Ok(view)),
        }
    };
    svc.qr_hub.unsubscribe(&id, notify);
    answer
}
