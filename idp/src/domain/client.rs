//! Relying parties (apps) and their life cycle in the app registry:
//! registered (pending) -> reviewed (approved = published, or rejected) -> possibly suspended.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientStatus {
    Pending,
    Approved,
    Rejected,
    Suspended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// RFC 8628: kiosks and TVs.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// RFC 8693: a service gets a token for another service's API on the citizen's behalf.
    /// Operators grant it; dynamic registration does not.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

macro_rules! string_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($text => Ok(Self::$variant),)+ other => Err(format!("unknown value {other:?}")) }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// `request_object_signing_alg` (OIDC Dynamic Registration 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestObjectAlg {
    None,
    Signed(keys::Alg),
}

impl RequestObjectAlg {
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestObjectAlg::None => "none",
            RequestObjectAlg::Signed(a) => a.as_str(),
        }
    }
}

impl FromStr for RequestObjectAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(RequestObjectAlg::None),
            other => other
                .parse::<keys::Alg>()
                .map(RequestObjectAlg::Signed)
                .map_err(|_| format!("unsupported alg {other:?}")),
        }
    }
}

string_enum!(ClientStatus { Pending => "pending", Approved => "approved", Rejected => "rejected", Suspended => "suspended" });
string_enum!(AuthMethod { ClientSecretBasic => "client_secret_basic", ClientSecretPost => "client_secret_post", PrivateKeyJwt => "private_key_jwt", None => "none" });
string_enum!(GrantType { AuthorizationCode => "authorization_code", RefreshToken => "refresh_token", ClientCredentials => "client_credentials", DeviceCode => "urn:ietf:params:oauth:grant-type:device_code", TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange" });

/// A registered app as the domain sees it. The secret is never here: only its hash, in the store.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub id_token_alg: keys::Alg,
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its keys (private_key_jwt, signed request objects).
    pub jwks_uri: Option<String>,
    /// The algorithm the client registered for request objects; unsigned ones are refused then.
    pub request_object_alg: Option<RequestObjectAlg>,
    pub backchannel_logout_uri: Option<String>,
    pub status: ClientStatus,
    pub status_reason: Option<String>,
    pub created_at: i64,
    /// Every token request must carry a DPoP proof (RFC 9449 5.2 `dpop_bound_access_tokens`).
    pub dpop_bound: bool,
    /// The platform's own service (a federation node, a government service app): the citizen is
    /// not asked to consent to it unless it asks with `prompt=consent`. Only an operator sets it.
    pub first_party: bool,
    /// Which `sub` the client sees for a citizen (public, or pairwise by sector).
    pub subject: super::subject::SubjectType,
    /// A federation node below this one, and the region it serves (operators only): its own
    /// citizens' ID numbers go to it in their ID tokens, so it finds their accounts there.
    pub federation_region: Option<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
    pub fn may_start_flows(&self) -> bool {
        self.status == ClientStatus::Approved
    }
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
    /// Exact string comparison (RFC 9700 2.1): no prefix, no wildcard, no normalisation.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("redirect URI {0:?} is not an absolute URL")]
    NotAbsolute(String),
    #[error("redirect URI {0:?} must not contain a fragment")]
    Fragment(String),
    #[error("redirect URI {0:?} uses plain http; only https, loopback http, or a private-use scheme (native apps) are allowed")]
    InsecureScheme(String),
    #[error("redirect URI {0:?} contains user information")]
    UserInfo(String),
    #[error("redirect URI {0:?} contains a space or a control character")]
    Whitespace(String),
}

/// Checks a redirect URI at registration (RFC 9700 2.1, RFC 8252 7).
pub fn validate_redirect_uri(uri: &str, public_client: bool) -> Result<(), RedirectUriError> {
    // The URL parser silently drops spaces, tabs and newlines, but the string as registered is
    // what is matched and sent back in `Location`: refuse them before parsing.
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RedirectUriError::Whitespace(uri.into()));
    }
    let parsed = url::Url::parse(uri).map_err(|_| RedirectUriError::NotAbsolute(uri.into()))?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(RedirectUriError::Fragment(uri.into()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(RedirectUriError::UserInfo(uri.into()));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        // Loopback (RFC 8252 7.3): all of 127.0.0.0/8, ::1, and the name localhost.
        "http" => match parsed.host() {
            Some(url::Host::Domain("localhost")) => Ok(()),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            _ => Err(RedirectUriError::InsecureScheme(uri.into())),
        },
        // Private-use URI schemes (reverse domain names) for native apps only.
        scheme if public_client && scheme.contains('.') => Ok(()),
        _ => Err(RedirectUriError::InsecureScheme(uri.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_with_spaces_or_control_characters_are_refused() {
        for uri in [
            " https://app.example/cb",
            "https://app.example/c\nb",
            "https://app.example/cb\r\nSet-Cookie: a=b",
            "https://app.example/c\tb",
            "https://app.example/c\u{0}b",
            "https://app.example/c b",
        ] {
            assert!(
                matches!(
                    validate_redirect_uri(uri, false),
                    Err(RedirectUriError::Whitespace(_))
                ),
                "{uri:?}"
            );
        }
        assert!(validate_redirect_uri("https://app.example/cb", false).is_ok());
    }

    #[test]
    fn registration_rules() {
        assert!(validate_redirect_uri("https://app.example/cb", false).is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:9000/cb", false).is_ok());
        assert!(validate_redirect_uri("http://app.example/cb", false).is_err());
        assert!(validate_redirect_uri("https://app.example/cb#x", false).is_err());
        assert!(validate_redirect_uri("https://u:p@app.example/cb", false).is_err());
        assert!(validate_redirect_uri("cn.gov.app:/oauth", true).is_ok());
        assert!(validate_redirect_uri("cn.gov.app:/oauth", false).is_err());
        assert!(validate_redirect_uri("javascript:alert(1)", true).is_err());
        assert!(validate_redirect_uri("/relative", false).is_err());
    }

    #[test]
    fn status_round_trips() {
        for s in ["pending", "approved", "rejected", "suspended"] {
            assert_eq!(
                s.parse::<ClientStatus>().map(|x| x.to_string()),
                Ok(s.to_string())
            );
        }
    }
}
