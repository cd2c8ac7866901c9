//! Thin actix-web handlers: parse, call a flow on the blocking pool, render (one exception, a
//! client_credentials token for a cached app: see `flows::machine_token`).
pub mod account_feedback;
pub mod account_page;
pub mod account_sections;
pub mod admin_feedback;
pub mod admin_page;
pub mod browser;
pub mod csrf;
pub mod device_page;
pub mod error;
pub mod framework_errors;
pub mod handlers;
pub mod i18n;
pub mod pages;
pub mod passkey_text;
pub mod qr_events;

use crate::services::Shared;
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;

pub use error::WebError;

/// Form and JSON bodies larger than this are refused before parsing (413).
pub const MAX_BODY: usize = 64 * 1024;

/// The default Content-Security-Policy: nothing inline, nothing from elsewhere, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// Registers every route; used by the server and by in-process tests.
pub fn configure(svc: Shared) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::from(svc))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .app_data(web::JsonConfig::default().limit(MAX_BODY))
            .configure(handlers::routes);
    }
}

fn blocking_threads(pool_size: usize) -> usize {
    (pool_size + 8).clamp(8, 128)
}

/// Builds the HTTP server on an already bound listener (tests bind port 0).
pub fn server(svc: Shared, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let workers = match svc.config.workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        n => n,
    };
    // At least as many as PostgreSQL's default pool: SQLite's small pool does not make the
    // waits that happen off the database (a password hash, the audit commit) any fewer.
    let svc_pool_size = svc.config.connections().max(16) as usize;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(framework_errors::handlers())
            .wrap(security_headers())
            .configure(configure(svc.clone()))
    })
    .workers(workers)
    // Blocking work waits on the database pool anyway; more threads than connections only add
    // memory (each thread grows its own malloc arena). The default would be 512 per process.
    .worker_max_blocking_threads(blocking_threads(svc_pool_size))
    .backlog(4096)
    .max_connections(50_000)
    .shutdown_timeout(5)
    .listen(listener)?
    .run();
    Ok(server)
}
