//! Runtime configuration: built-in defaults, then an optional TOML file, then `IDP_*`
//! environment variables (the environment wins).
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub bind: String,
    /// Public issuer URL; also the origin of every endpoint.
    pub issuer: String,
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// Key-encryption key file; created next to the database when unset.
    pub kek_file: Option<PathBuf>,
    /// Worker threads for HTTP (0 = one per core).
    pub workers: usize,
    /// Database connections (0 = by backend: see [`Config::connections`]).
    pub pool_size: u32,
    pub code_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub id_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_ttl_secs: i64,
    pub pending_request_ttl_secs: i64,
    /// Reverse proxies / load balancers whose X-Forwarded-For is believed (IDP_TRUSTED_PROXIES,
    /// comma-separated). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// WebAuthn relying party id (IDP_WEBAUTHN_RP_ID); the issuer's host when unset. Passkeys
    /// are off when the issuer's host is an IP address and no RP id is set.
    pub webauthn_rp_id: Option<String>,
    /// Further origins allowed to use our passkeys (IDP_WEBAUTHN_ORIGINS, comma-separated), e.g.
    /// a sibling site under the same RP id.
    pub webauthn_origins: Vec<String>,
    /// How long a passkey ceremony (challenge) may take to finish.
    pub ceremony_ttl_secs: i64,
    /// Seamless roaming (无感漫游, IDP_ROAMING_UPSTREAM): the upstream (normally the hub, 00)
    /// asked silently (`prompt=none`) before this node shows its login page, so a citizen who
    /// logged in anywhere in the federation gets in without a page.
    pub roaming_upstream: Option<String>,
    /// A second, lightweight listener for `GET /qr/status` only (IDP_QR_EVENTS_BIND): the load
    /// balancer routes that path there, so browsers waiting on a QR code cost a few KB each
    /// instead of the main server's per-connection buffers. Unset: the main server answers it.
    pub qr_events_bind: Option<String>,
    /// The parent domain every node of the federation shares (IDP_FEDERATION_HINT_DOMAIN, e.g.
    /// `gov.cn`): a node that starts a session sets a bare hint cookie there, and a roaming node
    /// asks the hub silently only when a browser carries it, so a citizen who is logged in
    /// nowhere goes straight to the local login page and never touches the hub. Unset: always ask.
    pub federation_hint_domain: Option<String>,
    /// Licence types beyond (or replacing) the six built in (IDP_LICENCE_TYPES_FILE): a JSON
    /// array shaped like `idp/src/domain/licence_types.json`.
    pub licence_types_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            issuer: "http://localhost:8080".into(),
            database_url: "sqlite://idp.db".into(),
            kek_file: None,
            workers: 0,
            pool_size: 0,
            code_ttl_secs: 60,
            access_token_ttl_secs: 600,
            id_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            session_ttl_secs: 8 * 3600,
            pending_request_ttl_secs: 15 * 60,
            trusted_proxies: Vec::new(),
            webauthn_rp_id: None,
            webauthn_origins: Vec::new(),
            ceremony_ttl_secs: 180,
            roaming_upstream: None,
            qr_events_bind: None,
            federation_hint_domain: None,
            licence_types_file: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid config file {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("invalid environment variable {0}")]
    Env(String),
    #[error(
        "invalid issuer URL {0:?}: it must be an absolute http(s) URL without query or fragment"
    )]
    Issuer(String),
}

impl Config {
    /// The database pool's size. SQLite lets one connection write at a time and each write
    /// empties the other connections' page caches, so a few connections serve it best (measured
    /// with `idp-bench --only`: 4 gave 10-20 % more code flows and passkey logins than 16, and
    /// half the p99); PostgreSQL works on many at once.
    pub fn connections(&self) -> u32 {
        match self.pool_size {
            0 if self.database_url.starts_with("sqlite://") => 4,
            0 => 16,
            n => n,
        }
    }

    /// Loads the file (if any), then applies the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read(path.to_owned(), e))?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_owned(), e))?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.validate()?;
        Ok(config)
    }

    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("IDP_BIND") {
            self.bind = v;
        }
        if let Some(v) = var("IDP_ISSUER") {
            self.issuer = v;
        }
        if let Some(v) = var("IDP_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("IDP_KEK_FILE") {
            self.kek_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("IDP_WORKERS") {
            match v.parse() {
                Ok(n) => self.workers = n,
                Err(_) => return Err(ConfigError::Env(format!("IDP_WORKERS={v:?}: a number"))),
            }
        }
        if let Some(v) = var("IDP_POOL_SIZE") {
            match v.parse() {
                Ok(n) if n > 0 => self.pool_size = n,
                _ => {
                    return Err(ConfigError::Env(format!(
                        "IDP_POOL_SIZE={v:?}: a positive number"
                    )))
                }
            }
        }
        if let Some(v) = var("IDP_TRUSTED_PROXIES") {
            match v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse())
                .collect()
            {
                Ok(list) => self.trusted_proxies = list,
                Err(_) => {
                    return Err(ConfigError::Env(format!(
                        "IDP_TRUSTED_PROXIES={v:?}: a comma-separated list of IP addresses"
                    )))
                }
            }
        }
        if let Some(v) = var("IDP_ROAMING_UPSTREAM") {
            self.roaming_upstream = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        }
        if let Some(v) = var("IDP_FEDERATION_HINT_DOMAIN") {
            self.federation_hint_domain =
                Some(v.trim().trim_start_matches('.').to_ascii_lowercase())
                    .filter(|v| !v.is_empty());
        }
        if let Some(v) = var("IDP_LICENCE_TYPES_FILE") {
            self.licence_types_file = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = var("IDP_QR_EVENTS_BIND") {
            self.qr_events_bind = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        }
        if let Some(v) = var("IDP_WEBAUTHN_RP_ID") {
            self.webauthn_rp_id = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = var("IDP_WEBAUTHN_ORIGINS") {
            self.webauthn_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        Ok(())
    }

    pub fn validate(&mut self) -> Result<(), ConfigError> {
        let trimmed = self.issuer.trim_end_matches('/').to_owned();
        let url =
            url::Url::parse(&trimmed).map_err(|_| ConfigError::Issuer(self.issuer.clone()))?;
        if !matches!(url.scheme(), "http" | "https")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ConfigError::Issuer(self.issuer.clone()));
        }
        self.issuer = trimmed;
        Ok(())
    }

    /// `scheme://host[:port]` of the issuer: what browsers send as `Origin`.
    pub fn issuer_origin(&self) -> String {
        url::Url::parse(&self.issuer)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    pub fn issuer_is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The KEK file: configured, or `idp.kek` next to a SQLite database, or in the current folder.
    pub fn kek_path(&self) -> PathBuf {
        if let Some(path) = &self.kek_file {
            return path.clone();
        }
        match self.database_url.strip_prefix("sqlite://") {
            Some(db) => Path::new(db)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.join("idp.kek"))
                .unwrap_or_else(|| PathBuf::from("idp.kek")),
            None => PathBuf::from("idp.kek"),
        }
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_size_follows_the_backend_unless_set() {
        let mut config = Config {
            database_url: "sqlite://idp.db".into(),
            ..Config::default()
        };
        assert_eq!(config.connections(), 4);
        config.database_url = "postgres://postgres@127.0.0.1/idp".into();
        assert_eq!(config.connections(), 16);
        config.pool_size = 7;
        assert_eq!(config.connections(), 7);
    }

    #[test]
    fn file_then_environment_which_wins() {
        let mut config: Config = toml::from_str(
            "bind = \"0.0.0.0:9000\"\nissuer = \"https://id.example.cn/\"\npool_size = 4\n",
        )
        .expect("valid TOML");
        config
            .apply_env(|name| (name == "IDP_BIND").then(|| "127.0.0.1:7000".to_string()))
            .expect("valid");
        config.validate().expect("valid");
        assert_eq!(config.bind, "127.0.0.1:7000", "the environment wins");
        assert_eq!(
            config.issuer, "https://id.example.cn",
            "trailing slash trimmed"
        );
        assert_eq!(config.pool_size, 4);
        assert!(config.issuer_is_https());
    }

    #[test]
    fn bad_files_and_issuers_are_clear_errors() {
        assert!(
            toml::from_str::<Config>("bnid = 1").is_err(),
            "unknown keys are refused"
        );
        let mut c = Config {
            issuer: "ftp://x".into(),
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::Issuer(_))));
        let mut c = Config {
            issuer: "https://x/?q=1".into(),
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::Issuer(_))));
        let bad = |name: &'static str, value: &'static str| {
            Config::default().apply_env(|n| (n == name).then(|| value.to_string()))
        };
        assert!(matches!(
            bad("IDP_TRUSTED_PROXIES", "10.0.0.1, not-an-ip"),
            Err(ConfigError::Env(_))
        ));
        assert!(matches!(
            bad("IDP_POOL_SIZE", "many"),
            Err(ConfigError::Env(_))
        ));
        assert!(matches!(bad("IDP_WORKERS", "-1"), Err(ConfigError::Env(_))));
    }

    #[test]
    fn zero_configuration_defaults() {
        let c = Config::default();
        assert_eq!(
            (c.bind.as_str(), c.issuer.as_str(), c.database_url.as_str()),
            ("127.0.0.1:8080", "http://localhost:8080", "sqlite://idp.db")
        );
        assert_eq!(c.kek_path(), std::path::PathBuf::from("idp.kek"));
    }
}
