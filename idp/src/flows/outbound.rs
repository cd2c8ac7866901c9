//! Fetching what clients publish (their JWKS at `jwks_uri`, request objects at `request_uri`):
//! bounded in time and size, and only from addresses a client may legitimately name.
use crate::services::Services;
use std::time::Duration;

pub const MAX_FETCH_BYTES: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("not an absolute URL")]
    NotAUrl,
    #[error(
        "must be https (plain http only to loopback when the provider itself runs on loopback)"
    )]
    Scheme,
    #[error("the fetch failed or timed out")]
    Failed,
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the document is larger than {MAX_FETCH_BYTES} bytes")]
    TooLarge,
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Only https, and never to loopback unless the provider itself is a loopback development
/// instance: a client must not make us call into our own network (SSRF).
pub fn check_url(svc: &Services, uri: &str) -> Result<url::Url, FetchError> {
    let url = url::Url::parse(uri).map_err(|_| FetchError::NotAUrl)?;
    let dev = url::Url::parse(&svc.config.issuer).is_ok_and(|i| is_loopback(&i));
    match url.scheme() {
        "https" if dev || !is_loopback(&url) => Ok(url),
        "http" if dev && is_loopback(&url) => Ok(url),
        _ => Err(FetchError::Scheme),
    }
}

/// Blocking fetch for flow code running on the blocking pool (it drives the request on the
/// server's async runtime).
pub fn fetch(svc: &Services, uri: &str) -> Result<Vec<u8>, FetchError> {
    let url = check_url(svc, uri)?;
    let http = svc.http.clone();
    let handle = tokio::runtime::Handle::try_current().map_err(|_| FetchError::Failed)?;
    handle.block_on(async move {
        let mut resp = tokio::time::timeout(TIMEOUT, http.get(url).send())
            .await
            .map_err(|_| FetchError::Failed)?
            .map_err(|_| FetchError::Failed)?;
        if !resp.status().is_success() {
            return Err(FetchError::Status(resp.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = tokio::time::timeout(TIMEOUT, resp.chunk())
            .await
            .map_err(|_| FetchError::Failed)?
            .map_err(|_| FetchError::Failed)?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_FETCH_BYTES {
                return Err(FetchError::TooLarge);
            }
        }
        Ok(body)
    })
}
