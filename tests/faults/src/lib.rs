//! Support for the fault tests in `tests/`: everything runs as it does in production, as
//! separate processes. `idp` is the binary `cargo test --workspace` builds (target/debug/idp);
//! PostgreSQL clusters are private ones made from Debian's binaries, so a test may stop, crash
//! or fail over its database without touching the machine's shared server.
//!
//! Every helper that starts something owns it and stops it on drop, so a failing test leaves
//! no process or cluster behind.

pub mod admin_writes;
pub mod browser;
pub mod db;
pub mod load;
pub mod node;
pub mod oauth;
pub mod poll;
pub mod postgres;
pub mod sqlite;
pub mod upstream;

/// The password every test citizen gets.
pub const PASSWORD: &str = "correct horse battery";

/// The redirect URI of test apps: nothing listens there, the tests read the redirect itself.
pub const REDIRECT: &str = "http://127.0.0.1:9/cb";
