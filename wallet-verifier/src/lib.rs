//! The far ends of the provider. For now: the reference government app (`wallet`), which logs
//! a citizen in once, keeps a device key (P-256, sealed at rest) and DPoP-bound tokens, and
//! answers QR logins and kiosk codes. The licence verifier joins it with the licences issue.
pub mod app;
pub mod dpop;
pub mod state;
