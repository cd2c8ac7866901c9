use super::schema::{client_counters, clients, initial_access_tokens};
use super::{Store, StoreError, StoreResult};
use crate::domain::client::{Client, ClientStatus};
use crate::domain::subject::SubjectType;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub scopes: String,
    pub id_token_alg: String,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub request_object_alg: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub registration_token_hash: Option<String>,
    pub metadata: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ClientRow {
    fn subject_type(&self) -> SubjectType {
        let m = serde_json::from_str::<serde_json::Value>(&self.metadata).unwrap_or_default();
        match (
            m.get("subject_type").and_then(|v| v.as_str()),
            m.get("sector_identifier").and_then(|v| v.as_str()),
        ) {
            (Some("pairwise"), Some(sector)) => SubjectType::Pairwise {
                sector: sector.to_owned(),
            },
            _ => SubjectType::Public,
        }
    }

    fn metadata_flag(&self, key: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(&self.metadata)
            .ok()
            .and_then(|m| m.get(key).and_then(|v| v.as_bool()))
            .unwrap_or(false)
    }

    pub fn to_domain(&self) -> StoreResult<Client> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("client {}: {what}", self.client_id));
        let list =
            |text: &str| serde_json::from_str::<Vec<String>>(text).map_err(|_| corrupt("list"));
        Ok(Client {
            client_id: self.client_id.clone(),
            name: self.name.clone(),
            auth_method: self
                .auth_method
                .parse()
                .map_err(|_| corrupt("auth_method"))?,
            redirect_uris: list(&self.redirect_uris)?,
            post_logout_redirect_uris: list(&self.post_logout_redirect_uris)?,
            grant_types: list(&self.grant_types)?
                .iter()
                .map(|g| g.parse())
                .collect::<Result<_, _>>()
                .map_err(|_| corrupt("grant_types"))?,
            scopes: self
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            id_token_alg: self
                .id_token_alg
                .parse()
                .map_err(|_| corrupt("id_token_alg"))?,
            jwks: match &self.jwks {
                Some(j) => Some(serde_json::from_str(j).map_err(|_| corrupt("jwks"))?),
                None => None,
            },
            jwks_uri: self.jwks_uri.clone(),
            request_object_alg: match &self.request_object_alg {
                Some(a) => Some(a.parse().map_err(|_| corrupt("request_object_alg"))?),
                None => None,
            },
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            status: self.status.parse().map_err(|_| corrupt("status"))?,
            status_reason: self.status_reason.clone(),
            created_at: self.created_at,
            dpop_bound: self.metadata_flag("dpop_bound_access_tokens"),
            // Not among the keys dynamic registration copies into `metadata`: operators only.
            first_party: self.metadata_flag("first_party"),
            subject: self.subject_type(),
            federation_region: serde_json::from_str::<serde_json::Value>(&self.metadata)
                .ok()
                .and_then(|m| m.get("federation_region")?.as_str().map(str::to_owned))
                .filter(|c| {
                    crate::domain::upstream::valid_code(c) && c != crate::domain::upstream::HUB_CODE
                }),
        })
    }
}

/// Per-client counts for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Queryable, serde::Serialize)]
pub struct Counts {
    pub logins: i64,
    pub tokens: i64,
    pub errors: i64,
}

impl Store {
    pub fn insert_client(&self, row: &ClientRow) -> StoreResult<()> {
        diesel::insert_into(clients::table)
            .values(row)
            .execute(&mut *self.conn()?)?;
        self.client_cache.forget(&row.client_id);
        Ok(())
    }

    /// An app as last read, if that was within the cache's TTL; never touches the database.
    pub fn cached_client(&self, client_id: &str) -> Option<ClientRow> {
        self.client_cache.get(client_id, std::time::Instant::now())
    }

    /// The app, from the last second's cache (see `client_cache`) or the database.
    pub fn client(&self, client_id: &str) -> StoreResult<Option<ClientRow>> {
        let now = std::time::Instant::now();
        if let Some(row) = self.client_cache.get(client_id, now) {
            return Ok(Some(row));
        }
        let generation = self.client_cache.generation();
        let row = clients::table
            .find(client_id)
            .select(ClientRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?;
        if let Some(row) = &row {
            self.client_cache.put(generation, row, now);
        }
        Ok(row)
    }

    pub fn clients(&self) -> StoreResult<Vec<ClientRow>> {
        Ok(clients::table
            .order(clients::created_at.asc())
            .select(ClientRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Returns false when no such client exists.
    pub fn set_client_status(
        &self,
        client_id: &str,
        status: ClientStatus,
        reason: Option<&str>,
        now: i64,
    ) -> StoreResult<bool> {
        let n = diesel::update(clients::table.find(client_id))
            .set((
                clients::status.eq(status.as_str()),
                clients::status_reason.eq(reason),
                clients::updated_at.eq(now),
            ))
            .execute(&mut *self.conn()?)?;
        self.client_cache.forget(client_id);
        Ok(n == 1)
    }

    /// Adds deltas to a client's counters (update first; insert when the row is new).
    pub fn add_counts(&self, client_id: &str, delta: Counts, now: i64) -> StoreResult<()> {
        let mut conn = self.conn()?;
        for _ in 0..2 {
            let n = diesel::update(client_counters::table.find(client_id))
                .set((
                    client_counters::logins.eq(client_counters::logins + delta.logins),
                    client_counters::tokens.eq(client_counters::tokens + delta.tokens),
                    client_counters::errors.eq(client_counters::errors + delta.errors),
                    client_counters::updated_at.eq(now),
                ))
                .execute(&mut *conn)?;
            if n == 1 {
                return Ok(());
            }
            let inserted = diesel::insert_into(client_counters::table)
                .values((
                    client_counters::client_id.eq(client_id),
                    client_counters::logins.eq(delta.logins),
                    client_counters::tokens.eq(delta.tokens),
                    client_counters::errors.eq(delta.errors),
                    client_counters::updated_at.eq(now),
                ))
                .execute(&mut *conn);
            match inserted {
                Ok(_) => return Ok(()),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    pub fn counts(&self) -> StoreResult<Vec<(String, Counts)>> {
        let rows: Vec<(String, i64, i64, i64)> = client_counters::table
            .select((
                client_counters::client_id,
                client_counters::logins,
                client_counters::tokens,
                client_counters::errors,
            ))
            .order(client_counters::client_id.asc())
            .load(&mut *self.conn()?)?;
        Ok(rows
            .into_iter()
            .map(|(id, logins, tokens, errors)| {
                (
                    id,
                    Counts {
                        logins,
                        tokens,
                        errors,
                    },
                )
            })
            .collect())
    }

    pub fn insert_initial_access_token(
        &self,
        token_hash: &str,
        approve: bool,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        diesel::insert_into(initial_access_tokens::table)
            .values((
                initial_access_tokens::token_hash.eq(token_hash),
                initial_access_tokens::approve.eq(approve),
                initial_access_tokens::created_at.eq(now),
                initial_access_tokens::expires_at.eq(expires_at),
            ))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    /// `Some(approve)` for a valid, unexpired initial access token.
    pub fn initial_access_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<bool>> {
        Ok(initial_access_tokens::table
            .find(token_hash)
            .filter(initial_access_tokens::expires_at.gt(now))
            .select(initial_access_tokens::approve)
            .first(&mut *self.conn()?)
            .optional()?)
    }
}
