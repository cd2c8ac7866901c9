//! Calls the provider makes to addresses that clients name: their JWKS (`jwks_uri`), request
//! objects (`request_uri`) and back-channel logout endpoints. A client must not be able to aim
//! us at our own network (SSRF), so every call:
//! - uses https (plain http only to loopback, and only when the provider itself is a loopback
//!   development instance),
//! - resolves the host itself and refuses any non-public address (private, loopback, link-local,
//!   unique-local, CGNAT, ...), then connects to exactly the address it checked,
//! - follows no redirects, is bounded in time (5 s) and size (64 KiB), and at most a few run at once.
use crate::services::Services;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub const MAX_FETCH_BYTES: usize = 64 * 1024;
pub const MAX_CONCURRENT: usize = 4;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("not an absolute URL")]
    NotAUrl,
    #[error(
        "must be https (plain http only to loopback when the provider itself runs on loopback)"
    )]
    Scheme,
    #[error("the host is not a public address")]
    Address,
    #[error("too many outbound requests at once")]
    Busy,
    #[error("the fetch failed or timed out")]
    Failed,
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the document is larger than {MAX_FETCH_BYTES} bytes")]
    TooLarge,
}

/// A loopback development instance may call loopback addresses (tests, local demos).
fn dev_mode(svc: &Services) -> bool {
    url::Url::parse(&svc.config.issuer).is_ok_and(|i| match i.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    })
}

/// True for addresses on the public internet (RFC 6890 special-purpose ranges excluded).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

fn address_allowed(svc: &Services, ip: IpAddr) -> bool {
    is_public(ip) || (dev_mode(svc) && ip.is_loopback())
}

/// Syntax and scheme (at registration, and before every call).
pub fn check_url(svc: &Services, uri: &str) -> Result<url::Url, FetchError> {
    let url = url::Url::parse(uri).map_err(|_| FetchError::NotAUrl)?;
    let host = url.host().ok_or(FetchError::NotAUrl)?;
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if literal.is_some_and(|ip| !address_allowed(svc, ip)) {
        return Err(FetchError::Address);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if dev_mode(svc) => Ok(url),
        _ => Err(FetchError::Scheme),
    }
}

/// An HTTP client pinned to the checked address of `url`'s host.
pub async fn pinned_client(
    svc: &Services,
    uri: &str,
) -> Result<(reqwest::Client, url::Url), FetchError> {
    let url = check_url(svc, uri)?;
    let host = url
        .host_str()
        .ok_or(FetchError::NotAUrl)?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().ok_or(FetchError::NotAUrl)?;
    let addrs: Vec<SocketAddr> =
        tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| FetchError::Failed)?
            .map_err(|_| FetchError::Failed)?
            .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !address_allowed(svc, a.ip())) {
        return Err(FetchError::Address);
    }
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addrs[0])
        .build()
        .map_err(|_| FetchError::Failed)?;
    Ok((client, url))
}

async fn fetch_async(svc: &Services, uri: &str) -> Result<Vec<u8>, FetchError> {
    let _slot = svc
        .outbound_slots
        .try_acquire()
        .map_err(|_| FetchError::Busy)?;
    let (client, url) = pinned_client(svc, uri).await?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|_| FetchError::Failed)?;
    if !resp.status().is_success() {
        return Err(FetchError::Status(resp.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| FetchError::Failed)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_FETCH_BYTES {
            return Err(FetchError::TooLarge);
        }
    }
    Ok(body)
}

/// Blocking fetch for flow code on the blocking pool (driven on the server's runtime).
pub fn fetch(svc: &Services, uri: &str) -> Result<Vec<u8>, FetchError> {
    let handle = tokio::runtime::Handle::try_current().map_err(|_| FetchError::Failed)?;
    handle.block_on(fetch_async(svc, uri))
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))),
                "{ip}"
            );
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2400:3200::1"] {
            assert!(
                is_public(ip.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))),
                "{ip}"
            );
        }
    }
}
