//! The government app in tests: a public client registered for DPoP, a device key that signs
//! proofs with the server's (test) clock, and a DPoP-bound token from a code flow with PKCE.
#![allow(dead_code, clippy::unwrap_used)]

use super::browser::{query_of, Browser};
use super::{flow, ClientSpec, TestClient, TestServer};
use idp::domain::client::{AuthMethod, GrantType};
use serde_json::Value;

pub struct Device {
    pub key: keys::SigningKey,
    clock: std::sync::Arc<idp::clock::ManualClock>,
}

impl Device {
    pub fn new(server: &TestServer) -> Self {
        Self {
            key: keys::SigningKey::generate(keys::Alg::ES256).unwrap(),
            clock: server.clock.clone(),
        }
    }

    pub fn jkt(&self) -> String {
        self.key.verifier().thumbprint().to_owned()
    }

    /// A proof as the reference app signs it (`wallet_verifier::dpop`), at the server's time.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        token: Option<&str>,
    ) -> String {
        let now = idp::clock::Clock::now(&*self.clock);
        wallet_verifier::dpop::proof(&self.key, method, url, now, nonce, token).unwrap()
    }
}

/// The app registration: public, PKCE, DPoP-bound tokens, the operator-granted `gov_app` scope.
pub async fn register(server: &TestServer) -> TestClient {
    server
        .client(ClientSpec {
            name: "国家政务服务App".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: ["openid", "profile", "offline_access", "gov_app"]
                .map(String::from)
                .to_vec(),
            dpop: true,
            ..ClientSpec::default()
        })
        .await
}

/// The app logged in as `citizen` on its device: (device, DPoP-bound access token).
pub async fn logged_in(
    server: &TestServer,
    app: &TestClient,
    citizen: &str,
    password: &str,
) -> (Device, String) {
    logged_in_with_scope(server, app, citizen, password, "openid profile gov_app").await
}

/// Any DPoP app logged in as `citizen`, asking for `scope`.
pub async fn logged_in_with_scope(
    server: &TestServer,
    app: &TestClient,
    citizen: &str,
    password: &str,
    scope: &str,
) -> (Device, String) {
    let (verifier, challenge) = flow::pkce();
    let browser = Browser::new(&server.base);
    let page = browser
        .authorize(
            &flow::authorize_url(
                server,
                app,
                &[
                    ("scope", scope),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            ),
            citizen,
            password,
        )
        .await;
    let code = query_of(&page.location.unwrap())["code"].clone();
    let device = Device::new(server);
    let url = server.url("/token");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("client_id", app.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let first = flow::http()
        .post(&url)
        .header("DPoP", device.proof("POST", &url, None, None))
        .form(&form)
        .send()
        .await
        .unwrap();
    let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let tokens: Value = flow::http()
        .post(&url)
        .header("DPoP", device.proof("POST", &url, Some(&nonce), None))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tokens["access_token"]
        .as_str()
        .expect("a DPoP-bound token")
        .to_owned();
    (device, token)
}

/// A call of the app's API on `base` (the server, or another replica of the same issuer):
/// JSON body, DPoP scheme, a fresh proof naming the issuer's URL.
pub async fn call(
    server: &TestServer,
    base: &str,
    device: &Device,
    token: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let resp = flow::http()
        .post(format!("{base}{path}"))
        .header("Authorization", format!("DPoP {token}"))
        .header(
            "DPoP",
            device.proof("POST", &server.url(path), None, Some(token)),
        )
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A GET of the app's API with the DPoP scheme and a fresh proof.
pub async fn get(server: &TestServer, device: &Device, token: &str, path: &str) -> (u16, Value) {
    let resp = flow::http()
        .get(server.url(path))
        .header("Authorization", format!("DPoP {token}"))
        .header(
            "DPoP",
            device.proof("GET", &server.url(path), None, Some(token)),
        )
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}
