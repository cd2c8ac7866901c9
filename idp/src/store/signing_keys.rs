use super::connection::AnyConnection;
use super::schema::signing_keys;
use super::{Store, StoreResult};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub sealed_private: Vec<u8>,
    pub kek_id: String,
    pub created_at: i64,
    /// Set when a newer key took over signing.
    pub retired_at: Option<i64>,
    /// A retired key stays in the JWKS until every token it signed has expired.
    pub publish_until: Option<i64>,
}

impl Store {
    pub fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        Ok(signing_keys::table
            .order(signing_keys::created_at.desc())
            .select(SigningKeyRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Inserts new active keys and retires the previous active ones, in one transaction.
    pub fn rotate_signing_keys(
        &self,
        new_keys: &[SigningKeyRow],
        now: i64,
        publish_until: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        super::connection::write_transaction(&mut conn, |conn| {
            diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
                .set((
                    signing_keys::retired_at.eq(now),
                    signing_keys::publish_until.eq(publish_until),
                ))
                .execute(conn)?;
            for row in new_keys {
                diesel::insert_into(signing_keys::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        Ok(())
    }

    /// First start: insert keys only if there are none yet (another replica may race us).
    pub fn insert_first_signing_keys(&self, new_keys: &[SigningKeyRow]) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let inserted = super::connection::write_transaction(&mut conn, |conn| {
            // On PostgreSQL two replicas would both count no keys under READ COMMITTED and
            // both insert a set: the first to lock the table inserts, the other then sees its
            // keys (it conflicts with itself only, so readers and the JWKS are not held up).
            // SQLite's write transaction already shuts out the other writer.
            if let AnyConnection::Postgresql(pg) = conn {
                pg.batch_execute("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")?;
            }
            let existing: i64 = signing_keys::table.count().get_result(conn)?;
            if existing > 0 {
                return Ok::<_, diesel::result::Error>(false);
            }
            for row in new_keys {
                diesel::insert_into(signing_keys::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok(true)
        });
        match inserted {
            Ok(v) => Ok(v),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
