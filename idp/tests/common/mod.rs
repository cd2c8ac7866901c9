//! Test fixtures: an in-process provider on a random port with a clock the test moves, on
//! SQLite (default) or on a PostgreSQL database of its own when `IDP_TEST_DATABASE` names a
//! PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
#![allow(dead_code, clippy::unwrap_used)]

pub mod app;
pub mod browser;
pub mod federation;
pub mod flow;
pub mod passkey;
pub mod postgres;
pub mod reference_op;
pub mod replica;

use idp::clock::ManualClock;
use idp::config::Config;
use idp::domain::client::{AuthMethod, GrantType};
use idp::flows::{clients, users};
use idp::services::{Services, Shared};
use std::net::TcpListener;
use std::sync::Arc;

pub struct TestServer {
    pub base: String,
    pub svc: Shared,
    pub clock: Arc<ManualClock>,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
    _pg: Option<postgres::TempDatabase>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on("127.0.0.1", adjust).await
    }

    /// A server whose issuer is `http://localhost:PORT`: WebAuthn needs a domain, not an IP.
    pub async fn start_localhost() -> Self {
        Self::start_on("localhost", |_| {}).await
    }

    /// A server on its own loopback address (127.0.0.2, 127.0.0.3, ...): several nodes of a
    /// federation in one test, whose cookies a browser keeps apart.
    pub async fn start_on_host(host: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(host, adjust).await
    }

    /// Like `start_on_host`, but on PostgreSQL even in the SQLite run (a database of its own on
    /// the server `IDP_TEST_DATABASE` names, or the machine's local one): mixed federations.
    pub async fn start_on_host_with_postgres(host: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let admin = std::env::var("IDP_TEST_DATABASE")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        Self::start_with_database(host, Some(postgres::TempDatabase::create(&admin)), adjust).await
    }

    async fn start_on(host: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_database(host, postgres::TempDatabase::from_env(), adjust).await
    }

    async fn start_with_database(
        host: &str,
        pg: Option<postgres::TempDatabase>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bind_ip = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => "127.0.0.1".to_owned(),
        };
        let listener = TcpListener::bind(format!("{bind_ip}:0")).unwrap();
        let base = format!("http://{host}:{}", listener.local_addr().unwrap().port());
        let mut config = Config {
            issuer: base.clone(),
            bind: listener.local_addr().unwrap().to_string(),
            database_url: match &pg {
                Some(db) => db.url.clone(),
                None => format!("sqlite://{}", dir.path().join("idp.db").display()),
            },
            kek_file: Some(dir.path().join("kek")),
            workers: 2,
            pool_size: 8,
            ..Config::default()
        };
        adjust(&mut config);
        // Starts at the real time (third-party validators check exp against it), then only moves
        // when a test moves it.
        let clock = Arc::new(ManualClock::new(idp::clock::Clock::now(
            &idp::clock::SystemClock,
        )));
        let shared_clock: idp::clock::SharedClock = clock.clone();
        let svc = tokio::task::spawn_blocking(move || Services::open(config, shared_clock))
            .await
            .unwrap()
            .unwrap();
        let server = idp::web::server(svc.clone(), listener).unwrap();
        idp::server::spawn_qr_watcher(svc.clone());
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            base,
            svc,
            clock,
            handle,
            _dir: dir,
            _pg: pg,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Runs blocking setup code (users, clients) against the server's services.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Services) -> T + Send + 'static,
    ) -> T {
        let svc = self.svc.clone();
        tokio::task::spawn_blocking(move || f(&svc)).await.unwrap()
    }

    /// The answer of a `SELECT COUNT(*) ...` on the server's database.
    pub async fn count(&self, sql: &'static str) -> i64 {
        self.with(move |svc| {
            use diesel::prelude::*;
            diesel::dsl::sql::<diesel::sql_types::BigInt>(sql)
                .get_result::<i64>(&mut *svc.store.conn().unwrap())
                .unwrap()
        })
        .await
    }

    pub async fn user(&self, id_number: &str, password: &str) -> String {
        let (id, pw) = (id_number.to_owned(), password.to_owned());
        self.with(move |s| {
            users::create(
                s,
                users::NewUser {
                    id_number: id,
                    name: "张三".into(),
                    phone: Some("13800138000".into()),
                    email: Some("zhangsan@example.cn".into()),
                    address: None,
                    password: zeroize::Zeroizing::new(pw),
                },
            )
            .unwrap()
        })
        .await
    }

    /// A further citizen, without a phone (phone numbers are unique, `user` gives one).
    pub async fn another_user(&self, id_number: &str, name: &str) -> String {
        let (id, name) = (id_number.to_owned(), name.to_owned());
        self.with(move |s| {
            users::create(
                s,
                users::NewUser {
                    id_number: id,
                    name,
                    phone: None,
                    email: None,
                    address: None,
                    password: zeroize::Zeroizing::new(PASSWORD.into()),
                },
            )
            .unwrap()
        })
        .await
    }

    pub async fn client(&self, spec: ClientSpec) -> TestClient {
        let redirect = spec.redirect_uri.clone();
        let mut metadata: serde_json::Map<String, serde_json::Value> = [
            ("dpop_bound_access_tokens", spec.dpop),
            ("first_party", spec.first_party),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(k, on)| (k.to_owned(), serde_json::Value::Bool(on)))
        .collect();
        if let Some(sector) = spec.pairwise_sector {
            metadata.insert("subject_type".into(), "pairwise".into());
            metadata.insert("sector_identifier".into(), sector.into());
        }
        let registered = self
            .with(move |s| {
                clients::register(
                    s,
                    clients::NewClient {
                        name: spec.name,
                        redirect_uris: vec![spec.redirect_uri],
                        post_logout_redirect_uris: spec.post_logout_redirect_uris,
                        auth_method: spec.auth_method,
                        grant_types: spec.grant_types,
                        scopes: spec.scopes,
                        id_token_alg: spec.id_token_alg,
                        jwks: spec.jwks,
                        jwks_uri: None,
                        request_object_alg: None,
                        backchannel_logout_uri: spec.backchannel_logout_uri,
                        approve: spec.approve,
                        metadata,
                        registration_token_hash: None,
                    },
                    "test",
                )
                .unwrap()
            })
            .await;
        TestClient {
            client_id: registered.client_id,
            client_secret: registered.client_secret,
            redirect_uri: redirect,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

#[derive(Debug, Clone)]
pub struct TestClient {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub name: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub id_token_alg: keys::Alg,
    pub jwks: Option<serde_json::Value>,
    pub backchannel_logout_uri: Option<String>,
    pub approve: bool,
    /// Registered with `dpop_bound_access_tokens`.
    pub dpop: bool,
    /// An operator-registered service of the platform: no consent page.
    pub first_party: bool,
    /// Pairwise subject identifiers for this sector (as `idp client create --pairwise --sector`).
    pub pairwise_sector: Option<String>,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            name: "测试应用".into(),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            post_logout_redirect_uris: vec!["http://127.0.0.1:9/bye".into()],
            auth_method: AuthMethod::ClientSecretBasic,
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            scopes: [
                "openid",
                "profile",
                "email",
                "phone",
                "offline_access",
                "id_number",
                "api.read",
            ]
            .map(String::from)
            .to_vec(),
            id_token_alg: keys::Alg::ES256,
            jwks: None,
            backchannel_logout_uri: None,
            approve: true,
            dpop: false,
            first_party: false,
            pairwise_sector: None,
        }
    }
}

/// Valid GB 11643 ID numbers for tests (check digits computed, not copied).
pub fn id_number(province: u32, serial: u32) -> String {
    let first17 = format!(
        "{province:02}0105198001{:02}{:03}",
        1 + serial % 28,
        serial % 1000
    );
    let check = idp::domain::id_number::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

pub const PASSWORD: &str = "correct horse battery";
