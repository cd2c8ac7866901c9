//! Operator roles: who may do what in the console.
use super::schema::operator_roles;
use super::{Store, StoreResult};
use diesel::prelude::*;

impl Store {
    /// The role names a citizen holds (usually none).
    pub fn operator_roles(&self, sub: &str) -> StoreResult<Vec<String>> {
        Ok(operator_roles::table
            .filter(operator_roles::sub.eq(sub))
            .order(operator_roles::role.asc())
            .select(operator_roles::role)
            .load(&mut *self.conn()?)?)
    }

    /// Grants a role; false when it was held already.
    pub fn grant_operator_role(
        &self,
        sub: &str,
        role: &str,
        by: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let inserted = diesel::insert_into(operator_roles::table)
            .values((
                operator_roles::sub.eq(sub),
                operator_roles::role.eq(role),
                operator_roles::granted_at.eq(now),
                operator_roles::granted_by.eq(by),
            ))
            .execute(&mut *self.conn()?);
        match inserted.map_err(super::StoreError::from) {
            Ok(_) => Ok(true),
            Err(super::StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Withdraws a role; false when it was not held.
    pub fn revoke_operator_role(&self, sub: &str, role: &str) -> StoreResult<bool> {
        let n =
            diesel::delete(operator_roles::table.find((sub, role))).execute(&mut *self.conn()?)?;
        Ok(n == 1)
    }

    /// Every (sub, role) held, for `idp operator list`.
    pub fn all_operator_roles(&self) -> StoreResult<Vec<(String, String, i64)>> {
        Ok(operator_roles::table
            .order((operator_roles::sub.asc(), operator_roles::role.asc()))
            .select((
                operator_roles::sub,
                operator_roles::role,
                operator_roles::granted_at,
            ))
            .load(&mut *self.conn()?)?)
    }
}
