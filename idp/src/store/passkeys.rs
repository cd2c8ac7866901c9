//! Passkeys and the WebAuthn ceremonies in flight.
use super::audit::{Claim, Step};
use super::schema::{passkeys, webauthn_ceremonies};
use super::{AnyConnection, Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys)]
pub struct PasskeyRow {
    pub cred_id: String,
    pub sub: String,
    pub user_handle: String,
    pub name: String,
    /// The serialised webauthn-rs `Passkey`.
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub suspended_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webauthn_ceremonies)]
pub struct CeremonyRow {
    pub id: String,
    pub kind: String,
    pub sub: Option<String>,
    pub request_id: Option<String>,
    /// The serialised webauthn-rs ceremony state (challenge, policy).
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new passkey; `Conflict` when the credential id is already bound (to anyone).
    pub fn insert_passkey(&self, row: &PasskeyRow) -> StoreResult<()> {
        diesel::insert_into(passkeys::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    pub fn passkey(&self, cred_id: &str) -> StoreResult<Option<PasskeyRow>> {
        Ok(passkeys::table
            .find(cred_id)
            .select(PasskeyRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    pub fn passkeys_of(&self, sub: &str) -> StoreResult<Vec<PasskeyRow>> {
        Ok(passkeys::table
            .filter(passkeys::sub.eq(sub))
            .order(passkeys::created_at.asc())
            .select(PasskeyRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Records a successful use: the new counter state and the time.
    pub fn passkey_used(&self, cred_id: &str, credential: &str, now: i64) -> StoreResult<()> {
        Ok(record_use(&mut *self.conn()?, cred_id, credential, now)?)
    }

    /// Marks a passkey as possibly cloned; true if this call suspended it.
    pub fn suspend_passkey(&self, cred_id: &str, now: i64) -> StoreResult<bool> {
        Ok(diesel::update(
            passkeys::table
                .find(cred_id)
                .filter(passkeys::suspended_at.is_null()),
        )
        .set(passkeys::suspended_at.eq(now))
        .execute(&mut *self.conn()?)?
            == 1)
    }

    /// Removes one of the citizen's passkeys; true if it existed and was theirs.
    pub fn delete_passkey(&self, sub: &str, cred_id: &str) -> StoreResult<bool> {
        Ok(
            diesel::delete(passkeys::table.find(cred_id).filter(passkeys::sub.eq(sub)))
                .execute(&mut *self.conn()?)?
                == 1,
        )
    }

    pub fn insert_ceremony(&self, row: &CeremonyRow) -> StoreResult<()> {
        diesel::insert_into(webauthn_ceremonies::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    /// A ceremony of `kind` still running (a read: see `claiming_ceremony`).
    pub fn ceremony(&self, id: &str, kind: &str, now: i64) -> StoreResult<Option<CeremonyRow>> {
        Ok(webauthn_ceremonies::table
            .find(id)
            .filter(webauthn_ceremonies::kind.eq(kind))
            .filter(webauthn_ceremonies::expires_at.gt(now))
            .select(CeremonyRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Takes a ceremony out of the table: it can be finished once, by whichever replica gets
    /// here first, and only before it expires.
    pub fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
        now: i64,
    ) -> StoreResult<Option<CeremonyRow>> {
        let mut conn = self.conn()?;
        let Some(row) = webauthn_ceremonies::table
            .find(id)
            .select(CeremonyRow::as_select())
            .first(&mut *conn)
            .optional()?
        else {
            return Ok(None);
        };
        // Only the caller whose DELETE removed the row owns it: a concurrent second finish on
        // another replica deletes nothing.
        let deleted = diesel::delete(webauthn_ceremonies::table.find(id)).execute(&mut *conn)?;
        Ok((deleted == 1 && row.kind == kind && row.expires_at > now).then_some(row))
    }

    pub fn purge_ceremonies(&self, now: i64) -> StoreResult<usize> {
        Ok(diesel::delete(
            webauthn_ceremonies::table.filter(webauthn_ceremonies::expires_at.le(now)),
        )
        .execute(&mut *self.conn()?)?)
    }
}

fn record_use(
    conn: &mut AnyConnection,
    cred_id: &str,
    credential: &str,
    now: i64,
) -> QueryResult<()> {
    diesel::update(passkeys::table.find(cred_id))
        .set((
            passkeys::credential.eq(credential),
            passkeys::last_used_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records a successful use (the new counter state), as a step of an audit entry's companion.
pub fn recording_use(cred_id: String, credential: String, now: i64) -> Step {
    Box::new(move |conn| record_use(conn, &cred_id, &credential, now))
}

/// Takes a ceremony out of the table, as the claim of an audit entry's companion: only the
/// request whose DELETE removed it (on any replica) finishes it.
pub fn claiming_ceremony(id: String) -> Claim {
    Box::new(move |conn| {
        Ok(diesel::delete(webauthn_ceremonies::table.find(&id)).execute(conn)? == 1)
    })
}
