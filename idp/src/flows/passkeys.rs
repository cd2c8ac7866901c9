//! Passkey ceremonies (WebAuthn with user verification): a logged-in citizen binds a passkey;
//! anyone logs in with one, without typing an ID number (discoverable credentials). Ceremony
//! state lives in the database, single use and short-lived, so any replica can finish what
//! another started.
use super::{sessions, Infra};
use crate::config::Config;
use crate::domain::acr::ACR_STRONG;
use crate::domain::audit::AuditEvent;
use crate::domain::passkey::{self, PasskeyError};
use crate::services::Services;
use crate::store::passkeys::{CeremonyRow, PasskeyRow};
use crate::store::{self, StoreError};
use base64::Engine;
use hmac::{Hmac, Mac};
use webauthn_rs::prelude::*;

const REGISTER: &str = "register";
const LOGIN: &str = "login";

pub type PasskeyResult<T> = Result<Result<T, PasskeyError>, Infra>;

/// The WebAuthn relying party of this issuer, or `None` when the issuer's host is an IP address
/// (browsers accept only domains as RP ids) and no RP id is configured.
pub fn relying_party(config: &Config) -> Result<Option<Webauthn>, String> {
    let origin = Url::parse(&config.issuer).map_err(|e| e.to_string())?;
    let rp_id = match (&config.webauthn_rp_id, origin.domain()) {
        (Some(id), _) => id.clone(),
        (None, Some(domain)) => domain.to_owned(),
        (None, None) => return Ok(None),
    };
    let mut builder = WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|_| {
            format!("WebAuthn RP id {rp_id:?} is not the issuer's domain or a parent of it")
        })?
        .rp_name("国家政务服务身份认证")
        .timeout(std::time::Duration::from_secs(
            config.ceremony_ttl_secs.clamp(30, 600) as u64,
        ));
    for extra in &config.webauthn_origins {
        let url =
            Url::parse(extra).map_err(|_| format!("WebAuthn origin {extra:?} is not a URL"))?;
        builder = builder.append_allowed_origin(&url);
    }
    builder.build().map(Some).map_err(|e| e.to_string())
}

/// A ceremony begun: its id and the options for `navigator.credentials.create/get`.
#[derive(Debug)]
pub struct Started {
    pub ceremony: String,
    /// `{"publicKey": {...}}` (and `mediation` for logins) in the WebAuthn JSON encoding.
    pub options: serde_json::Value,
}

/// A passkey as the citizen sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PasskeyInfo {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Suspended because its sign counter went backwards (possibly cloned).
    pub suspended: bool,
}

impl From<&PasskeyRow> for PasskeyInfo {
    fn from(row: &PasskeyRow) -> Self {
        Self {
            id: row.cred_id.clone(),
            name: row.name.clone(),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            suspended: row.suspended_at.is_some(),
        }
    }
}

#[derive(Debug)]
pub struct PasskeyLogin {
    pub session_cookie: String,
    pub sub: String,
    /// Where the browser goes next: the parked authorization request, or the account page.
    pub redirect_to: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RegisterState {
    name: String,
    state: PasskeyRegistration,
}

fn rp(svc: &Services) -> Result<&Webauthn, PasskeyError> {
    svc.webauthn.as_ref().ok_or(PasskeyError::Unavailable)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn corrupt(what: &str) -> Infra {
    Infra::Store(StoreError::Corrupt(what.into()))
}

/// The WebAuthn user handle: stable per citizen, opaque (a keyed hash of `sub`), so an
/// authenticator holds nothing that identifies the citizen elsewhere.
pub fn user_handle(svc: &Services, sub: &str) -> Uuid {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&*svc.secrets.user_handle)
        .expect("HMAC takes any key length");
    mac.update(sub.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn audit(svc: &Services, kind: &str, actor: &str, detail: serde_json::Value) -> Result<(), Infra> {
    Ok(svc
        .audit
        .append(AuditEvent::new(kind, actor, None, detail))?)
}

/// A short, non-secret reference to a credential for the audit log.
fn cred_ref(cred_id: &str) -> &str {
    &cred_id[..cred_id.len().min(16)]
}

fn save_ceremony(
    svc: &Services,
    kind: &str,
    sub: Option<&str>,
    request_id: Option<&str>,
    state: String,
) -> Result<String, Infra> {
    let now = svc.now();
    let id = keys::random_token(24);
    svc.store.insert_ceremony(&CeremonyRow {
        id: id.clone(),
        kind: kind.into(),
        sub: sub.map(str::to_owned),
        request_id: request_id.map(str::to_owned),
        state,
        created_at: now,
        expires_at: now + svc.config.ceremony_ttl_secs,
    })?;
    Ok(id)
}

fn with_ceremony(
    options: impl serde::Serialize,
    ceremony: &str,
) -> Result<serde_json::Value, Infra> {
    let mut value = serde_json::to_value(options).map_err(|_| corrupt("webauthn options"))?;
    if let Some(map) = value.as_object_mut() {
        map.insert("ceremony".into(), ceremony.into());
    }
    Ok(value)
}

/// Maps a WebAuthn verification failure to what the citizen or app is told.
fn refusal(e: &WebauthnError) -> PasskeyError {
    match e {
        WebauthnError::UserNotVerified => PasskeyError::UserVerificationRequired,
        WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => {
            PasskeyError::OriginMismatch
        }
        WebauthnError::MismatchedChallenge => PasskeyError::CeremonyExpired,
        WebauthnError::CredentialNotFound => PasskeyError::UnknownCredential,
        WebauthnError::CredentialPossibleCompromise => PasskeyError::CredentialSuspended,
        _ => PasskeyError::VerificationFailed,
    }
}

/// Begins binding a passkey to the logged-in citizen.
pub fn register_start(
    svc: &Services,
    session_cookie: Option<&str>,
    name: &str,
) -> PasskeyResult<Started> {
    let rp = match rp(svc) {
        Ok(rp) => rp,
        Err(e) => return Ok(Err(e)),
    };
    let Some(session) = sessions::current(svc, session_cookie)? else {
        return Ok(Err(PasskeyError::LoginRequired));
    };
    if !passkey::may_bind(session.auth_time, svc.now()) {
        return Ok(Err(PasskeyError::ReauthenticationRequired));
    }
    let Some(name) = passkey::valid_name(name) else {
        return Ok(Err(PasskeyError::InvalidName));
    };
    let Some(user) = svc.store.user_by_sub(&session.sub)? else {
        return Ok(Err(PasskeyError::LoginRequired));
    };
    let existing = svc.store.passkeys_of(&user.sub)?;
    let exclude = existing
        .iter()
        .filter_map(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&p.cred_id)
                .ok()
        })
        .collect::<Vec<_>>();
    // The authenticator shows the citizen's name; the ID number never leaves the server.
    let (options, state) = rp
        .start_passkey_registration(
            user_handle(svc, &user.sub),
            &user.name,
            &user.name,
            Some(exclude),
        )
        .map_err(|_| corrupt("webauthn registration options"))?;
    let state = serde_json::to_string(&RegisterState { name, state })
        .map_err(|_| corrupt("webauthn registration state"))?;
    let ceremony = save_ceremony(svc, REGISTER, Some(&user.sub), None, state)?;
    let mut options = with_ceremony(&options, &ceremony)?;
    // Login types no ID number, so the credential must be discoverable (a resident key).
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(|v| v.as_object_mut())
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    Ok(Ok(Started { options, ceremony }))
}

/// Finishes binding: verifies the authenticator's answer and stores the passkey.
pub fn register_finish(
    svc: &Services,
    session_cookie: Option<&str>,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
) -> PasskeyResult<PasskeyInfo> {
    let rp = match rp(svc) {
        Ok(rp) => rp,
        Err(e) => return Ok(Err(e)),
    };
    let Some(session) = sessions::current(svc, session_cookie)? else {
        return Ok(Err(PasskeyError::LoginRequired));
    };
    let now = svc.now();
    let Some(row) = svc.store.take_ceremony(ceremony, REGISTER, now)? else {
        return Ok(Err(PasskeyError::CeremonyExpired));
    };
    // A ceremony begun by one citizen cannot bind a passkey to another.
    if row.sub.as_deref() != Some(session.sub.as_str()) {
        return Ok(Err(PasskeyError::CeremonyExpired));
    }
    let started: RegisterState =
        serde_json::from_str(&row.state).map_err(|_| corrupt("webauthn registration state"))?;
    let key = match rp.finish_passkey_registration(credential, &started.state) {
        Ok(key) => key,
        Err(e) => {
            let why = refusal(&e);
            audit(
                svc,
                "passkey.bind_failed",
                &session.sub,
                serde_json::json!({ "error": why.code() }),
            )?;
            return Ok(Err(why));
        }
    };
    let cred_id = b64(key.cred_id());
    let stored = PasskeyRow {
        cred_id: cred_id.clone(),
        sub: session.sub.clone(),
        user_handle: user_handle(svc, &session.sub).to_string(),
        name: started.name,
        credential: serde_json::to_string(&key).map_err(|_| corrupt("passkey"))?,
        created_at: now,
        last_used_at: None,
        suspended_at: None,
    };
    match svc.store.insert_passkey(&stored) {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Ok(Err(PasskeyError::AlreadyRegistered)),
        Err(e) => return Err(e.into()),
    }
    audit(
        svc,
        "passkey.bound",
        &session.sub,
        serde_json::json!({ "passkey": cred_ref(&cred_id), "name": stored.name }),
    )?;
    Ok(Ok(PasskeyInfo::from(&stored)))
}

/// Begins a login with a discoverable passkey, for a parked authorization request or for the
/// provider's own pages. `conditional` asks the browser for autofill (conditional mediation)
/// instead of a modal prompt.
pub fn login_start(
    svc: &Services,
    request_id: Option<&str>,
    conditional: bool,
) -> PasskeyResult<Started> {
    let rp = match rp(svc) {
        Ok(rp) => rp,
        Err(e) => return Ok(Err(e)),
    };
    if let Some(id) = request_id {
        if id.len() > 64 || svc.store.auth_request(id, svc.now())?.is_none() {
            return Ok(Err(PasskeyError::RequestExpired));
        }
    }
    let (mut options, state) = rp
        .start_discoverable_authentication()
        .map_err(|_| corrupt("webauthn login options"))?;
    if !conditional {
        options.mediation = None;
    }
    let state = serde_json::to_string(&state).map_err(|_| corrupt("webauthn login state"))?;
    let ceremony = save_ceremony(svc, LOGIN, None, request_id, state)?;
    Ok(Ok(Started {
        options: with_ceremony(&options, &ceremony)?,
        ceremony,
    }))
}

/// Finishes a passkey login: verifies the assertion, starts a session at the strong assurance
/// level, and says where the browser goes next.
pub fn login_finish(
    svc: &Services,
    ceremony: &str,
    credential: &PublicKeyCredential,
    client_ip: &str,
) -> PasskeyResult<PasskeyLogin> {
    let rp = match rp(svc) {
        Ok(rp) => rp,
        Err(e) => return Ok(Err(e)),
    };
    let now = svc.now();
    let Some(row) = svc.store.ceremony(ceremony, LOGIN, now)? else {
        return Ok(Err(PasskeyError::CeremonyExpired));
    };
    let (stored, key) = match verify_assertion(svc, rp, &row, credential, now)? {
        Ok(verified) => verified,
        Err(refused) => {
            // A refused assertion spends its ceremony as a success does: each is tried once.
            svc.store.take_ceremony(ceremony, LOGIN, now)?;
            return Ok(Err(refused));
        }
    };
    let cred_id = stored.cred_id.clone();
    // The ceremony is claimed, and the new signature counter stored, in the commit that opens
    // the session: of two finishes of one ceremony, only one logs in.
    let claim = store::passkeys::claiming_ceremony(ceremony.to_owned());
    let used = store::passkeys::recording_use(
        cred_id.clone(),
        serde_json::to_string(&key).map_err(|_| corrupt("passkey"))?,
        now,
    );
    let amr = passkey::amr_for(credential.response.authenticator_data.as_ref());
    let login = sessions::Login {
        sub: &stored.sub,
        acr: ACR_STRONG,
        amr: &amr,
        auth_time: now,
        request_id: row.request_id.as_deref(),
    };
    let opened = sessions::open_claiming(
        svc,
        claim,
        &login,
        |_| vec![used],
        |session| {
            AuditEvent::new(
                "login.success",
                &stored.sub,
                None,
                serde_json::json!({ "method": "passkey", "amr": amr, "passkey": cred_ref(&cred_id), "sid": session.sid,
                "net": crate::domain::qr::coarse_address(client_ip) }),
            )
        },
    )?;
    let Some(opened) = opened else {
        return Ok(Err(PasskeyError::CeremonyExpired));
    };
    Ok(Ok(PasskeyLogin {
        session_cookie: opened.cookie,
        sub: stored.sub,
        redirect_to: opened.redirect_to,
    }))
}

/// Checks a login assertion against the ceremony's challenge and the passkey it names; the
/// passkey and its updated counter state if it holds. Refusals are audited here.
fn verify_assertion(
    svc: &Services,
    rp: &Webauthn,
    row: &CeremonyRow,
    credential: &PublicKeyCredential,
    now: i64,
) -> PasskeyResult<(PasskeyRow, Passkey)> {
    let state: DiscoverableAuthentication =
        serde_json::from_str(&row.state).map_err(|_| corrupt("webauthn login state"))?;
    let cred_id = b64(credential.get_credential_id());
    let handle = rp
        .identify_discoverable_authentication(credential)
        .ok()
        .map(|(u, _)| u);
    let stored = svc.store.passkey(&cred_id)?;
    // A discoverable credential names its user: it must be the one the passkey was bound to.
    let Some(stored) = stored.filter(|p| handle.is_some_and(|h| h.to_string() == p.user_handle))
    else {
        audit(
            svc,
            "passkey.failure",
            "unknown",
            serde_json::json!({ "error": "unknown_credential" }),
        )?;
        return Ok(Err(PasskeyError::UnknownCredential));
    };
    if stored.suspended_at.is_some() {
        audit(
            svc,
            "passkey.failure",
            &stored.sub,
            serde_json::json!({ "passkey": cred_ref(&cred_id), "error": "credential_suspended" }),
        )?;
        return Ok(Err(PasskeyError::CredentialSuspended));
    }
    let mut key: Passkey =
        serde_json::from_str(&stored.credential).map_err(|_| corrupt("passkey"))?;
    // `finish_discoverable_authentication_v2` takes the `Credential` type, which webauthn-rs
    // exposes only behind its `danger-credential-internals` feature; this one clones a key.
    #[allow(deprecated)]
    let result =
        rp.finish_discoverable_authentication(credential, state, &[DiscoverableKey::from(&key)]);
    // The policy already demands user verification; checked again because it is the point.
    let result = match result {
        Ok(r) if !r.user_verified() => Err(WebauthnError::UserNotVerified),
        other => other,
    };
    let result = match result {
        Ok(r) => r,
        // The counter stored by a finish of this same ceremony that committed meanwhile (a
        // double submission, a replay racing the original): that finish took the ceremony in
        // the same commit, so this one is late, not a clone.
        Err(WebauthnError::CredentialPossibleCompromise)
            if svc.store.ceremony(&row.id, LOGIN, now)?.is_none() =>
        {
            return Ok(Err(PasskeyError::CeremonyExpired));
        }
        Err(WebauthnError::CredentialPossibleCompromise) => {
            svc.store.suspend_passkey(&cred_id, now)?;
            audit(
                svc,
                "passkey.clone_suspected",
                &stored.sub,
                serde_json::json!({ "passkey": cred_ref(&cred_id) }),
            )?;
            return Ok(Err(PasskeyError::CredentialSuspended));
        }
        Err(e) => {
            let why = refusal(&e);
            audit(
                svc,
                "passkey.failure",
                &stored.sub,
                serde_json::json!({ "passkey": cred_ref(&cred_id), "error": why.code() }),
            )?;
            return Ok(Err(why));
        }
    };
    key.update_credential(&result);
    Ok(Ok((stored, key)))
}

/// The citizen's passkeys.
pub fn list(svc: &Services, sub: &str) -> Result<Vec<PasskeyInfo>, Infra> {
    Ok(svc
        .store
        .passkeys_of(sub)?
        .iter()
        .map(PasskeyInfo::from)
        .collect())
}

/// Removes one of the citizen's passkeys; false if there was no such passkey of theirs.
pub fn remove(svc: &Services, sub: &str, cred_id: &str) -> Result<bool, Infra> {
    if cred_id.len() > 1400 || !svc.store.delete_passkey(sub, cred_id)? {
        return Ok(false);
    }
    audit(
        svc,
        "passkey.removed",
        sub,
        serde_json::json!({ "passkey": cred_ref(cred_id) }),
    )?;
    Ok(true)
}
