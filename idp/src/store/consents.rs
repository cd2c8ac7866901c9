use super::schema::consents;
use super::{Store, StoreError, StoreResult};
use diesel::prelude::*;

impl Store {
    /// The scopes a citizen has consented to for a client (space-separated), if any.
    pub fn consent(&self, sub: &str, client_id: &str) -> StoreResult<Option<String>> {
        Ok(consents::table
            .find((sub, client_id))
            .select(consents::scope)
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn save_consent(
        &self,
        sub: &str,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        for _ in 0..2 {
            let n = diesel::update(consents::table.find((sub, client_id)))
                .set((consents::scope.eq(scope), consents::granted_at.eq(now)))
                .execute(&mut *conn)?;
            if n == 1 {
                return Ok(());
            }
            let inserted = diesel::insert_into(consents::table)
                .values((
                    consents::sub.eq(sub),
                    consents::client_id.eq(client_id),
                    consents::scope.eq(scope),
                    consents::granted_at.eq(now),
                ))
                .execute(&mut *conn);
            match inserted.map_err(StoreError::from) {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
