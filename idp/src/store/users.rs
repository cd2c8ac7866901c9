use super::schema::users;
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub sub: String,
    /// Keyed hash of the ID number: finds the account without storing the number in clear.
    pub id_number_lookup: String,
    /// The ID number encrypted under a KEK-derived key, released only with consent.
    pub id_number_sealed: Vec<u8>,
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

    pub fn user_by_phone(&self, phone: &str) -> StoreResult<Option<UserRow>> {
        Ok(users::table
            .filter(users::phone.eq(phone))
            .select(UserRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }
}
