//! A client's public keys: registered inline (`jwks`) or published at its `jwks_uri`, cached and
//! fetched again once when a token names a key we have not seen (the client rotated).
use super::outbound;
use crate::domain::client::Client;
use crate::services::Services;
use keys::{Alg, KeyError, KeySet, VerifiedJwt};
use std::collections::HashMap;
use std::sync::Mutex;

const TTL_SECS: i64 = 300;
/// A client cannot make us fetch its keys more often than this by sending unknown kids.
const MIN_REFETCH_SECS: i64 = 10;

#[derive(Debug, Default)]
pub struct JwksCache {
    entries: Mutex<HashMap<String, (KeySet, i64)>>,
}

impl JwksCache {
    fn get(&self, uri: &str) -> Option<(KeySet, i64)> {
        self.entries.lock().ok()?.get(uri).cloned()
    }
    fn put(&self, uri: &str, set: KeySet, at: i64) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(uri.to_owned(), (set, at));
        }
    }
}

/// Fetches and caches a JWKS. A failure is cached too (as an empty set), so a client cannot
/// make us call its URL more often than `MIN_REFETCH_SECS`.
fn fetch_set(svc: &Services, uri: &str) -> Option<KeySet> {
    let fetched = outbound::fetch(svc, uri)
        .ok()
        .and_then(|body| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .and_then(|json| KeySet::from_jwks(&json).ok());
    svc.jwks_cache
        .put(uri, fetched.clone().unwrap_or_default(), svc.now());
    fetched
}

/// The client's keys, from the cache when fresh.
fn keys_of(svc: &Services, client: &Client) -> Option<KeySet> {
    if let Some(jwks) = &client.jwks {
        return KeySet::from_jwks(jwks).ok();
    }
    let uri = client.jwks_uri.as_deref()?;
    match svc.jwks_cache.get(uri) {
        Some((set, at)) if svc.now() - at < TTL_SECS => Some(set),
        _ => fetch_set(svc, uri),
    }
}

/// Verifies a JWS signed by the client (client assertion, request object).
pub fn verify(
    svc: &Services,
    client: &Client,
    token: &str,
    allowed: &[Alg],
) -> Result<VerifiedJwt, KeyError> {
    let set = keys_of(svc, client).ok_or(KeyError::UnknownKey)?;
    match keys::verify_jwt(token, &set, allowed, None) {
        Err(KeyError::UnknownKey) => {
            let uri = client.jwks_uri.as_deref().ok_or(KeyError::UnknownKey)?;
            let fetched_at = svc.jwks_cache.get(uri).map(|(_, at)| at).unwrap_or(0);
            if svc.now() - fetched_at < MIN_REFETCH_SECS {
                return Err(KeyError::UnknownKey);
            }
            let fresh = fetch_set(svc, uri).ok_or(KeyError::UnknownKey)?;
            keys::verify_jwt(token, &fresh, allowed, None)
        }
        other => other,
    }
}
