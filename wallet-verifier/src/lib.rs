//! The far ends of the provider:
//! - the reference government app (`wallet`), which logs a citizen in once, keeps a device key
//!   (P-256, sealed at rest) and DPoP-bound tokens, and answers QR logins and kiosk codes;
//! - [`licences`]: the wallet's licences (received by OpenID4VCI, presented with chosen claims);
//! - [`oid4vp`]: OpenID for Verifiable Presentations requests and answers (a counter asks);
//! - [`online`]: the I/O half of a verifier (status lists over HTTP, cached on disk);
//! - [`status_cache`]: when a verifier may reuse a status list (ttl, offline grace period);
//! - [`sd_jwt`], the pure core of electronic licences (SD-JWT VC): issuing (called by `idp`),
//!   presenting (the wallet), verifying with the national root and status lists (verifiers).
pub mod app;
pub mod dpop;
pub mod licences;
pub mod oid4vp;
pub mod online;
pub mod sd_jwt;
pub mod state;
pub mod status_cache;
