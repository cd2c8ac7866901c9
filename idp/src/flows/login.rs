//! Password login, throttled per account and per client address. An unknown account and a
//! wrong password get the same answer after the same work.
use super::{sessions, users, Infra};
use crate::domain::acr::ACR_PASSWORD;
use crate::domain::audit::AuditEvent;
use crate::domain::id_number::{IdNumber, IdNumberError};
use crate::domain::qr::coarse_address;
use crate::domain::{password, throttle};
use crate::services::Services;
use crate::store;

#[derive(Debug)]
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub client_ip: &'a str,
    /// The parked authorization request this login serves, if any.
    pub request_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    /// The ID number itself is malformed: a typing error, told precisely.
    BadIdNumber(IdNumberError),
    /// Wrong password or no such account: deliberately the same.
    WrongCredentials,
    Throttled,
}

#[derive(Debug)]
pub struct LoggedIn {
    pub session_cookie: String,
    pub sub: String,
}

pub fn with_password(
    svc: &Services,
    attempt: &LoginAttempt<'_>,
) -> Result<Result<LoggedIn, LoginFailure>, Infra> {
    let username = attempt.username.trim();
    if IdNumber::looks_like(username) || username.len() == 18 {
        if let Err(e) = IdNumber::parse(username) {
            return Ok(Err(LoginFailure::BadIdNumber(e)));
        }
    }
    let now = svc.now();
    let pseudonym = users::pseudonym(svc, username);
    // One counter per account, whichever of its login names (ID number, phone) is typed; a name
    // without an account gets a counter of its own, so both cases behave alike.
    let user = users::find_by_login_name(svc, username)?;
    let acct_key = match &user {
        Some(u) => format!("acct:{}", u.sub),
        None => format!("acct:{pseudonym}"),
    };
    let ip_key = format!("ip:{}", attempt.client_ip);
    // Each attempt is counted as a failure *before* the password is checked, in a write
    // transaction: parallel guesses cannot all slip past the check. A success takes its count
    // back below.
    let policies = [throttle::PER_ACCOUNT, throttle::PER_IP];
    let mut locked = [false; 2];
    svc.store
        .update_throttle_counters(&[&acct_key, &ip_key], |i, c| {
            locked[i] = policies[i].is_locked(&c, now);
            Some(if locked[i] {
                c
            } else {
                policies[i].record_failure(c, now)
            })
        })?;
    let [acct_locked, ip_locked] = locked;
    if acct_locked || ip_locked {
        svc.audit.append(AuditEvent::new(
            "login.throttled",
            &pseudonym,
            None,
            serde_json::json!({ "method": "pwd" }),
        ))?;
        return Ok(Err(LoginFailure::Throttled));
    }
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let typed = zeroize::Zeroizing::new(attempt.password.to_owned());
    let ok = svc
        .passwords
        .run(move || password::verify(&typed, stored.as_deref()))
        .unwrap_or(false);
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => {
            svc.audit.append(AuditEvent::new(
                "login.failure",
                &pseudonym,
                None,
                serde_json::json!({ "method": "pwd" }),
            ))?;
            return Ok(Err(LoginFailure::WrongCredentials));
        }
    };
    // The app this login serves, for the citizen's login history.
    let app = match attempt.request_id {
        Some(id) => svc.store.auth_request(id, now)?.map(|r| r.client_id),
        None => None,
    };
    // The account's counter goes; the address keeps its other failures. Settled in the same
    // commit as the session, so a login that fails to open one is still counted.
    let forgive = store::throttle::settling(vec![acct_key, ip_key], |i, c| {
        (i == 1).then(|| throttle::PER_IP.forgive_one(c))
    });
    let login = sessions::Login {
        sub: &user.sub,
        acr: ACR_PASSWORD,
        amr: &["pwd"],
        auth_time: svc.now(),
        request_id: attempt.request_id,
    };
    let opened = sessions::open(
        svc,
        &login,
        |_| vec![forgive],
        |session| {
            AuditEvent::new(
                "login.success",
                &user.sub,
                app.as_deref(),
                serde_json::json!({ "method": "pwd", "sid": session.sid, "net": coarse_address(attempt.client_ip) }),
            )
        },
    )?;
    Ok(Ok(LoggedIn {
        session_cookie: opened.cookie,
        sub: user.sub,
    }))
}
