//! Validating a logout token an upstream sent us (OpenID Connect Back-Channel Logout 1.0, 2.6),
//! after its signature was verified: whose it is, for whom, when, and which session it ends.
use super::tokens::BACKCHANNEL_LOGOUT_EVENT;
use serde_json::{Map, Value};

/// How far `iat` may lie from our clock (the upstream's clock may differ a little).
pub const IAT_WINDOW_SECS: i64 = 300;

/// What a valid logout token asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNotice {
    /// The upstream's session id: this node ends the sessions that one started.
    pub sid: String,
    pub jti: String,
    /// Until when the `jti` must be remembered to refuse a replay.
    pub remember_until: i64,
}

pub fn check(
    claims: &Map<String, Value>,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<LogoutNotice, &'static str> {
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("iss") != Some(issuer) {
        return Err("iss is not the upstream's issuer");
    }
    let for_us = match claims.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(audience)),
        _ => false,
    };
    if !for_us {
        return Err("aud does not name this node");
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or("iat is missing")?;
    if (now - iat).abs() > IAT_WINDOW_SECS {
        return Err("iat is too far from now");
    }
    if let Some(exp) = claims.get("exp") {
        if exp.as_i64().is_none_or(|e| e <= now) {
            return Err("the logout token has expired");
        }
    }
    let is_logout = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|e| e.get(BACKCHANNEL_LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !is_logout {
        return Err("events does not hold the back-channel logout event");
    }
    // A nonce would make it an ID token passed off as a logout token.
    if claims.contains_key("nonce") {
        return Err("a logout token carries no nonce");
    }
    let jti = text("jti").filter(|j| !j.is_empty() && j.len() <= 256);
    let jti = jti.ok_or("jti is missing")?;
    // This node keys federated sessions by the upstream's sid, so it needs one.
    let sid = text("sid").filter(|s| !s.is_empty() && s.len() <= 256);
    let sid = sid.ok_or("sid is missing")?;
    Ok(LogoutNotice {
        sid: sid.to_owned(),
        jti: jti.to_owned(),
        remember_until: iat.max(now) + IAT_WINDOW_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn valid() -> Map<String, Value> {
        json!({
            "iss": "https://hub.example", "aud": ["node-51"], "iat": NOW - 5, "exp": NOW + 115,
            "jti": "j1", "sid": "s1", "sub": "u1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn with(key: &str, value: Option<Value>) -> Map<String, Value> {
        let mut c = valid();
        match value {
            Some(v) => c.insert(key.into(), v),
            None => c.remove(key),
        };
        c
    }

    fn check_now(c: &Map<String, Value>) -> Result<LogoutNotice, &'static str> {
        check(c, "https://hub.example", "node-51", NOW)
    }

    #[test]
    fn a_valid_token_names_the_upstream_session() {
        let notice = check_now(&valid()).expect("a valid token");
        assert_eq!(notice.sid, "s1");
        assert_eq!(notice.jti, "j1");
        assert!(notice.remember_until >= NOW + IAT_WINDOW_SECS);
    }

    #[test]
    fn every_broken_claim_is_refused() {
        let broken = [
            with("iss", Some(json!("https://evil.example"))),
            with("aud", Some(json!("another-node"))),
            with("aud", None),
            with("iat", None),
            with("iat", Some(json!(NOW - IAT_WINDOW_SECS - 1))),
            with("iat", Some(json!(NOW + IAT_WINDOW_SECS + 1))),
            with("exp", Some(json!(NOW))),
            with("exp", Some(json!("later"))),
            with("events", None),
            with("events", Some(json!({ "other": {} }))),
            with("events", Some(json!({ BACKCHANNEL_LOGOUT_EVENT: "yes" }))),
            with("nonce", Some(json!("n"))),
            with("jti", None),
            with("sid", None),
            with("sid", Some(json!(""))),
        ];
        for claims in broken {
            assert!(check_now(&claims).is_err(), "accepted {claims:?}");
        }
    }

    #[test]
    fn a_string_audience_and_no_expiry_are_accepted() {
        let c = with("aud", Some(json!("node-51")));
        let c = {
            let mut c = c;
            c.remove("exp");
            c
        };
        assert!(check_now(&c).is_ok());
    }
}
