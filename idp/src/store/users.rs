use super::schema::{federated_identities, users};
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub sub: String,
    /// Keyed hash of the ID number: finds the account without storing the number in clear.
    /// None for a roaming account whose ID number no app here has been given.
    pub id_number_lookup: Option<String>,
    /// The ID number encrypted under a KEK-derived key, released only with consent.
    pub id_number_sealed: Option<Vec<u8>>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Store {
    pub fn insert_user(&self, row: &UserRow) -> StoreResult<()> {
        diesel::insert_into(users::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn user_by_sub(&self, sub: &str) -> StoreResult<Option<UserRow>> {
        Ok(users::table
            .find(sub)
            .select(UserRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn user_by_lookup(&self, lookup: &str) -> StoreResult<Option<UserRow>> {
        Ok(users::table
            .filter(users::id_number_lookup.eq(lookup))
            .select(UserRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// The account here of whoever `upstream_sub` is at the upstream `code`.
    pub fn federated_user(&self, code: &str, upstream_sub: &str) -> StoreResult<Option<String>> {
        Ok(federated_identities::table
            .find((code, upstream_sub))
            .select(federated_identities::sub)
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn link_federated_user(
        &self,
        code: &str,
        upstream_sub: &str,
        sub: &str,
        now: i64,
    ) -> StoreResult<()> {
        diesel::insert_into(federated_identities::table)
            .values((
                federated_identities::upstream_code.eq(code),
                federated_identities::upstream_sub.eq(upstream_sub),
                federated_identities::sub.eq(sub),
                federated_identities::created_at.eq(now),
            ))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    /// Gives a roaming account the ID number an app here was given with the citizen's consent.
    pub fn set_user_id_number(
        &self,
        sub: &str,
        lookup: &str,
        sealed: &[u8],
        now: i64,
    ) -> StoreResult<bool> {
        let n = diesel::update(
            users::table
                .find(sub)
                .filter(users::id_number_lookup.is_null()),
        )
        .set((
            users::id_number_lookup.eq(lookup),
            users::id_number_sealed.eq(sealed),
            users::updated_at.eq(now),
        ))
        .execute(&mut *self.conn()?)?;
        Ok(n == 1)
    }

    pub fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRow>> {
        Ok(users::table
            .filter(users::phone.eq(phone))
            .select(UserRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }
}
