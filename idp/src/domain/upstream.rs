//! Upstream identity providers of a federation node: the provinces (and cities, counties) a hub
//! sends citizens home to, or the hub a province sends strangers to. Plain trust configuration
//! (issuer, client credentials, GB/T 2260 region code), kept so that OpenID Federation trust
//! chains can replace it later.
use super::id_number::IdNumber;

/// The code the hub is known by in a province's upstream table.
pub const HUB_CODE: &str = "00";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("the code must be a GB/T 2260 region code: 2, 4 or 6 digits (00 is the hub)")]
    Code,
    #[error("the name must be 1 to 32 characters, without control characters")]
    Name,
    #[error("the issuer must be an https URL without query or fragment (http only on loopback)")]
    Issuer,
    #[error("the client id must be 1 to 255 visible ASCII characters")]
    ClientId,
    #[error("the client secret must be 16 to 512 visible ASCII characters")]
    ClientSecret,
}

/// What an operator types to add an upstream, checked before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSpec {
    pub code: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
}

impl UpstreamSpec {
    pub fn new(
        code: &str,
        name: &str,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Self, UpstreamError> {
        let code = code.trim();
        if !valid_code(code) {
            return Err(UpstreamError::Code);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
            return Err(UpstreamError::Name);
        }
        let issuer = valid_issuer(issuer.trim()).ok_or(UpstreamError::Issuer)?;
        if !visible_ascii(client_id, 1, 255) {
            return Err(UpstreamError::ClientId);
        }
        if !visible_ascii(client_secret, 16, 512) {
            return Err(UpstreamError::ClientSecret);
        }
        Ok(Self {
            code: code.to_owned(),
            name: name.to_owned(),
            issuer,
            client_id: client_id.to_owned(),
        })
    }
}

/// 2 digits (province), 4 (city) or 6 (county); "00" names the hub.
pub fn valid_code(code: &str) -> bool {
    matches!(code.len(), 2 | 4 | 6) && code.bytes().all(|b| b.is_ascii_digit())
}

fn visible_ascii(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The issuer as it will be compared with the `iss` of ID tokens: no trailing slash added or
/// removed, no query, no fragment, https unless the host is loopback (tests, local demos).
fn valid_issuer(issuer: &str) -> Option<String> {
    let url = url::Url::parse(issuer).ok()?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return None;
    }
    let loopback = match url.host()? {
        url::Host::Domain(d) => d == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => Some(issuer.to_owned()),
        "http" if loopback => Some(issuer.to_owned()),
        _ => None,
    }
}

/// The region codes that could be a citizen's home, most specific first: county, city, province
/// (the first 6, 4 and 2 digits of the ID number). One indexed lookup of these three finds the
/// home whatever the number of upstreams.
pub fn home_candidates(id_number: &IdNumber) -> [&str; 3] {
    let region = &id_number.expose()[..6];
    [&region[..6], &region[..4], &region[..2]]
}

/// The most specific of `found` (codes that exist and are enabled) among the candidates.
pub fn most_specific<'a>(candidates: &[&'a str; 3], found: &[String]) -> Option<&'a str> {
    candidates
        .iter()
        .copied()
        .find(|c| *c != HUB_CODE && found.iter().any(|f| f == c))
}

/// Whether the upstream `code` may vouch for the holder of `id_number`: the hub for anyone, a
/// region only for citizens of that region (a province cannot link itself into another
/// province's citizens' accounts).
pub fn speaks_for(code: &str, id_number: &IdNumber) -> bool {
    code == HUB_CODE || home_candidates(id_number).contains(&code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef";

    fn spec(code: &str, issuer: &str) -> Result<UpstreamSpec, UpstreamError> {
        UpstreamSpec::new(code, "浙江", issuer, "hub", SECRET)
    }

    #[test]
    fn a_region_speaks_only_for_its_own_citizens() {
        let zj = IdNumber::parse("330106198001010013").unwrap();
        for code in ["00", "33", "3301", "330106"] {
            assert!(speaks_for(code, &zj), "{code}");
        }
        for code in ["44", "3302", "330107", "3"] {
            assert!(!speaks_for(code, &zj), "{code}");
        }
    }

    #[test]
    fn codes_are_region_codes() {
        assert!(spec("33", "https://zj.example").is_ok());
        assert!(spec("3301", "https://hz.example").is_ok());
        assert!(spec("330106", "https://xh.example").is_ok());
        assert!(spec("00", "https://hub.example").is_ok());
        for bad in ["", "3", "333", "3a", "33012", "3301066", "３３"] {
            assert_eq!(
                spec(bad, "https://zj.example"),
                Err(UpstreamError::Code),
                "{bad}"
            );
        }
    }

    #[test]
    fn issuers_are_https_except_on_loopback() {
        assert!(spec("33", "http://127.0.0.1:9000").is_ok());
        assert!(spec("33", "http://localhost:9000/realm").is_ok());
        for bad in [
            "http://zj.example",
            "ftp://zj.example",
            "https://zj.example/?a=1",
            "https://zj.example/#x",
            "https://user@zj.example",
            "zj.example",
            "",
        ] {
            assert_eq!(spec("33", bad), Err(UpstreamError::Issuer), "{bad}");
        }
    }

    #[test]
    fn names_ids_and_secrets_are_bounded() {
        let ok = |name: &str, id: &str, secret: &str| {
            UpstreamSpec::new("33", name, "https://zj.example", id, secret)
        };
        assert_eq!(ok("", "hub", SECRET), Err(UpstreamError::Name));
        assert_eq!(ok("浙\u{7}江", "hub", SECRET), Err(UpstreamError::Name));
        assert_eq!(
            ok(&"省".repeat(33), "hub", SECRET),
            Err(UpstreamError::Name)
        );
        assert_eq!(ok("浙江", "", SECRET), Err(UpstreamError::ClientId));
        assert_eq!(ok("浙江", "a b", SECRET), Err(UpstreamError::ClientId));
        assert_eq!(ok("浙江", "hub", "short"), Err(UpstreamError::ClientSecret));
        assert_eq!(
            ok(" 浙江 ", "hub", SECRET).unwrap().name,
            "浙江",
            "surrounding spaces are not part of the name"
        );
    }

    #[test]
    fn the_most_specific_region_wins_and_the_hub_is_never_a_home() {
        let enabled: Vec<String> = ["00", "33", "3301", "51", "330106"]
            .map(String::from)
            .to_vec();
        let id = |s: &str| {
            let check = super::super::id_number::check_char(s.as_bytes()) as char;
            IdNumber::parse(&format!("{s}{check}")).unwrap()
        };
        let home = |s: &str| {
            let id = id(s);
            most_specific(&home_candidates(&id), &enabled).map(str::to_owned)
        };
        assert_eq!(home("33010619900101001").as_deref(), Some("330106"));
        assert_eq!(home("33010219900101001").as_deref(), Some("3301"));
        assert_eq!(home("33020319900101001").as_deref(), Some("33"));
        assert_eq!(home("51010719900101001").as_deref(), Some("51"));
        assert_eq!(home("44030519900101001"), None);
    }
}
