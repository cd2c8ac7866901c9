//! `idp serve`: start-up, background housekeeping, graceful shutdown.
use crate::clock::SystemClock;
use crate::config::Config;
use crate::services::{Services, Shared};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Periodic work of every replica: pick up rotated keys, flush counters, purge what expired.
pub fn spawn_housekeeping(svc: Shared) {
    let keys = svc.clone();
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            let s = keys.clone();
            let _ = tokio::task::spawn_blocking(move || s.keys.reload()).await;
        }
    });
    let counters = svc.clone();
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        loop {
            tick.tick().await;
            let s = counters.clone();
            let _ = tokio::task::spawn_blocking(move || s.counters.flush(&s.store, &s.clock)).await;
        }
    });
    spawn_qr_watcher(svc.clone());
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));

        loop {
            tick.tick().await;
            let s = svc.clone();
            let _ = tokio::task::spawn_blocking(move || s.store.purge_expired(s.now())).await;
        }
    });
}

/// Wakes browsers waiting on QR logins answered on another replica: one query for all of them
/// every half second, and only while some wait.
pub fn spawn_qr_watcher(svc: Shared) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if svc.qr_hub.is_idle() {
                continue;
            }
            let s = svc.clone();
            if let Ok(Ok(changed)) =
                tokio::task::spawn_blocking(move || s.store.qr_logins_changed_since(s.now() - 5))
                    .await
            {
                svc.qr_hub.wake(&changed);
            }
        }
    });
}

pub async fn serve(config: Config) -> Result<(), ServeError> {
    let started = std::time::Instant::now();
    let svc = tokio::task::spawn_blocking(move || Services::open(config, Arc::new(SystemClock)))
        .await
        .map_err(|e| ServeError(e.to_string()))??;
    let listener = TcpListener::bind(&svc.config.bind)
        .map_err(|e| ServeError(format!("cannot bind {}: {e}", svc.config.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError(e.to_string()))?;
    spawn_housekeeping(svc.clone());
    if let Some(bind) = svc.config.qr_events_bind.clone() {
        let events = TcpListener::bind(&bind)
            .map_err(|e| ServeError(format!("cannot bind {bind} (QR events): {e}")))?;
        actix_web::rt::spawn(crate::web::qr_events::serve(events, svc.clone()));
        tracing::info!(%bind, "QR events listener");
    }
    let server =
        crate::web::server(svc.clone(), listener).map_err(|e| ServeError(e.to_string()))?;
    tracing::info!(issuer = %svc.config.issuer, ms = started.elapsed().as_millis() as u64, "ready");
    #[allow(clippy::print_stdout)] // the one line scripts wait for
    {
        println!(
            "idp listening on http://{addr} (issuer {})",
            svc.config.issuer
        );
    }
    server.await.map_err(|e| ServeError(e.to_string()))?;
    let _ = svc.counters.flush(&svc.store, &svc.clock);
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServeError(pub String);

impl From<crate::services::StartError> for ServeError {
    fn from(e: crate::services::StartError) -> Self {
        ServeError(e.to_string())
    }
}
