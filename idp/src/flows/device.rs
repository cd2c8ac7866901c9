//! OAuth 2.0 Device Authorization Grant (RFC 8628): a kiosk or TV asks for a code, shows it
//! (and a QR of `verification_uri_complete`), and polls the token endpoint while the citizen
//! approves on their phone or in a browser. Every step is a row in `device_codes`, so the
//! polling and the approval may hit different replicas.
use super::token::{issue_for_grant, oauth, TokenError, TokenResponse};
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::client::{Client, GrantType};
use crate::domain::device::{self, Poll, PollState, Status};
use crate::domain::params::Params;
use crate::domain::scope::{self, ScopeSet};
use crate::domain::throttle;
use crate::services::Services;
use crate::store::device_codes::{Approval, DeviceCodeRow};
use crate::store::grants::GrantRow;
use crate::store::StoreError;
use serde::Serialize;

/// The device authorization response (RFC 8628 3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

pub fn start(
    svc: &Services,
    client: &Client,
    params: &Params,
) -> Result<DeviceAuthorization, TokenError> {
    if !client.allows_grant(GrantType::DeviceCode) {
        return Err(oauth(
            "unauthorized_client",
            "this app may not use the device authorization grant",
        ));
    }
    let scopes = ScopeSet::parse(params.get("scope").unwrap_or(scope::OPENID));
    if scopes
        .iter()
        .any(|s| !client.allows_scope(s) && s != scope::OPENID)
    {
        return Err(oauth(
            "invalid_scope",
            "a requested scope is not allowed for this app",
        ));
    }
    let now = svc.now();
    let device_code = keys::random_token(32);
    let mut row = DeviceCodeRow {
        device_code_hash: keys::sha256_b64(device_code.as_bytes()),
        user_code: String::new(),
        client_id: client.client_id.clone(),
        scope: scopes.to_string(),
        status: Status::Pending.as_str().into(),
        sub: None,
        sid: None,
        acr: None,
        amr: None,
        auth_time: None,
        interval_secs: device::INTERVAL_SECS,
        last_poll_at: None,
        created_at: now,
        expires_at: now + device::LIFETIME_SECS,
    };
    // A fresh user code collides with a live one very rarely; try again then.
    let mut attempts = 0;
    loop {
        row.user_code = device::new_user_code();
        match svc.store.insert_device_code(&row) {
            Ok(()) => break,
            Err(StoreError::Conflict) if attempts < 5 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
    svc.audit.append(AuditEvent::new(
        "device.authorization",
        &client.client_id,
        Some(&client.client_id),
        serde_json::json!({ "scope": row.scope }),
    ))?;
    let shown = device::display(&row.user_code);
    Ok(DeviceAuthorization {
        device_code,
        verification_uri: svc.config.endpoint("/device"),
        verification_uri_complete: svc.config.endpoint(&format!("/device?user_code={shown}")),
        user_code: shown,
        expires_in: device::LIFETIME_SECS,
        interval: device::INTERVAL_SECS,
    })
}

/// One poll of the token endpoint with `grant_type=…:device_code`.
pub fn redeem(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let code = params
        .get("device_code")
        .ok_or_else(|| oauth("invalid_request", "device_code is required"))?;
    let hash = keys::sha256_b64(code.as_bytes());
    let invalid = || oauth("invalid_grant", "the device code is not valid");
    let row = svc.store.device_code(&hash)?.ok_or_else(invalid)?;
    if row.client_id != client.client_id {
        return Err(invalid());
    }
    let now = svc.now();
    let status = Status::parse(&row.status).ok_or_else(invalid)?;
    let answer = device::poll(&PollState {
        status,
        now,
        expires_at: row.expires_at,
        last_poll_at: row.last_poll_at,
        interval_secs: row.interval_secs,
    });
    match answer {
        Poll::AuthorizationPending => {
            svc.store
                .record_device_poll(&hash, now, row.interval_secs)?;
            Err(oauth(
                "authorization_pending",
                "the citizen has not answered yet",
            ))
        }
        Poll::SlowDown => {
            let interval = row.interval_secs + device::INTERVAL_SECS;
            svc.store.record_device_poll(&hash, now, interval)?;
            Err(oauth(
                "slow_down",
                &format!("poll at most every {interval} seconds"),
            ))
        }
        Poll::ExpiredToken => Err(oauth("expired_token", "the device code has expired")),
        Poll::AccessDenied => Err(oauth("access_denied", "the citizen denied the request")),
        Poll::Spent => Err(oauth("invalid_grant", "the device code was already used")),
        Poll::Approved => {
            if !svc.store.spend_device_code(&hash)? {
                return Err(oauth("invalid_grant", "the device code was already used"));
            }
            issue(svc, client, &row, jkt)
        }
    }
}

fn issue(
    svc: &Services,
    client: &Client,
    row: &DeviceCodeRow,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let corrupt = || TokenError::Infra(Infra::Store(StoreError::Corrupt("device code".into())));
    let now = svc.now();
    let grant = GrantRow {
        id: keys::random_token(16),
        code_hash: None,
        client_id: client.client_id.clone(),
        sub: row.sub.clone().ok_or_else(corrupt)?,
        sid: row.sid.clone(),
        scope: row.scope.clone(),
        claims: None,
        nonce: None,
        redirect_uri: String::new(),
        code_challenge: None,
        auth_time: row.auth_time.ok_or_else(corrupt)?,
        acr: row.acr.clone().ok_or_else(corrupt)?,
        amr: row.amr.clone().unwrap_or_default(),
        created_at: now,
        code_expires_at: now,
        code_used_at: Some(now),
        revoked_at: None,
        dpop_jkt: jkt.filter(|_| client.is_public()).map(str::to_owned),
    };
    svc.store.insert_grant(&grant)?;
    let scopes = ScopeSet::parse(&grant.scope);
    let with_refresh =
        scopes.contains(scope::OFFLINE_ACCESS) && client.allows_grant(GrantType::RefreshToken);
    issue_for_grant(
        svc,
        client,
        &grant,
        &scopes,
        with_refresh,
        None,
        device::GRANT_TYPE,
        jkt,
    )
}

/// A pending authorization for the verification page: the code as typed, if it is live.
pub fn pending(svc: &Services, typed: &str) -> Result<Option<(DeviceCodeRow, Client)>, Infra> {
    let Some(code) = device::normalise(typed) else {
        return Ok(None);
    };
    let Some(row) = svc.store.device_code_by_user_code(&code)? else {
        return Ok(None);
    };
    if row.status != Status::Pending.as_str() || svc.now() >= row.expires_at {
        return Ok(None);
    }
    Ok(super::authorize::load_client(svc, Some(&row.client_id))?.map(|c| (row, c)))
}

/// What the government app shows before the citizen answers a kiosk's code (RFC 8628 5.4: the
/// citizen must see who asks and for what, or a code posted by a phisher gets approved blind).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Description {
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub expires_at: i64,
}

pub fn describe(svc: &Services, typed: &str) -> Result<Option<Description>, Infra> {
    Ok(pending(svc, typed)?.map(|(row, client)| Description {
        client_id: client.client_id,
        client_name: client.name,
        scopes: row
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        expires_at: row.expires_at,
    }))
}

/// `verification_uri_complete` of a pending code as a QR code (SVG), for kiosks that do not
/// draw it themselves.
pub fn qr_image(svc: &Services, typed: &str) -> Result<Option<String>, Infra> {
    Ok(pending(svc, typed)?.and_then(|(row, _)| {
        let shown = device::display(&row.user_code);
        super::qr::svg(&svc.config.endpoint(&format!("/device?user_code={shown}")))
    }))
}

/// Who is guessing: the address, and the citizen when one is logged in (an app's calls may come
/// from many addresses, one citizen's account stays the same).
#[derive(Debug, Clone, Copy)]
pub struct Guesser<'a> {
    pub client_ip: &'a str,
    pub sub: Option<&'a str>,
}

impl Guesser<'_> {
    fn keys(&self) -> Vec<String> {
        let mut keys = vec![format!("device:{}", self.client_ip)];
        if let Some(sub) = self.sub {
            keys.push(format!("device:sub:{sub}"));
        }
        keys
    }
}

/// Whether the guesser has typed wrong codes too often to try another now (a read).
pub fn guessing_locked(svc: &Services, who: Guesser<'_>) -> Result<bool, Infra> {
    let now = svc.now();
    for key in who.keys() {
        if throttle::PER_IP.is_locked(&svc.store.throttle_counter(&key)?, now) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Counts a wrong user code against the guesser.
pub fn count_wrong_guess(svc: &Services, who: Guesser<'_>) -> Result<(), Infra> {
    let now = svc.now();
    let owned = who.keys();
    let keys: Vec<&str> = owned.iter().map(String::as_str).collect();
    svc.store.update_throttle_counters(&keys, |_, c| {
        Some(if throttle::PER_IP.is_locked(&c, now) {
            c
        } else {
            throttle::PER_IP.record_failure(c, now)
        })
    })?;
    Ok(())
}

/// What a typed code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed<T> {
    Found(T),
    /// Wrong, expired or already answered; counted against the guesser.
    Unknown,
    /// Too many wrong codes: not even looked up.
    Throttled,
}

/// Looks a typed code up for `who`, counting a miss: every way to test a code is throttled alike
/// (20 letters, 8 of them, are too few to leave guessing free).
pub fn guarded<T>(
    svc: &Services,
    who: Guesser<'_>,
    attempt: impl FnOnce(&Services) -> Result<Option<T>, Infra>,
) -> Result<Typed<T>, Infra> {
    if guessing_locked(svc, who)? {
        return Ok(Typed::Throttled);
    }
    Ok(match attempt(svc)? {
        Some(found) => Typed::Found(found),
        None => {
            count_wrong_guess(svc, who)?;
            Typed::Unknown
        }
    })
}

/// The citizen's answer on the verification page (or in the government app).
pub fn decide(
    svc: &Services,
    user_code: &str,
    approver: &Approval<'_>,
    allow: bool,
) -> Result<bool, Infra> {
    let Some(code) = device::normalise(user_code) else {
        return Ok(false);
    };
    let now = svc.now();
    let decided = svc
        .store
        .decide_device_code(&code, allow.then_some(approver), now)?;
    if decided {
        let client_id = svc
            .store
            .device_code_by_user_code(&code)?
            .map(|r| r.client_id);
        svc.audit.append(AuditEvent::new(
            if allow {
                "device.approved"
            } else {
                "device.denied"
            },
            approver.sub,
            client_id.as_deref(),
            serde_json::json!({ "sid": approver.sid }),
        ))?;
    }
    Ok(decided)
}
