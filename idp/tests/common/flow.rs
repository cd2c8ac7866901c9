//! Protocol helpers shared by the integration tests: authorization URLs, PKCE, requests to the
//! token-style endpoints, and reading JWTs without verifying them.
#![allow(dead_code, clippy::unwrap_used)]

use super::browser::{query_of, Browser};
use super::{TestClient, TestServer};
use base64::Engine;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};
use serde_json::Value;

/// An HTTP client that does not follow redirects (each hop is asserted).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A PKCE pair: (code_verifier, S256 code_challenge).
pub fn pkce() -> (String, String) {
    let verifier = keys::random_token(32);
    let challenge = keys::sha256_b64(verifier.as_bytes());
    (verifier, challenge)
}

/// The server's clock reading.
pub fn now(server: &TestServer) -> i64 {
    idp::clock::Clock::now(&*server.clock)
}

/// An authorization URL: response_type=code, client_id, redirect_uri, scope=openid, state=st-1,
/// then `extra` (same name replaces; an empty value removes the parameter).
pub fn authorize_url(server: &TestServer, client: &TestClient, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "st-1"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        match pairs.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = (*v).to_owned(),
            None => pairs.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    pairs.retain(|(_, v)| !v.is_empty());
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    server.url(&format!("/authorize?{q}"))
}

/// Runs the browser through login and consent and returns the code from the redirect.
pub async fn code(
    server: &TestServer,
    browser: &Browser,
    client: &TestClient,
    user: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> String {
    let page = browser
        .authorize(&authorize_url(server, client, extra), user, password)
        .await;
    let loc = page
        .location
        .unwrap_or_else(|| panic!("no redirect: {} {}", page.status, page.body));
    query_of(&loc)
        .get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code in {loc}"))
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
    pub fn str(&self, key: &str) -> String {
        self.json[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {}", self.json))
            .to_owned()
    }
    pub fn www_authenticate(&self) -> Option<String> {
        self.headers
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
    }
}

/// POSTs a form to `path`, with HTTP Basic credentials when `basic` is given.
pub async fn post_form(
    server: &TestServer,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Reply {
    let mut req = http().post(server.url(path)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    reply(req.send().await.unwrap()).await
}

/// POSTs to `path` authenticating as `client` with client_secret_basic.
pub async fn as_client(
    server: &TestServer,
    client: &TestClient,
    path: &str,
    form: &[(&str, &str)],
) -> Reply {
    let secret = client.client_secret.as_deref().unwrap();
    post_form(server, path, Some((&client.client_id, secret)), form).await
}

/// Redeems a code at the token endpoint as `client` (Basic), with `extra` form fields.
pub async fn redeem(
    server: &TestServer,
    client: &TestClient,
    code: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", client.redirect_uri.as_str()),
    ];
    form.extend_from_slice(extra);
    as_client(server, client, "/token", &form).await
}

/// Logs in through the browser and redeems the code: the token response.
pub async fn tokens(
    server: &TestServer,
    browser: &Browser,
    client: &TestClient,
    user: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let code = code(server, browser, client, user, password, extra).await;
    let r = redeem(server, client, &code, &[]).await;
    assert_eq!(r.status, 200, "token response: {}", r.json);
    r
}

/// GET /userinfo with the token as a Bearer header (if any).
pub async fn userinfo(server: &TestServer, token: Option<&str>) -> Reply {
    let mut req = http().get(server.url("/userinfo"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    reply(req.send().await.unwrap()).await
}

/// Header and claims of a compact JWS, without verifying anything.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts.next().unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    let header = next();
    let claims = next();
    (header, claims)
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Logs the browser in on the plain login page (no authorization request).
pub async fn login(browser: &Browser, user: &str, password: &str) -> super::browser::Page {
    let page = browser.get("/login").await;
    assert_eq!(page.status, 200, "{}", page.body);
    browser
        .submit(
            &page,
            "password",
            &[("username", user), ("password", password)],
        )
        .await
}

/// The value a Set-Cookie header of `page` gives to `name`, if any.
pub fn set_cookie(page: &super::browser::Page, name: &str) -> Option<String> {
    page.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// A browser whose requests carry `Accept-Language` and whose jar starts with `cookies`.
pub fn browser_with(base: &str, accept_language: Option<&str>, cookies: &[&str]) -> Browser {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let url: url::Url = base.parse().unwrap();
    for c in cookies {
        jar.add_cookie_str(c, &url);
    }
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(l) = accept_language {
        headers.insert("accept-language", l.parse().unwrap());
    }
    Browser {
        http: reqwest::Client::builder()
            .cookie_provider(jar)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: base.to_owned(),
    }
}
