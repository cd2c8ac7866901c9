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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            issuer: "http://localhost:8080".into(),
            database_url: "sqlite://idp.db".into(),
            kek_file: None,
            workers: 0,
            pool_size: 16,
            code_ttl_secs: 60,
            access_token_ttl_secs: 600,
            id_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            session_ttl_secs: 8 * 3600,
            pending_request_ttl_secs: 15 * 60,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid config file {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error(
        "invalid issuer URL {0:?}: it must be an absolute http(s) URL without query or fragment"
    )]
    Issuer(String),
}

impl Config {
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
        config.apply_env(|name| std::env::var(name).ok());
        config.validate()?;
        Ok(config)
    }

    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
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
        if let Some(v) = var("IDP_WORKERS").and_then(|v| v.parse().ok()) {
            self.workers = v;
        }
        if let Some(v) = var("IDP_POOL_SIZE").and_then(|v| v.parse().ok()) {
            self.pool_size = v;
        }
        if let Some(v) = var("IDP_TRUSTED_PROXIES") {
            self.trusted_proxies = v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
        }
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
