//! QR-code login: the login page shows a code; the citizen's government app (DPoP-bound
//! token) scans it, sees who asks, and approves or denies; only the browser that showed the
//! code (it holds the binding cookie) collects the session. Everything is in `qr_logins`.
use super::{sessions, Infra};
use crate::domain::audit::AuditEvent;
use crate::domain::qr::{self, Status};
use crate::services::Services;
use crate::store::qr_logins::{QrAnswer, QrLoginRow};
use crate::store::{self, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrError {
    /// Unknown or already finished code.
    UnknownCode,
    /// The browser asking is not the one that showed the code.
    NotYourCode,
    /// The app's answer does not fit the code's state (e.g. approve before scan, or expired).
    WrongState,
    /// The parked authorization request is gone.
    RequestExpired,
}

impl QrError {
    pub fn code(self) -> &'static str {
        match self {
            QrError::UnknownCode => "unknown_code",
            QrError::NotYourCode => "not_your_code",
            QrError::WrongState => "wrong_state",
            QrError::RequestExpired => "request_expired",
        }
    }
}

pub type QrResult<T> = Result<Result<T, QrError>, Infra>;

/// A code just drawn: the id (in the QR), the binding cookie value (for this browser only)
/// and the payload to encode.
#[derive(Debug)]
pub struct Started {
    pub id: String,
    pub binding: String,
    pub payload: String,
    pub expires_in: i64,
}

/// What the browser hears; `Collected` carries its new session.
#[derive(Debug)]
pub enum BrowserView {
    Status(Status),
    Collected {
        session_cookie: String,
        redirect_to: String,
    },
}

/// What the phone is shown before it answers.
#[derive(Debug, serde::Serialize)]
pub struct Description {
    pub client_name: String,
    pub browser: String,
    pub address: String,
    pub requested_at: i64,
    pub expires_at: i64,
}

fn hash(value: &str) -> String {
    keys::sha256_b64(value.as_bytes())
}

/// The login id from a scanned payload (`{issuer}/qr/{id}`) or the bare id.
pub fn id_from_payload<'a>(svc: &Services, payload: &'a str) -> &'a str {
    let prefix = svc.config.endpoint("/qr/");
    payload.strip_prefix(prefix.as_str()).unwrap_or(payload)
}

/// Draws a new code. `binding` is the browser's existing binding cookie value, if it has one
/// (a new one is made otherwise and returned for the cookie).
pub fn start(
    svc: &Services,
    request_id: Option<&str>,
    binding: Option<&str>,
    client_ip: &str,
    user_agent: &str,
) -> QrResult<Started> {
    let now = svc.now();
    if let Some(id) = request_id {
        if id.len() > 64 || svc.store.auth_request(id, now)?.is_none() {
            return Ok(Err(QrError::RequestExpired));
        }
    }
    let id = keys::random_token(24);
    let binding = binding
        .map(str::to_owned)
        .unwrap_or_else(|| keys::random_token(24));
    svc.store.insert_qr_login(&QrLoginRow {
        id_hash: hash(&id),
        binding_hash: hash(&binding),
        request_id: request_id.map(str::to_owned),
        status: Status::Waiting.as_str().into(),
        sub: None,
        acr: None,
        amr: None,
        client_ip: client_ip.to_owned(),
        browser: qr::browser_summary(user_agent),
        created_at: now,
        updated_at: now,
        expires_at: now + qr::LIFETIME_SECS,
    })?;
    Ok(Ok(Started {
        payload: svc.config.endpoint(&format!("/qr/{id}")),
        id,
        binding,
        expires_in: qr::LIFETIME_SECS,
    }))
}

/// Any text as a QR code in SVG (medium error correction, quiet zone, at least 220 px).
pub fn svg(text: &str) -> Option<String> {
    qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .ok()
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build()
        })
}

/// The QR code of a live login, as SVG.
pub fn image(svc: &Services, id: &str) -> Result<Option<String>, Infra> {
    let Some(row) = live_row(svc, id)? else {
        return Ok(None);
    };
    if status_of(svc, &row) != Status::Waiting {
        return Ok(None);
    }
    Ok(svg(&svc.config.endpoint(&format!("/qr/{id}"))))
}

fn live_row(svc: &Services, id: &str) -> Result<Option<QrLoginRow>, Infra> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    Ok(svc.store.qr_login(&hash(id))?)
}

fn status_of(svc: &Services, row: &QrLoginRow) -> Status {
    let stored = Status::parse(&row.status).unwrap_or(Status::Expired);
    Status::at(stored, svc.now(), row.expires_at)
}

/// The browser's view of its code; an approved code is collected here, once, as a session.
pub fn browser_view(svc: &Services, id: &str, binding: Option<&str>) -> QrResult<BrowserView> {
    let Some(row) = live_row(svc, id)? else {
        return Ok(Err(QrError::UnknownCode));
    };
    let ours = binding
        .is_some_and(|b| keys::constant_time_eq(hash(b).as_bytes(), row.binding_hash.as_bytes()));
    if !ours {
        return Ok(Err(QrError::NotYourCode));
    }
    let status = status_of(svc, &row);
    if status != Status::Approved {
        return Ok(Ok(BrowserView::Status(status)));
    }
    let corrupt = || Infra::Store(StoreError::Corrupt("qr login".into()));
    let sub = row.sub.clone().ok_or_else(corrupt)?;
    let acr = row.acr.clone().ok_or_else(corrupt)?;
    let amr = row.amr.clone().unwrap_or_default();
    let amr: Vec<&str> = amr.split(' ').filter(|s| !s.is_empty()).collect();
    let now = svc.now();
    let login = sessions::Login {
        sub: &sub,
        acr: &acr,
        amr: &amr,
        auth_time: now,
        request_id: row.request_id.as_deref(),
    };
    // One collection only, even if two tabs of this browser ask at once: the code is marked
    // collected in the same commit as the session it gives.
    let collect = store::qr_logins::collecting(row.id_hash.clone(), now);
    let opened = sessions::open_claiming(
        svc,
        collect,
        &login,
        |_| Vec::new(),
        |session| {
            AuditEvent::new(
                "login.success",
                &sub,
                None,
                serde_json::json!({ "method": "qr", "amr": amr, "sid": session.sid,
                "net": qr::coarse_address(&row.client_ip) }),
            )
        },
    )?;
    let Some(opened) = opened else {
        return Ok(Ok(BrowserView::Status(Status::Done)));
    };
    Ok(Ok(BrowserView::Collected {
        session_cookie: opened.cookie,
        redirect_to: opened.redirect_to,
    }))
}

/// The phone scanned the code: it is told who asks, and the page shows 已扫码.
pub fn scan(svc: &Services, payload: &str, scanner_sub: &str) -> QrResult<Description> {
    let id = id_from_payload(svc, payload);
    let Some(row) = live_row(svc, id)? else {
        return Ok(Err(QrError::UnknownCode));
    };
    // Scanning again (the same citizen, before answering) only shows the same description; a
    // second phone cannot take over a scanned code (someone who saw it over a shoulder).
    if !svc
        .store
        .scan_qr_login(&row.id_hash, scanner_sub, svc.now())?
    {
        return Ok(Err(QrError::WrongState));
    }
    let client_name = match &row.request_id {
        Some(req) => super::authorize::parked(svc, req)?.map(|(_, c)| c.name),
        None => None,
    };
    svc.audit.append(AuditEvent::new(
        "qr.scanned",
        scanner_sub,
        None,
        serde_json::json!({ "browser": row.browser }),
    ))?;
    Ok(Ok(Description {
        client_name: client_name.unwrap_or_else(|| "国家统一身份认证".into()),
        browser: row.browser.clone(),
        address: qr::coarse_address(&row.client_ip),
        requested_at: row.created_at,
        expires_at: row.expires_at,
    }))
}

/// The phone's answer to a scanned code.
pub fn answer(
    svc: &Services,
    payload: &str,
    approver: &QrAnswer<'_>,
    approve: bool,
) -> QrResult<Status> {
    let id = id_from_payload(svc, payload);
    let Some(row) = live_row(svc, id)? else {
        return Ok(Err(QrError::UnknownCode));
    };
    let to = if approve {
        Status::Approved
    } else {
        Status::Denied
    };
    if !svc
        .store
        .answer_qr_login(&row.id_hash, approver, approve, svc.now())?
    {
        return Ok(Err(QrError::WrongState));
    }
    svc.audit.append(AuditEvent::new(
        if approve { "qr.approved" } else { "qr.denied" },
        approver.sub,
        None,
        serde_json::json!({ "browser": row.browser }),
    ))?;
    Ok(Ok(to))
}

/// Wakes the browsers waiting on a code's status: at once for answers taken on this replica,
/// and within half a second (one query for all of them) for answers taken on another.
#[derive(Debug, Default)]
pub struct QrHub {
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
}

impl QrHub {
    pub fn subscribe(&self, id: &str) -> Arc<Notify> {
        let mut map = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(hash(id)).or_default().clone()
    }

    /// Drops the entry when no one else waits on it.
    pub fn unsubscribe(&self, id: &str, notify: Arc<Notify>) {
        let mut map = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        let key = hash(id);
        if Arc::strong_count(&notify) <= 2 {
            map.remove(&key);
        }
    }

    pub fn wake(&self, id_hashes: &[String]) {
        let map = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        for h in id_hashes {
            if let Some(n) = map.get(h) {
                n.notify_waiters();
            }
        }
    }

    pub fn wake_id(&self, id: &str) {
        self.wake(&[hash(id)]);
    }

    pub fn is_idle(&self) -> bool {
        self.waiters.lock().map(|m| m.is_empty()).unwrap_or(false)
    }

    pub fn waiting(&self) -> usize {
        self.waiters.lock().map(|m| m.len()).unwrap_or(0)
    }
}
