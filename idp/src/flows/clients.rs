//! The app registry: registration, review (approve / reject), suspension, statistics.
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::client::{
    validate_redirect_uri, AuthMethod, ClientStatus, GrantType, RedirectUriError, RequestObjectAlg,
};
use crate::services::Services;
use crate::store::clients::{ClientRow, Counts};
use crate::store::StoreError;

/// What an operator or a registering app supplies.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: AuthMethod,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub id_token_alg: keys::Alg,
    pub jwks: Option<serde_json::Value>,
    pub jwks_uri: Option<String>,
    pub request_object_alg: Option<RequestObjectAlg>,
    pub backchannel_logout_uri: Option<String>,
    pub approve: bool,
    /// Other registered metadata (client_uri, logo_uri, contacts...), echoed back as registered.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub registration_token_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Registered {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub status: ClientStatus,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    #[error("{0}")]
    Metadata(String),
    #[error("no app with this client_id")]
    NotFound,
    #[error(transparent)]
    Infra(#[from] Infra),
}

impl From<StoreError> for RegistryError {
    fn from(e: StoreError) -> Self {
        RegistryError::Infra(e.into())
    }
}

pub fn register(svc: &Services, new: NewClient, actor: &str) -> Result<Registered, RegistryError> {
    let public = new.auth_method == AuthMethod::None;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(RegistryError::Metadata(
            "client_name must be 1 to 200 characters".into(),
        ));
    }
    if new.grant_types.is_empty() {
        return Err(RegistryError::Metadata(
            "at least one grant type is required".into(),
        ));
    }
    if new.grant_types.contains(&GrantType::AuthorizationCode) && new.redirect_uris.is_empty() {
        return Err(RegistryError::Metadata(
            "the authorization code grant needs at least one redirect URI".into(),
        ));
    }
    if public && new.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(RegistryError::Metadata(
            "a public client cannot use client_credentials".into(),
        ));
    }
    for uri in &new.redirect_uris {
        validate_redirect_uri(uri, public)?;
    }
    for uri in new
        .post_logout_redirect_uris
        .iter()
        .chain(new.backchannel_logout_uri.iter())
    {
        validate_redirect_uri(uri, public)?;
    }
    if let Some(uri) = &new.backchannel_logout_uri {
        super::outbound::check_url(svc, uri)
            .map_err(|e| RegistryError::Metadata(format!("backchannel_logout_uri: {e}")))?;
    }
    // Scopes we do not know are allowed: they name an app's own APIs (client_credentials).
    if let Some(bad) = new.scopes.iter().find(|s| !is_scope_token(s)) {
        return Err(RegistryError::Metadata(format!(
            "scope {bad:?} is not a valid scope token (RFC 6749 3.3)"
        )));
    }
    if new.jwks.is_some() && new.jwks_uri.is_some() {
        return Err(RegistryError::Metadata(
            "jwks and jwks_uri are mutually exclusive (RFC 7591 2)".into(),
        ));
    }
    if let Some(jwks) = &new.jwks {
        let set = keys::KeySet::from_jwks(jwks)
            .map_err(|e| RegistryError::Metadata(format!("jwks: {e}")))?;
        if set.keys().is_empty() {
            return Err(RegistryError::Metadata(
                "jwks holds no usable signing key (ES256 or RS256)".into(),
            ));
        }
    }
    if let Some(uri) = &new.jwks_uri {
        super::outbound::check_url(svc, uri)
            .map_err(|e| RegistryError::Metadata(format!("jwks_uri: {e}")))?;
    }
    if new.auth_method == AuthMethod::PrivateKeyJwt && new.jwks.is_none() && new.jwks_uri.is_none()
    {
        return Err(RegistryError::Metadata(
            "private_key_jwt needs jwks or jwks_uri".into(),
        ));
    }
    let secret = matches!(
        new.auth_method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    )
    .then(|| keys::random_token(32));
    let now = svc.now();
    // Never starting with '-': an id is typed on command lines (`idp client approve ID`).
    let client_id = std::iter::repeat_with(|| keys::random_token(16))
        .find(|id| !id.starts_with('-'))
        .unwrap_or_default();
    let status = if new.approve {
        ClientStatus::Approved
    } else {
        ClientStatus::Pending
    };
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    let grants: Vec<String> = new
        .grant_types
        .iter()
        .map(|g| g.as_str().to_owned())
        .collect();
    svc.store.insert_client(&ClientRow {
        client_id: client_id.clone(),
        name: name.to_owned(),
        secret_hash: secret.as_deref().map(|s| keys::sha256_b64(s.as_bytes())),
        auth_method: new.auth_method.as_str().to_owned(),
        redirect_uris: json(&new.redirect_uris),
        post_logout_redirect_uris: json(&new.post_logout_redirect_uris),
        grant_types: json(&grants),
        scopes: new.scopes.join(" "),
        id_token_alg: new.id_token_alg.as_str().to_owned(),
        jwks: new.jwks.as_ref().map(|j| j.to_string()),
        jwks_uri: new.jwks_uri.clone(),
        request_object_alg: new.request_object_alg.map(|a| a.as_str().to_owned()),
        backchannel_logout_uri: new.backchannel_logout_uri.clone(),
        status: status.as_str().to_owned(),
        status_reason: None,
        registration_token_hash: new.registration_token_hash.clone(),
        metadata: serde_json::Value::Object(new.metadata.clone()).to_string(),
        created_at: now,
        updated_at: now,
    })?;
    svc.audit
        .append(AuditEvent::new(
            "client.registered",
            actor,
            Some(&client_id),
            serde_json::json!({ "status": status.as_str(), "name": name }),
        ))
        .map_err(Infra::from)?;
    Ok(Registered {
        client_id,
        client_secret: secret,
        status,
        created_at: now,
    })
}

/// Review and suspension. Every change is audited with its reason.
pub fn set_status(
    svc: &Services,
    client_id: &str,
    status: ClientStatus,
    reason: Option<&str>,
    actor: &str,
) -> Result<(), RegistryError> {
    if !svc
        .store
        .set_client_status(client_id, status, reason, svc.now())?
    {
        return Err(RegistryError::NotFound);
    }
    svc.audit
        .append(AuditEvent::new(
            &format!("client.{}", status.as_str()),
            actor,
            Some(client_id),
            serde_json::json!({ "reason": reason }),
        ))
        .map_err(Infra::from)?;
    Ok(())
}

pub fn stats(svc: &Services, client_id: &str) -> Result<Counts, RegistryError> {
    svc.store
        .client(client_id)?
        .ok_or(RegistryError::NotFound)?;
    svc.counters.flush(&svc.store, &svc.clock)?;
    Ok(svc
        .store
        .counts()?
        .into_iter()
        .find(|(id, _)| id == client_id)
        .map(|(_, c)| c)
        .unwrap_or_default())
}

/// Issues an initial access token for Dynamic Client Registration (RFC 7591 3).
pub fn issue_registration_token(
    svc: &Services,
    approve: bool,
    ttl: i64,
    actor: &str,
) -> Result<String, Infra> {
    let token = keys::random_token(32);
    let now = svc.now();
    svc.store.insert_initial_access_token(
        &keys::sha256_b64(token.as_bytes()),
        approve,
        now,
        now + ttl,
    )?;
    svc.audit.append(AuditEvent::new(
        "client.registration_token",
        actor,
        None,
        serde_json::json!({ "approve": approve }),
    ))?;
    Ok(token)
}

/// RFC 6749 3.3 scope-token: printable ASCII without space, quote or backslash.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}
