//! Storage with diesel over SQLite (embedded default) or PostgreSQL. Every piece of state that
//! another replica may need lives here. Methods are blocking: call them from `web::block`.
pub mod audit;
pub mod auth_requests;
pub mod citizen_data;
pub mod client_cache;
pub mod clients;
pub mod connection;
pub mod consents;
pub mod console;
pub mod corrections;
pub mod credential_offers;
pub mod device_codes;
pub mod error;
pub mod grants;
pub mod licences;
pub mod operators;
pub mod passkeys;
pub mod qr_logins;
pub mod ratings;
pub mod schema;
pub mod session_upstreams;
pub mod sessions;
pub mod signing_keys;
pub mod throttle;
pub mod tokens;
pub mod upstreams;
pub mod users;

pub use connection::{AnyConnection, DbPool};
pub use error::{StoreError, StoreResult};

#[derive(Clone)]
pub struct Store {
    pool: DbPool,
    client_cache: std::sync::Arc<client_cache::ClientCache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    pub fn open(url: &str, pool_size: u32) -> Result<Self, connection::DbSetupError> {
        Ok(Self {
            pool: connection::connect(url, pool_size)?,
            client_cache: Default::default(),
        })
    }

    pub fn conn(&self) -> StoreResult<connection::DbConn> {
        Ok(self.pool.get()?)
    }

    pub fn migrate(&self) -> Result<usize, connection::DbSetupError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| connection::DbSetupError::Connect(e.to_string()))?;
        connection::migrate(&mut conn)
    }

    /// Readiness: one round trip to the database.
    pub fn ping(&self) -> StoreResult<()> {
        use diesel::connection::SimpleConnection;
        self.conn()?.batch_execute("SELECT 1")?;
        Ok(())
    }

    pub fn is_postgres(&self) -> StoreResult<bool> {
        Ok(matches!(*self.conn()?, AnyConnection::Postgresql(_)))
    }
}
