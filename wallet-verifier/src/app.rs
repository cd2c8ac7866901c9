//! The government app talking to the provider: one login (code flow with PKCE through the
//! provider's own pages, as the app's embedded browser would), DPoP-bound tokens, and calls of
//! the app API with a fresh proof each time.
use crate::dpop;
use crate::state::WalletState;
use base64::Engine;
use reqwest::header::LOCATION;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot reach the provider: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the provider answered unexpectedly: {0}")]
    Protocol(String),
    #[error("login refused: {0}")]
    Refused(String),
    #[error("device key: {0}")]
    Key(#[from] keys::KeyError),
}

fn protocol(what: impl Into<String>) -> AppError {
    AppError::Protocol(what.into())
}

fn client() -> Result<reqwest::Client, AppError> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

fn absolute(issuer: &str, location: &str) -> String {
    if location.starts_with('/') {
        format!("{issuer}{location}")
    } else {
        location.to_owned()
    }
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The value of a hidden form field in one of the provider's pages.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// What a login needs to know.
#[derive(Debug)]
pub struct LoginInput<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub id_number: &'a str,
    pub password: &'a str,
}

/// Logs the citizen in and binds the tokens to a new device key.
pub async fn login(input: &LoginInput<'_>, kek: &keys::Kek) -> Result<WalletState, AppError> {
    let http = client()?;
    let issuer = input.issuer.trim_end_matches('/');
    let verifier = keys::random_token(32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let state = keys::random_token(16);
    let mut auth =
        url::Url::parse(&format!("{issuer}/authorize")).map_err(|e| protocol(e.to_string()))?;
    auth.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", input.client_id)
        .append_pair("redirect_uri", input.redirect_uri)
        .append_pair("scope", "openid profile offline_access gov_app")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let resp = http.get(auth.as_str()).send().await?;
    let login_path = location(&resp).ok_or_else(|| protocol("no login page"))?;
    let page = http
        .get(absolute(issuer, &login_path))
        .send()
        .await?
        .text()
        .await?;
    let form = [
        (
            "csrf",
            hidden(&page, "csrf").ok_or_else(|| protocol("no CSRF token"))?,
        ),
        ("req", hidden(&page, "req").unwrap_or_default()),
        ("username", input.id_number.to_owned()),
        ("password", input.password.to_owned()),
    ];
    let resp = http
        .post(format!("{issuer}/login"))
        .form(&form)
        .send()
        .await?;
    let mut next = match location(&resp) {
        Some(l) => l,
        None => return Err(AppError::Refused("wrong ID number or password".into())),
    };
    // Follow the provider's own redirects (resume, consent) until it sends us to the app.
    for _ in 0..5 {
        if next.starts_with(input.redirect_uri) {
            break;
        }
        let resp = http.get(absolute(issuer, &next)).send().await?;
        if let Some(l) = location(&resp) {
            next = l;
            continue;
        }
        let page = resp.text().await?;
        let form = [
            (
                "csrf",
                hidden(&page, "csrf").ok_or_else(|| protocol("no consent form"))?,
            ),
            ("req", hidden(&page, "req").unwrap_or_default()),
            ("decision", "allow".to_owned()),
        ];
        let resp = http
            .post(format!("{issuer}/consent"))
            .form(&form)
            .send()
            .await?;
        next = location(&resp).ok_or_else(|| protocol("consent went nowhere"))?;
    }
    let back = url::Url::parse(&next).map_err(|e| protocol(e.to_string()))?;
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    if query.get("state") != Some(&state) || query.get("iss").map(String::as_str) != Some(issuer) {
        return Err(protocol(
            "the answer does not belong to this login (state or iss)",
        ));
    }
    let code = query
        .get("code")
        .ok_or_else(|| AppError::Refused(query.get("error").cloned().unwrap_or_default()))?;
    let key = keys::SigningKey::generate(keys::Alg::ES256)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", input.redirect_uri),
        ("client_id", input.client_id),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens = token_request(&http, issuer, &key, &form).await?;
    Ok(WalletState {
        issuer: issuer.to_owned(),
        client_id: input.client_id.to_owned(),
        device_key: key.seal(kek),
        access_token: text(&tokens, "access_token")?,
        refresh_token: tokens["refresh_token"].as_str().map(str::to_owned),
    })
}

fn text(v: &Value, key: &str) -> Result<String, AppError> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| protocol(format!("no {key} in {v}")))
}

/// A token request with a DPoP proof, retried once with the server's nonce.
async fn token_request(
    http: &reqwest::Client,
    issuer: &str,
    key: &keys::SigningKey,
    form: &[(&str, &str)],
) -> Result<Value, AppError> {
    let url = format!("{issuer}/token");
    let mut nonce: Option<String> = None;
    for _ in 0..2 {
        let proof = dpop::proof(key, "POST", &url, dpop::now(), nonce.as_deref(), None)?;
        let resp = http
            .post(&url)
            .header("DPoP", proof)
            .form(form)
            .send()
            .await?;
        let fresh = resp
            .headers()
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = resp.status();
        let body: Value = resp.json().await?;
        if status.is_success() {
            return Ok(body);
        }
        if body["error"] == "use_dpop_nonce" && fresh.is_some() {
            nonce = fresh;
            continue;
        }
        return Err(AppError::Refused(body.to_string()));
    }
    Err(protocol("the server kept asking for a new nonce"))
}

/// A call of the app API; refreshes the tokens once if the access token has expired.
/// Returns the status, the JSON answer, and whether the tokens changed (save the state then).
pub async fn call(
    state: &mut WalletState,
    key: &keys::SigningKey,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value, bool), AppError> {
    let http = client()?;
    let url = format!("{}{path}", state.issuer);
    let mut refreshed = false;
    loop {
        let proof = dpop::proof(
            key,
            method.as_str(),
            &url,
            dpop::now(),
            None,
            Some(&state.access_token),
        )?;
        let mut req = http
            .request(method.clone(), &url)
            .header("Authorization", format!("DPoP {}", state.access_token))
            .header("DPoP", proof);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        let expired = status == 401 && answer["error"] == "invalid_token";
        match (&state.refresh_token, expired && !refreshed) {
            (Some(refresh), true) => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", state.client_id.as_str()),
                ];
                let tokens = token_request(&http, &state.issuer, key, &form).await?;
                state.access_token = text(&tokens, "access_token")?;
                state.refresh_token = tokens["refresh_token"].as_str().map(str::to_owned);
                refreshed = true;
            }
            _ => return Ok((status, answer, refreshed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_fields_are_read_from_the_providers_pages() {
        let page = r#"<form><input type="hidden" name="csrf" value="abc-_1"><input type="hidden" name="req" value=""></form>"#;
        assert_eq!(hidden(page, "csrf").as_deref(), Some("abc-_1"));
        assert_eq!(hidden(page, "req").as_deref(), Some(""));
        assert_eq!(hidden(page, "next"), None);
    }

    #[test]
    fn relative_redirects_stay_on_the_issuer() {
        assert_eq!(
            absolute("https://id.gov.cn", "/login?req=1"),
            "https://id.gov.cn/login?req=1"
        );
        assert_eq!(
            absolute("https://id.gov.cn", "http://127.0.0.1/cb?code=1"),
            "http://127.0.0.1/cb?code=1"
        );
    }
}
