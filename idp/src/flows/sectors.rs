//! The sector of a pairwise client (OIDC Core 8.1, OIDC Registration 5): the host of its
//! sector_identifier_uri, whose JSON document must list every redirect URI the client has,
//! or else the one host all its redirect URIs share.
use crate::domain::subject::{check_sector_document, sector_of_redirect_uris, SubjectType};
use crate::services::Services;

pub fn pairwise(
    svc: &Services,
    sector_identifier_uri: Option<&str>,
    redirect_uris: &[String],
) -> Result<SubjectType, String> {
    let sector = match sector_identifier_uri {
        None => sector_of_redirect_uris(redirect_uris).map_err(|e| e.to_string())?,
        Some(uri) => {
            let host = url::Url::parse(uri)
                .ok()
                .filter(|u| u.fragment().is_none())
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .ok_or("sector_identifier_uri is not a URL with a host")?;
            // The same address policy as every other client-named URL (https, public hosts).
            let document = super::outbound::fetch(svc, uri)
                .map_err(|e| format!("sector_identifier_uri could not be fetched: {e}"))?;
            check_sector_document(&document, redirect_uris).map_err(|e| e.to_string())?;
            host
        }
    };
    Ok(SubjectType::Pairwise { sector })
}
