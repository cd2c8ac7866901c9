//! Subject identifiers (OIDC Core 8): `public` (one `sub` per citizen for every app) or
//! `pairwise` (OIDC Core 8.1: a `sub` per sector, so apps of different sectors cannot
//! correlate a citizen; apps that share a sector identifier see the same `sub`).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SubjectType {
    #[default]
    Public,
    /// The sector identifier: the host of the sector_identifier_uri, or of the redirect URIs.
    Pairwise { sector: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectorError {
    #[error("subject_type must be public or pairwise")]
    UnknownType,
    #[error("the redirect URIs are on several hosts: a sector_identifier_uri is required")]
    SeveralHosts,
    #[error("a redirect URI has no host")]
    NoHost,
    #[error("the sector_identifier_uri document must be a JSON array of URIs")]
    NotAList,
    #[error("the sector_identifier_uri document does not list every redirect URI")]
    MissingRedirectUri,
}

/// The sector of a pairwise client without a sector_identifier_uri: the one host of its
/// redirect URIs (OIDC Core 8.1).
pub fn sector_of_redirect_uris(redirect_uris: &[String]) -> Result<String, SectorError> {
    let mut hosts = redirect_uris.iter().map(|u| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .ok_or(SectorError::NoHost)
    });
    let first = hosts.next().ok_or(SectorError::NoHost)??;
    for host in hosts {
        if host? != first {
            return Err(SectorError::SeveralHosts);
        }
    }
    Ok(first)
}

/// OIDC Registration 5: the document at sector_identifier_uri is a JSON array that must list
/// every redirect URI the client registers.
pub fn check_sector_document(document: &[u8], redirect_uris: &[String]) -> Result<(), SectorError> {
    let listed: Vec<String> =
        serde_json::from_slice(document).map_err(|_| SectorError::NotAList)?;
    if redirect_uris.iter().all(|r| listed.contains(r)) {
        Ok(())
    } else {
        Err(SectorError::MissingRedirectUri)
    }
}

/// The `sub` one sector sees for a citizen: HMAC-SHA256 under a key of this provider, over the
/// sector and the citizen's local id. Stable, and not reversible or linkable without the key.
pub fn pairwise_sub(key: &[u8], sector: &str, local_sub: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(sector.as_bytes());
    mac.update(&[0]);
    mac.update(local_sub.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

impl SubjectType {
    /// What `local_sub` is called for a client of this subject type.
    pub fn sub_for(&self, key: &[u8], local_sub: &str) -> String {
        match self {
            SubjectType::Public => local_sub.to_owned(),
            SubjectType::Pairwise { sector } => pairwise_sub(key, sector, local_sub),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sectors_separate_subjects_and_one_sector_shares_them() {
        let key = [7u8; 32];
        let health = SubjectType::Pairwise {
            sector: "health.gov.example".into(),
        };
        let tax = SubjectType::Pairwise {
            sector: "tax.gov.example".into(),
        };
        assert_eq!(health.sub_for(&key, "u1"), health.sub_for(&key, "u1"));
        assert_ne!(health.sub_for(&key, "u1"), tax.sub_for(&key, "u1"));
        assert_ne!(health.sub_for(&key, "u1"), health.sub_for(&key, "u2"));
        assert_ne!(health.sub_for(&key, "u1"), health.sub_for(&[8u8; 32], "u1"));
        assert_eq!(SubjectType::Public.sub_for(&key, "u1"), "u1");
        // The separator keeps (sector "a", sub "bc") apart from (sector "ab", sub "c").
        assert_ne!(pairwise_sub(&key, "a", "bc"), pairwise_sub(&key, "ab", "c"));
    }

    #[test]
    fn a_sector_comes_from_one_host_or_a_listing_document() {
        let same = uris(&["https://a.example/cb", "https://A.example/other"]);
        assert_eq!(sector_of_redirect_uris(&same), Ok("a.example".into()));
        let two = uris(&["https://a.example/cb", "https://b.example/cb"]);
        assert_eq!(
            sector_of_redirect_uris(&two),
            Err(SectorError::SeveralHosts)
        );
        assert_eq!(sector_of_redirect_uris(&[]), Err(SectorError::NoHost));
        let doc = br#"["https://a.example/cb","https://b.example/cb"]"#;
        assert_eq!(check_sector_document(doc, &two), Ok(()));
        let partial = br#"["https://a.example/cb"]"#;
        assert_eq!(
            check_sector_document(partial, &two),
            Err(SectorError::MissingRedirectUri)
        );
        assert_eq!(
            check_sector_document(b"{}", &two),
            Err(SectorError::NotAList)
        );
    }
}
