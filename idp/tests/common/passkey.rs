//! A phone with a software passkey (webauthn-authenticator-rs `SoftPasskey`), driving the JSON
//! API as the login page's script does. SoftPasskey keeps no resident keys, so the phone plays a
//! discoverable authenticator itself: it picks its own credential and returns the user handle
//! it was given at registration, as a real one would.
#![allow(dead_code, clippy::unwrap_used)]

use super::browser::Browser;
use serde_json::{json, Value};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

pub struct Phone {
    authenticator: SoftPasskey,
    /// The origin the phone's browser reports (the provider's, unless a test fakes a phishing site).
    pub origin: Url,
    pub credential_id: Option<String>,
    user_handle: Option<String>,
}

/// A JSON API answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub set_cookie: bool,
}

impl Answer {
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
}

pub async fn post_json(browser: &Browser, path: &str, body: &Value) -> Answer {
    let resp = browser
        .http
        .post(format!("{}{path}", browser.base))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let set_cookie = resp.headers().contains_key(reqwest::header::SET_COOKIE);
    let json = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        json,
        set_cookie,
    }
}

impl Phone {
    pub fn new(origin: &str) -> Self {
        Self {
            // `true`: the soft authenticator claims user verification (a fingerprint).
            authenticator: SoftPasskey::new(true),
            origin: Url::parse(origin).unwrap(),
            credential_id: None,
            user_handle: None,
        }
    }

    /// Binds a passkey for the citizen logged in on `browser`; the API's answer to the finish.
    pub async fn bind(&mut self, browser: &Browser, name: &str) -> Answer {
        let start = post_json(
            browser,
            "/webauthn/register/start",
            &json!({ "name": name }),
        )
        .await;
        assert_eq!(start.status, 200, "{}", start.json);
        let response = self.register(&start.json);
        let finish = post_json(
            browser,
            "/webauthn/register/finish",
            &json!({ "ceremony": start.json["ceremony"], "credential": response }),
        )
        .await;
        if finish.status == 201 {
            self.credential_id = finish.json["id"].as_str().map(str::to_owned);
        }
        finish
    }

    /// The authenticator's answer to registration options.
    pub fn register(&mut self, options: &Value) -> Value {
        let mut options = options.clone();
        let selection = &mut options["publicKey"]["authenticatorSelection"];
        assert_eq!(
            selection["residentKey"], "required",
            "login needs a discoverable credential"
        );
        assert_eq!(selection["userVerification"], "required");
        // SoftPasskey refuses resident keys; this phone keeps the handle itself (see above).
        selection["requireResidentKey"] = json!(false);
        self.user_handle = options["publicKey"]["user"]["id"]
            .as_str()
            .map(str::to_owned);
        let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let credential = self
            .authenticator
            .do_registration(self.origin.clone(), ccr)
            .unwrap();
        serde_json::to_value(credential).unwrap()
    }

    /// The authenticator's answer to login options; `verify_user: false` plays an
    /// authenticator that skipped user verification.
    pub fn assert(&mut self, options: &Value, verify_user: bool) -> Value {
        let mut options = options.clone();
        let id = self.credential_id.clone().expect("a bound credential");
        options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": id }]);
        if !verify_user {
            options["publicKey"]["userVerification"] = json!("discouraged");
        }
        let rcr: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        let credential = self
            .authenticator
            .do_authentication(self.origin.clone(), rcr)
            .unwrap();
        let mut credential = serde_json::to_value(credential).unwrap();
        credential["response"]["userHandle"] = json!(self.user_handle.clone().unwrap());
        credential
    }

    /// The whole login ceremony on `browser`: start (for the parked request `req`, if any),
    /// sign, finish. Returns the finish answer.
    pub async fn log_in(&mut self, browser: &Browser, req: Option<&str>) -> Answer {
        let start = post_json(browser, "/webauthn/login/start", &json!({ "req": req })).await;
        assert_eq!(start.status, 200, "{}", start.json);
        let credential = self.assert(&start.json, true);
        post_json(
            browser,
            "/webauthn/login/finish",
            &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
        )
        .await
    }
}

/// A browser logged in with a passkey (the console's strong login) by a new citizen, made with
/// ID number serial `serial` of region 11, holding the operator `roles`.
pub async fn operator(
    server: &super::TestServer,
    serial: u32,
    roles: &[idp::domain::operator::Role],
) -> Browser {
    let citizen = super::id_number(11, serial);
    let sub = server.another_user(&citizen, "运维人员").await;
    let roles = roles.to_vec();
    server
        .with(move |s| {
            for role in roles {
                assert!(idp::flows::operators::grant(s, &sub, role, "operator:test").unwrap());
            }
        })
        .await;
    let browser = Browser::new(&server.base);
    super::flow::login(&browser, &citizen, super::PASSWORD).await;
    let mut phone = Phone::new(&server.base);
    assert_eq!(phone.bind(&browser, "运维手机").await.status, 201);
    let strong = phone.log_in(&browser, None).await;
    assert_eq!(strong.status, 200, "{}", strong.json);
    browser
}
