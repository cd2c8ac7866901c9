//! The I/O half of verifying a licence: fetching the status list a credential names (cached on
//! disk for its `ttl`, the old copy within a stated grace period when the issuer is unreachable)
//! and the answer a counter shows. The checks themselves are [`crate::sd_jwt::Verifier`]'s.
use crate::sd_jwt::{Expect, Refusal, StatusCheck, StatusListToken, Verifier};
use crate::status_cache::{self, CachedList, Plan};
use serde_json::{json, Value};
use std::path::PathBuf;

/// What an online check needs besides the presentation.
#[derive(Debug, Clone)]
pub struct Online {
    /// Skip the status check (no network): the answer says it was not checked.
    pub offline: bool,
    pub offline_grace_secs: i64,
    pub cache_dir: PathBuf,
}

/// The expected nonce and audience of one presentation.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub nonce: &'a str,
    pub audience: &'a str,
    pub max_age_secs: i64,
    pub now: i64,
}

/// Verifies a presentation, status included: the answer a counter shows.
pub async fn verify(
    verifier: &Verifier,
    presentation: &str,
    asked: Asked<'_>,
    online: &Online,
) -> Result<Value, Refusal> {
    let expect = |status| Expect {
        nonce: asked.nonce,
        audience: asked.audience,
        now: asked.now,
        max_age_secs: asked.max_age_secs,
        status,
    };
    let checked = verifier.verify(presentation, &expect(StatusCheck::Skip))?;
    let status_uri = checked.status.as_ref().map(|st| st.uri.clone());
    let (verified, status) = match status_uri {
        None => (checked, json!("none (the licence carries no status)")),
        Some(_) if online.offline => (checked, json!("not checked (offline)")),
        Some(uri) => {
            let (list, age) = status_list(verifier, &uri, asked.now, online).await?;
            let verified = verifier.verify(presentation, &expect(StatusCheck::List(&list)))?;
            (verified, json!({ "state": "valid", "list_age_secs": age }))
        }
    };
    Ok(json!({
        "valid": true,
        "vct": verified.vct,
        "iss": verified.iss,
        "claims": verified.claims,
        "expires": verified.exp,
        "status": status,
    }))
}

/// The verified status list for `uri`: cached while fresh, fetched otherwise, the old copy
/// within the grace period when the issuer cannot be reached. Also its age in seconds.
async fn status_list(
    verifier: &Verifier,
    uri: &str,
    now: i64,
    online: &Online,
) -> Result<(StatusListToken, i64), Refusal> {
    let file = online
        .cache_dir
        .join(format!("{}.json", keys::sha256_b64(uri.as_bytes())));
    let cached: Option<CachedList> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(|c: &CachedList| c.uri == uri);
    let usable = |c: &CachedList| verifier.verify_status_list_token(&c.token, uri, now).ok();
    if let Some(c) = cached.as_ref() {
        if status_cache::plan(Some(c), now) == Plan::UseCached {
            if let Some(list) = usable(c) {
                return Ok((list, now - c.fetched_at));
            }
        }
    }
    match fetch(uri).await {
        Ok(token) => {
            let list = verifier.verify_status_list_token(&token, uri, now)?;
            // Never step back to an older list than one already seen: a replayed old response
            // (a stale cache, a meddler on the way) would undo a revocation.
            let seen = cached.as_ref().and_then(usable).map(|old| old.iat);
            if seen.is_some_and(|iat| list.iat < iat) {
                return Err(Refusal::StatusUnavailable(
                    "the issuer answered with an older status list than one already seen".into(),
                ));
            }
            let entry = CachedList {
                uri: uri.to_owned(),
                token,
                fetched_at: now,
                ttl: list
                    .ttl
                    .unwrap_or(status_cache::DEFAULT_TTL_SECS)
                    .clamp(1, 86_400),
            };
            // A cache that cannot be written only costs a fetch next time.
            if let Ok(bytes) = serde_json::to_vec(&entry) {
                let _ = std::fs::create_dir_all(&online.cache_dir)
                    .and_then(|()| std::fs::write(&file, bytes));
            }
            Ok((list, 0))
        }
        Err(why) => status_cache::fallback(cached.as_ref(), now, online.offline_grace_secs)
            .and_then(|old| usable(old).map(|list| (list, now - old.fetched_at)))
            .ok_or(Refusal::StatusUnavailable(why)),
    }
}

async fn fetch(uri: &str) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut r = http
        .get(uri)
        .header("accept", "application/statuslist+jwt")
        .send()
        .await
        .map_err(|e| format!("fetching the status list: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("the status list answered {}", r.status()));
    }
    // Read at most what a status list may be, whatever the server says its length is.
    let limit = crate::sd_jwt::MAX_STATUS_LIST_TOKEN_LEN;
    let mut body = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > limit {
            return Err(format!("the status list is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "the status list is not text".to_owned())
}
