//! A PostgreSQL database created for one test and dropped after it.
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

pub struct TempDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TempDatabase {
    /// `Some` when `IDP_TEST_DATABASE` points at a PostgreSQL server.
    pub fn from_env() -> Option<Self> {
        let admin_url = std::env::var("IDP_TEST_DATABASE")
            .ok()
            .filter(|u| u.starts_with("postgres"))?;
        Some(Self::create(&admin_url))
    }

    pub fn create(admin_url: &str) -> Self {
        // OpenSSL first, without an exit-time cleanup, before libpq loads it (see `keys::init`).
        keys::init();
        let name = format!(
            "idp_test_{}",
            keys::random_token(9)
                .to_ascii_lowercase()
                .replace(['-', '_'], "x")
        );
        let mut admin =
            PgConnection::establish(admin_url).expect("connect to the PostgreSQL test server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("IDP_TEST_DATABASE must end with /DBNAME"),
        };
        Self {
            url,
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
