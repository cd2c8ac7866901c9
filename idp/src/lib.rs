//! `idp`: the national federated OpenID Connect provider.
//!
//! - [`domain`]: the flows as types and pure functions (no HTTP, no SQL, time passed in).
//! - [`store`]: diesel over SQLite or PostgreSQL.
//! - [`flows`]: orchestration of domain, store and keys.
//! - [`web`]: thin actix-web handlers, pages and the one error type that becomes HTTP.
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod flows;
pub mod server;
pub mod services;
pub mod store;
pub mod web;
