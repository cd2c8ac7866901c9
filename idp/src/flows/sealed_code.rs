//! Authorization codes that carry their authorization, sealed (AES-256-GCM) under a key derived
//! from the KEK, so issuing a code writes nothing. The grant row is written once, when the code
//! is redeemed; its unique `code_hash` keeps the code single-use, and the same transaction
//! checks that the session is still open and the consent not withdrawn (see
//! `Store::redeem_sealed_code`).
//!
//! The seal is bound to the client the code was issued to (associated data), so another
//! client's credentials cannot even open it.
use super::claims;
use crate::store::grants::GrantRow;
use crate::store::sessions::SessionRow;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use keys::Kek;
use serde::{Deserialize, Serialize};

/// Longer than any code this provider issues (the redirect URI and nonce are bounded); a
/// longer value is refused before it is decoded.
const MAX_CODE_LEN: usize = 4096;
/// Changes whenever the sealed layout does: a code of another layout does not open.
const LAYOUT: &[u8] = b"idp-authorization-code-v1\0";

/// What a code authorizes. Short field names keep the code short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    #[serde(rename = "u")]
    pub sub: String,
    #[serde(rename = "s")]
    pub sid: String,
    #[serde(rename = "sc")]
    pub scope: String,
    /// The claims asked for by name in the ID token (the only part of the `claims` parameter
    /// the token endpoint reads), as a `claims` parameter.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<String>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(rename = "r")]
    pub redirect_uri: String,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(rename = "t")]
    pub auth_time: i64,
    #[serde(rename = "a")]
    pub acr: String,
    #[serde(rename = "m")]
    pub amr: String,
    #[serde(rename = "i")]
    pub issued_at: i64,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

/// The parts of an authorization request a code carries.
#[derive(Debug)]
pub struct Request<'a> {
    pub scope: &'a str,
    pub claims: Option<&'a serde_json::Value>,
    pub nonce: Option<&'a str>,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
}

impl CodeGrant {
    pub fn new(session: &SessionRow, request: &Request<'_>, now: i64, ttl: i64) -> Self {
        Self {
            sub: session.sub.clone(),
            sid: session.sid.clone(),
            scope: request.scope.to_owned(),
            claims: request.claims.and_then(claims::id_token_request),
            nonce: request.nonce.map(str::to_owned),
            redirect_uri: request.redirect_uri.to_owned(),
            code_challenge: request.code_challenge.map(str::to_owned),
            auth_time: session.auth_time,
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            issued_at: now,
            expires_at: now + ttl,
        }
    }

    /// The code: this grant sealed for `client_id`, base64url.
    pub fn seal(&self, key: &Kek, client_id: &str) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(key.seal_salted(&json, &associated_data(client_id)))
    }

    /// The grant a code carries, if this provider sealed it for `client_id` (expired or not).
    pub fn open(key: &Kek, client_id: &str, code: &str) -> Option<Self> {
        if code.len() > MAX_CODE_LEN {
            return None;
        }
        let sealed = URL_SAFE_NO_PAD.decode(code).ok()?;
        let json = key.open_salted(&sealed, &associated_data(client_id)).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The grant row written when the code is redeemed (`code_used_at` = `now`).
    pub fn into_row(
        self,
        client_id: &str,
        code_hash: String,
        now: i64,
        dpop_jkt: Option<&str>,
    ) -> GrantRow {
        GrantRow {
            id: keys::random_token(16),
            code_hash: Some(code_hash),
            client_id: client_id.to_owned(),
            sub: self.sub,
            sid: Some(self.sid),
            scope: self.scope,
            claims: self.claims,
            nonce: self.nonce,
            redirect_uri: self.redirect_uri,
            code_challenge: self.code_challenge,
            auth_time: self.auth_time,
            acr: self.acr,
            amr: self.amr,
            created_at: self.issued_at,
            code_expires_at: self.expires_at,
            code_used_at: Some(now),
            revoked_at: None,
            dpop_jkt: dpop_jkt.map(str::to_owned),
        }
    }
}

fn associated_data(client_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(LAYOUT.len() + client_id.len());
    aad.extend_from_slice(LAYOUT);
    aad.extend_from_slice(client_id.as_bytes());
    aad
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn session() -> SessionRow {
        SessionRow {
            id_hash: "h".into(),
            sid: "sid-1".into(),
            sub: "citizen-1".into(),
            auth_time: 1_000,
            acr: "urn:example:acr:password".into(),
            amr: "pwd".into(),
            created_at: 1_000,
            expires_at: 9_000,
            ended_at: None,
        }
    }

    fn grant() -> CodeGrant {
        let claims = serde_json::json!({
            "id_token": { "name": null, "not_a_claim": { "essential": true } },
            "userinfo": { "email": null }
        });
        CodeGrant::new(
            &session(),
            &Request {
                scope: "openid profile",
                claims: Some(&claims),
                nonce: Some("n-0S6"),
                redirect_uri: "https://app.example/cb",
                code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            },
            2_000,
            60,
        )
    }

    #[test]
    fn a_code_opens_for_its_own_client_only_and_carries_the_grant() {
        let key = Kek::generate();
        let code = grant().seal(&key, "app-1");
        let opened = CodeGrant::open(&key, "app-1", &code).unwrap();
        assert_eq!(opened, grant());
        assert_eq!(opened.expires_at, 2_060);
        assert_eq!(
            opened.claims.as_deref(),
            Some(r#"{"id_token":{"name":null}}"#)
        );
        assert!(CodeGrant::open(&key, "app-2", &code).is_none());
        assert!(CodeGrant::open(&Kek::generate(), "app-1", &code).is_none());
        // Fresh every time, even for the same grant.
        assert_ne!(grant().seal(&key, "app-1"), code);
        assert!(code.len() < 600, "{} characters", code.len());
    }

    #[test]
    fn tampered_truncated_or_oversized_codes_do_not_open() {
        let key = Kek::generate();
        let code = grant().seal(&key, "app-1");
        let mut bytes = URL_SAFE_NO_PAD.decode(&code).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(CodeGrant::open(&key, "app-1", &URL_SAFE_NO_PAD.encode(&bytes)).is_none());
        assert!(CodeGrant::open(&key, "app-1", &code[..code.len() - 4]).is_none());
        assert!(CodeGrant::open(&key, "app-1", "not base64 !").is_none());
        assert!(CodeGrant::open(&key, "app-1", "").is_none());
        assert!(CodeGrant::open(&key, "app-1", &"A".repeat(MAX_CODE_LEN + 1)).is_none());
    }

    #[test]
    fn the_row_written_at_redemption_is_spent_and_bound_as_asked() {
        let row = grant().into_row("app-1", "hash".into(), 2_010, Some("jkt"));
        assert_eq!(row.client_id, "app-1");
        assert_eq!(row.sid.as_deref(), Some("sid-1"));
        assert_eq!(row.code_used_at, Some(2_010));
        assert_eq!(row.created_at, 2_000);
        assert_eq!(row.code_expires_at, 2_060);
        assert_eq!(row.revoked_at, None);
        assert_eq!(row.dpop_jkt.as_deref(), Some("jkt"));
    }
}
