//! Citizens: creation and the ID-number lookup that never stores the number in clear.
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::id_number::{IdNumber, IdNumberError};
use crate::domain::password::{self, PasswordError};
use crate::services::Services;
use crate::store::users::UserRow;
use crate::store::StoreError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug)]
pub struct NewUser {
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub password: zeroize::Zeroizing<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("invalid ID number: {0}")]
    IdNumber(#[from] IdNumberError),
    #[error("invalid password: {0}")]
    Password(#[from] PasswordError),
    #[error("a name is required (at most 100 characters)")]
    Name,
    #[error("a phone number is 11 digits starting with 1")]
    Phone,
    #[error("an account with this ID number or phone already exists")]
    Exists,
    #[error(transparent)]
    Infra(#[from] Infra),
}

impl From<StoreError> for CreateUserError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => CreateUserError::Exists,
            other => CreateUserError::Infra(other.into()),
        }
    }
}

/// Keyed hash of an ID number: stable lookup key, useless without the KEK.
pub fn id_lookup(svc: &Services, id: &IdNumber) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&svc.secrets.id_lookup[..])
        .expect("HMAC takes any key length");
    mac.update(id.expose().as_bytes());
    crate::domain::audit::hex(&mac.finalize().into_bytes())
}

/// A short pseudonym of a login name for logs and audit (never the name itself).
pub fn pseudonym(svc: &Services, login_name: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&svc.secrets.id_lookup[..])
        .expect("HMAC takes any key length");
    mac.update(b"pseudonym:");
    mac.update(login_name.trim().to_ascii_uppercase().as_bytes());
    format!(
        "anon-{}",
        &crate::domain::audit::hex(&mac.finalize().into_bytes())[..16]
    )
}

pub fn valid_phone(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

pub fn create(svc: &Services, new: NewUser) -> Result<String, CreateUserError> {
    let id = IdNumber::parse(&new.id_number)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CreateUserError::Name);
    }
    if let Some(phone) = &new.phone {
        if !valid_phone(phone) {
            return Err(CreateUserError::Phone);
        }
    }
    // On the hashing threads, whose working memory is bounded (flows/password_pool.rs).
    let typed = zeroize::Zeroizing::new(new.password.clone());
    let hash = svc
        .passwords
        .run(move || password::hash(&typed))
        .ok_or(password::PasswordError::Hashing)??;
    let now = svc.now();
    let sub = keys::random_token(16);
    let lookup = id_lookup(svc, &id);
    svc.store.insert_user(&UserRow {
        sub: sub.clone(),
        id_number_lookup: Some(lookup),
        id_number_sealed: Some(
            svc.secrets
                .id_seal
                .seal(id.expose().as_bytes(), sub.as_bytes()),
        ),
        name: name.to_owned(),
        phone: new.phone,
        email: new.email,
        address: new.address,
        password_hash: Some(hash),
        created_at: now,
        updated_at: now,
    })?;
    svc.audit
        .append(AuditEvent::new(
            "user.created",
            &sub,
            None,
            serde_json::json!({}),
        ))
        .map_err(Infra::from)?;
    Ok(sub)
}

/// Finds an account by ID number or phone, as typed on the login form.
pub fn find_by_login_name(svc: &Services, login_name: &str) -> Result<Option<UserRow>, StoreError> {
    let name = login_name.trim();
    if IdNumber::looks_like(name) {
        return match IdNumber::parse(name) {
            Ok(id) => svc.store.user_by_lookup(&id_lookup(svc, &id)),
            Err(_) => Ok(None),
        };
    }
    if valid_phone(name) {
        return svc.store.user_by_phone(name);
    }
    Ok(None)
}

/// The ID number in clear, for the `id_number` claim only.
pub fn reveal_id_number(svc: &Services, user: &UserRow) -> Option<String> {
    svc.secrets
        .id_seal
        .open(user.id_number_sealed.as_deref()?, user.sub.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
}
