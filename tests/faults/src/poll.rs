//! Waiting for a condition, never for a timer: a bounded number of tries, each checking the
//! condition itself. The pause between tries only keeps the loop from spinning.
use std::future::Future;
use std::time::Duration;

/// Checks `condition` up to `tries` times, `pause` apart; panics naming `what` if it never holds.
pub async fn until<F, Fut>(what: &str, tries: u32, pause: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..tries {
        if condition().await {
            return;
        }
        tokio::time::sleep(pause).await;
    }
    panic!("{what}: not the case after {tries} checks");
}

/// `GET {base}/readyz` answers `status` (200: the database answers; 503: it does not).
pub async fn readyz_is(http: &reqwest::Client, base: &str, status: u16) -> bool {
    matches!(
        http.get(format!("{base}/readyz")).send().await,
        Ok(r) if r.status().as_u16() == status
    )
}

/// Polls `/readyz` until it answers `status` (at most about 30 s).
pub async fn readyz(http: &reqwest::Client, base: &str, status: u16) {
    until(
        &format!("{base}/readyz answers {status}"),
        300,
        Duration::from_millis(100),
        || readyz_is(http, base, status),
    )
    .await;
}
