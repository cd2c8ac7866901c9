//! The flows as types and pure functions: no HTTP, no SQL, time passed in.
pub mod acr;
pub mod audit;
pub mod authorize;
pub mod client;
pub mod device;
pub mod dpop;
pub mod id_number;
pub mod logout_token;
pub mod params;
pub mod passkey;
pub mod password;
pub mod pkce;
pub mod qr;
pub mod scope;
pub mod throttle;
pub mod tokens;
pub mod upstream;
