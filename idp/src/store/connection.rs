//! One connection type for both backends, a pool, and the embedded migrations.
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    // Last: SQLite accepts any string as a path, so it must not be tried first.
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnyConnection::Postgresql(_) => "AnyConnection::Postgresql",
            AnyConnection::Sqlite(_) => "AnyConnection::Sqlite",
        })
    }
}

pub type DbPool = Pool<ConnectionManager<AnyConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<AnyConnection>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("unsupported database URL (use sqlite://PATH or postgres://...)")]
    UnsupportedUrl,
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migrate(String),
}

/// Turns `sqlite://idp.db` into what SQLite's driver expects; passes PostgreSQL URLs through.
pub fn driver_url(url: &str) -> Result<String, DbSetupError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        return Ok(path.to_owned());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // libpq's default `gssencmode=prefer` looks for Kerberos credentials on every connect,
        // which loads krb5, whose teardown at exit can abort a process while a pool thread is
        // still connecting (seen once in CI: a `k5_mutex_lock` assertion after `idp audit
        // verify`). A URL that names `gssencmode` keeps its choice.
        if url.contains("gssencmode=") {
            return Ok(url.to_owned());
        }
        let separator = if url.contains('?') { '&' } else { '?' };
        return Ok(format!("{url}{separator}gssencmode=disable"));
    }
    Err(DbSetupError::UnsupportedUrl)
}

/// SQLite settings every connection needs: WAL so readers never block the writer and the file
/// survives a crash, a busy timeout instead of instant `SQLITE_BUSY`, and enforced foreign keys.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            // The busy timeout first: switching a new file to WAL takes a write lock, and a
            // second connection opening at the same moment (the pool's own) must wait for it,
            // not fail with "database is locked".
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 10000;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub fn connect(url: &str, size: u32) -> Result<DbPool, DbSetupError> {
    // Before libpq can initialise OpenSSL its own way (see `keys::init`).
    keys::init();
    let manager = ConnectionManager::<AnyConnection>::new(driver_url(url)?);
    Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        // r2d2 would run `SELECT 1` before every checkout, doubling the round trips of every
        // request; a dead connection is noticed by the query itself (answered with 503) and
        // diesel's `is_broken` keeps it out of the pool.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)
        .map_err(|e| DbSetupError::Connect(e.to_string()))
}

/// Applies pending migrations. On PostgreSQL an advisory lock keeps replicas that start
/// together from racing each other; SQLite's own write lock does the same.
pub fn migrate(conn: &mut AnyConnection) -> Result<usize, DbSetupError> {
    let err = |e: &dyn std::fmt::Display| DbSetupError::Migrate(e.to_string());
    match conn {
        AnyConnection::Postgresql(c) => {
            c.batch_execute("SELECT pg_advisory_lock(72010001)")
                .map_err(|e| err(&e))?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute("SELECT pg_advisory_unlock(72010001)")
                .map_err(|e| err(&e))?;
            applied.map_err(|e| err(&e))
        }
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| err(&e)),
    }
}

/// A write transaction. On SQLite it begins IMMEDIATE: a deferred transaction that reads and
/// then writes fails at once with SQLITE_BUSY when another writer is active, instead of waiting.
pub fn write_transaction<T, F>(conn: &mut AnyConnection, f: F) -> Result<T, diesel::result::Error>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, diesel::result::Error>,
{
    use diesel::Connection;
    if matches!(conn, AnyConnection::Sqlite(_)) {
        conn.batch_execute("BEGIN IMMEDIATE")?;
        match f(conn) {
            Ok(value) => match conn.batch_execute("COMMIT") {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(e)
                }
            },
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    } else {
        conn.transaction(f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::audit::AuditEvent;
    use crate::store::Store;
    use diesel::RunQueryDsl;

    /// Applies SQLite migrations one by one until `name` would be next.
    fn migrate_until(store: &Store, name: &str) {
        let mut conn = store.conn().unwrap();
        let AnyConnection::Sqlite(c) = &mut *conn else {
            panic!("an SQLite store")
        };
        loop {
            let pending = c.pending_migrations(SQLITE_MIGRATIONS).unwrap();
            let next = pending.first().expect("the migration is in the list");
            if next.name().to_string().contains(name) {
                break;
            }
            c.run_next_migration(SQLITE_MIGRATIONS).unwrap();
        }
    }

    #[test]
    fn postgres_urls_skip_kerberos_unless_they_ask_for_it() {
        assert_eq!(
            driver_url("postgres://u@h:5432/db").unwrap(),
            "postgres://u@h:5432/db?gssencmode=disable"
        );
        assert_eq!(
            driver_url("postgresql://u@h/db?sslmode=require").unwrap(),
            "postgresql://u@h/db?sslmode=require&gssencmode=disable"
        );
        assert_eq!(
            driver_url("postgres://u@h/db?gssencmode=require").unwrap(),
            "postgres://u@h/db?gssencmode=require"
        );
        assert_eq!(driver_url("sqlite://idp.db").unwrap(), "idp.db");
        assert!(driver_url("mysql://h/db").is_err());
    }

    #[test]
    fn the_audit_log_keeps_its_chain_through_the_rebuild_with_seq_as_rowid() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("idp.db").display());
        let store = Store::open(&url, 2).unwrap();
        migrate_until(&store, "audit_log_rowid");
        let key = [7u8; 32];
        let event = |n: i64| AuditEvent::new("test", "actor", None, serde_json::json!({ "n": n }));
        store
            .append_audit(&key, &[event(1), event(2), event(3)], 1_000)
            .unwrap();

        assert_eq!(store.migrate().unwrap(), 1);

        assert_eq!(crate::flows::audit::verify(&store, &key).unwrap(), 3);
        store.append_audit(&key, &[event(4)], 2_000).unwrap();
        assert_eq!(crate::flows::audit::verify(&store, &key).unwrap(), 4);
        let mut conn = store.conn().unwrap();
        let indexes: Vec<String> = diesel::dsl::sql::<diesel::sql_types::Text>(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log' ORDER BY name",
        )
        .load(&mut *conn)
        .unwrap();
        // No `sqlite_autoindex_audit_log_1` beside the table any more.
        assert_eq!(
            indexes,
            ["audit_log_actor", "audit_log_client", "audit_log_kind"]
        );
    }
}
