//! DPoP proof rules (RFC 9449 4.3) for a proof whose signature is already verified: the method
//! and URL it was made for, freshness, the server nonce, and the access token it goes with.
use serde_json::{Map, Value};

/// How old a proof may be (its `iat`), and how far in the future (clock skew).
pub const MAX_AGE_SECS: i64 = 300;
pub const FUTURE_LEEWAY_SECS: i64 = 60;
const MAX_JTI_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopError {
    /// The proof is missing, malformed or does not fit this request (`invalid_dpop_proof`).
    Invalid(&'static str),
    /// The server's nonce is missing or stale: the client retries with `DPoP-Nonce`
    /// (`use_dpop_nonce`).
    UseNonce,
}

/// What the request the proof must fit looks like.
pub struct Expected<'a> {
    pub method: &'a str,
    /// The request URL as the client sent it (query and fragment are ignored).
    pub url: &'a str,
    pub now: i64,
    /// The access token presented with the proof (resource requests): `ath` must hash it.
    pub access_token: Option<&'a str>,
    /// `Some(check)`: a nonce is required and must pass `check`.
    pub nonce: Option<&'a dyn Fn(&str) -> bool>,
}

impl std::fmt::Debug for Expected<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expected")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("nonce_required", &self.nonce.is_some())
            .finish_non_exhaustive()
    }
}

/// A proof that fits: its `jti` (for replay detection) and `iat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub jti: String,
    pub iat: i64,
}

pub fn check(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<Fitted, DpopError> {
    let jti = match claims.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() && j.len() <= MAX_JTI_LEN => j.to_owned(),
        _ => return Err(DpopError::Invalid("jti missing or too long")),
    };
    // HTTP methods are case-sensitive (RFC 9110 9.1).
    if claims.get("htm").and_then(Value::as_str) != Some(expected.method) {
        return Err(DpopError::Invalid("htm does not match the request method"));
    }
    let htu = claims.get("htu").and_then(Value::as_str).unwrap_or("");
    if !same_target(htu, expected.url) {
        return Err(DpopError::Invalid("htu does not match the request URL"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(DpopError::Invalid("iat missing"))?;
    if iat > expected.now + FUTURE_LEEWAY_SECS || iat < expected.now - MAX_AGE_SECS {
        return Err(DpopError::Invalid("iat is too old or in the future"));
    }
    if let Some(token) = expected.access_token {
        let ath = claims.get("ath").and_then(Value::as_str).unwrap_or("");
        if !keys::constant_time_eq(
            ath.as_bytes(),
            keys::sha256_b64(token.as_bytes()).as_bytes(),
        ) {
            return Err(DpopError::Invalid("ath does not match the access token"));
        }
    }
    if let Some(nonce_ok) = expected.nonce {
        match claims.get("nonce").and_then(Value::as_str) {
            Some(n) if nonce_ok(n) => {}
            _ => return Err(DpopError::UseNonce),
        }
    }
    Ok(Fitted { jti, iat })
}

/// `htu` names the request's URL, ignoring query and fragment, after normalising scheme, host
/// and default port (RFC 9449 4.3 step 9, RFC 3986 6.2.2–6.2.3).
fn same_target(htu: &str, request_url: &str) -> bool {
    let strip = |s: &str| {
        url::Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    match (strip(htu), strip(request_url)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://id.gov.cn/token";

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            method: "POST",
            url: URL,
            now,
            access_token: None,
            nonce: None,
        }
    }

    fn good() -> Value {
        json!({ "jti": "j-1", "htm": "POST", "htu": URL, "iat": 1000 })
    }

    #[test]
    fn a_fitting_proof_passes() {
        let fitted = check(&claims(good()), &expected(1000)).expect("fits");
        assert_eq!(
            fitted,
            Fitted {
                jti: "j-1".into(),
                iat: 1000
            }
        );
        // Query and fragment are ignored; scheme and host case and the default port normalised.
        let mut v = good();
        v["htu"] = json!("HTTPS://ID.gov.cn:443/token?x=1#f");
        assert!(check(&claims(v), &expected(1000)).is_ok());
    }

    #[test]
    fn method_url_time_and_jti_must_fit() {
        let cases = [
            ("htm", json!("post")),
            ("htm", json!("GET")),
            ("htu", json!("https://id.gov.cn/token/")),
            ("htu", json!("https://evil.cn/token")),
            ("htu", json!("http://id.gov.cn/token")),
            ("htu", json!("not a url")),
            ("iat", json!(1000 - MAX_AGE_SECS - 1)),
            ("iat", json!(1000 + FUTURE_LEEWAY_SECS + 1)),
            ("iat", json!("1000")),
            ("jti", json!("")),
            ("jti", json!("x".repeat(257))),
        ];
        for (field, value) in cases {
            let mut v = good();
            v[field] = value.clone();
            assert!(
                matches!(
                    check(&claims(v), &expected(1000)),
                    Err(DpopError::Invalid(_))
                ),
                "{field} = {value}"
            );
        }
        for field in ["jti", "htm", "htu", "iat"] {
            let mut v = good();
            v.as_object_mut().expect("object").remove(field);
            assert!(
                check(&claims(v), &expected(1000)).is_err(),
                "without {field}"
            );
        }
    }

    #[test]
    fn a_required_nonce_must_be_current() {
        let current = |n: &str| n == "n-now";
        let mut e = expected(1000);
        e.nonce = Some(&current);
        assert_eq!(check(&claims(good()), &e), Err(DpopError::UseNonce));
        let mut v = good();
        v["nonce"] = json!("n-old");
        assert_eq!(check(&claims(v.clone()), &e), Err(DpopError::UseNonce));
        v["nonce"] = json!("n-now");
        assert!(check(&claims(v), &e).is_ok());
    }

    #[test]
    fn a_resource_proof_hashes_its_access_token() {
        let mut e = expected(1000);
        e.access_token = Some("token-a");
        assert!(check(&claims(good()), &e).is_err(), "ath missing");
        let mut v = good();
        v["ath"] = json!(keys::sha256_b64(b"token-b"));
        assert!(
            check(&claims(v.clone()), &e).is_err(),
            "ath of another token"
        );
        v["ath"] = json!(keys::sha256_b64(b"token-a"));
        assert!(check(&claims(v), &e).is_ok());
    }
}
