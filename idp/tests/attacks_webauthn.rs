//! WebAuthn bound to our relying party: an authenticator's answer made for another RP ID (its
//! `rpIdHash`), even one delivered from our own origin, binds nothing and logs nobody in; nor
//! does a registration made for another origin. The origin check of assertions is covered by
//! `passkeys::an_assertion_made_for_another_origin_is_refused`.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow;
use common::passkey::post_json;
use common::{id_number, TestServer, PASSWORD};
use serde_json::{json, Value};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

/// RP IDs that are not ours ("localhost", the test issuer's host), each a plausible mistake or
/// attack: another site, case, a trailing dot, a subdomain, a suffix.
const OTHER_RP_IDS: [&str; 5] = [
    "idp-gov.example",
    "LOCALHOST",
    "localhost.",
    "evil.localhost",
    "calhost",
];

/// A phone whose authenticator is driven directly (below the browser's RP ID checks), as a
/// rogue client or a compromised browser would.
struct Rogue {
    authenticator: SoftPasskey,
    origin: Url,
    credential_id: Option<String>,
    user_handle: Option<String>,
}

impl Rogue {
    fn new(origin: &str) -> Self {
        Self {
            authenticator: SoftPasskey::new(true),
            origin: Url::parse(origin).unwrap(),
            credential_id: None,
            user_handle: None,
        }
    }

    /// The authenticator's answer to registration options, for `rp_id` and `origin`.
    fn register(&mut self, options: &Value, rp_id: Option<&str>, origin: &Url) -> Value {
        let mut options = options.clone();
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(false);
        if let Some(id) = rp_id {
            options["publicKey"]["rp"]["id"] = json!(id);
        }
        self.user_handle = options["publicKey"]["user"]["id"]
            .as_str()
            .map(str::to_owned);
        let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let credential = match rp_id {
            // Our own RP ID: through the checks a browser makes.
            None => self
                .authenticator
                .do_registration(origin.clone(), ccr)
                .unwrap(),
            Some(_) => self
                .authenticator
                .perform_register(origin.clone(), ccr.public_key, 60_000)
                .unwrap(),
        };
        serde_json::to_value(credential).unwrap()
    }

    fn assert(&mut self, options: &Value, rp_id: Option<&str>) -> Value {
        let mut options = options.clone();
        let id = self.credential_id.clone().unwrap();
        options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": id }]);
        if let Some(rp) = rp_id {
            options["publicKey"]["rpId"] = json!(rp);
        }
        let rcr: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        let credential = match rp_id {
            None => self
                .authenticator
                .do_authentication(self.origin.clone(), rcr)
                .unwrap(),
            Some(_) => self
                .authenticator
                .perform_auth(self.origin.clone(), rcr.public_key, 60_000)
                .unwrap(),
        };
        let mut credential = serde_json::to_value(credential).unwrap();
        credential["response"]["userHandle"] = json!(self.user_handle.clone().unwrap());
        credential
    }
}

async fn passkeys(server: &TestServer, sub: &str) -> usize {
    let sub = sub.to_owned();
    server
        .with(move |s| idp::flows::passkeys::list(s, &sub).unwrap().len())
        .await
}

#[actix_web::test]
async fn a_registration_for_another_rp_id_or_origin_binds_nothing() {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 251);
    let sub = server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let ours = Url::parse(&server.base).unwrap();
    let mut tried = Vec::new();
    for rp_id in OTHER_RP_IDS {
        let start = post_json(&browser, "/webauthn/register/start", &json!({"name": "x"})).await;
        assert_eq!(start.status, 200, "{}", start.json);
        let mut rogue = Rogue::new(&server.base);
        let credential = rogue.register(&start.json, Some(rp_id), &ours);
        let finish = post_json(
            &browser,
            "/webauthn/register/finish",
            &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
        )
        .await;
        tried.push((format!("RP ID {rp_id:?}"), finish));
    }
    // Our RP ID, but the ceremony ran on another site's page (a phishing site relaying it).
    let start = post_json(&browser, "/webauthn/register/start", &json!({"name": "x"})).await;
    let phishing = Url::parse("https://idp-gov.example").unwrap();
    let mut rogue = Rogue::new(&server.base);
    let credential = rogue.register(&start.json, Some("localhost"), &phishing);
    let finish = post_json(
        &browser,
        "/webauthn/register/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    tried.push(("another origin".to_owned(), finish));
    for (what, finish) in tried {
        assert!(
            finish.status == 400 || finish.status == 403,
            "{what}: {} {}",
            finish.status,
            finish.json
        );
        assert!(!finish.error().is_empty(), "{what}: {}", finish.json);
    }
    assert_eq!(passkeys(&server, &sub).await, 0, "nothing was bound");
    // The genuine registration binds.
    let start = post_json(&browser, "/webauthn/register/start", &json!({"name": "x"})).await;
    let mut phone = Rogue::new(&server.base);
    let credential = phone.register(&start.json, None, &ours);
    let finish = post_json(
        &browser,
        "/webauthn/register/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!(finish.status, 201, "{}", finish.json);
    assert_eq!(passkeys(&server, &sub).await, 1);
    server.stop().await;
}

#[actix_web::test]
async fn an_assertion_for_another_rp_id_logs_nobody_in_even_from_our_origin() {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 252);
    server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let mut phone = Rogue::new(&server.base);
    let start = post_json(
        &browser,
        "/webauthn/register/start",
        &json!({"name": "手机"}),
    )
    .await;
    let credential = phone.register(&start.json, None, &phone.origin.clone());
    let bound = post_json(
        &browser,
        "/webauthn/register/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!(bound.status, 201, "{}", bound.json);
    phone.credential_id = bound.json["id"].as_str().map(str::to_owned);

    for rp_id in OTHER_RP_IDS {
        let stranger = Browser::new(&server.base);
        let start = post_json(&stranger, "/webauthn/login/start", &json!({})).await;
        assert_eq!(start.status, 200, "{}", start.json);
        let credential = phone.assert(&start.json, Some(rp_id));
        let finish = post_json(
            &stranger,
            "/webauthn/login/finish",
            &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
        )
        .await;
        assert!(
            finish.status == 400 || finish.status == 403,
            "RP ID {rp_id:?}: {} {}",
            finish.status,
            finish.json
        );
        assert!(!finish.error().is_empty(), "RP ID {rp_id:?}");
        assert!(!finish.set_cookie, "RP ID {rp_id:?}: a session cookie");
        assert_eq!(
            stranger.get("/account").await.location.as_deref(),
            Some("/login"),
            "RP ID {rp_id:?}: logged in"
        );
    }
    // Nothing was spent or suspended: the genuine assertion logs in.
    let stranger = Browser::new(&server.base);
    let start = post_json(&stranger, "/webauthn/login/start", &json!({})).await;
    let credential = phone.assert(&start.json, None);
    let finish = post_json(
        &stranger,
        "/webauthn/login/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!(finish.status, 200, "{}", finish.json);
    assert!(finish.set_cookie);
    server.stop().await;
}

/// Session fixation through the passkey door (the password door is
/// `login_page::the_session_cookie_is_strict_and_new_at_every_login`): a session id planted in
/// the browser is not adopted; the login mints its own.
#[actix_web::test]
async fn a_passkey_login_mints_its_own_session_whatever_was_planted() {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 253);
    server.user(&citizen, PASSWORD).await;
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    let mut phone = Rogue::new(&server.base);
    let start = post_json(
        &browser,
        "/webauthn/register/start",
        &json!({"name": "手机"}),
    )
    .await;
    let credential = phone.register(&start.json, None, &phone.origin.clone());
    let bound = post_json(
        &browser,
        "/webauthn/register/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    phone.credential_id = bound.json["id"].as_str().map(str::to_owned);

    let planted = "attacker-chosen-session-id-0123456789abcdef";
    let victim = flow::browser_with(&server.base, None, &[&format!("idp_session={planted}")]);
    let start = post_json(&victim, "/webauthn/login/start", &json!({})).await;
    let credential = phone.assert(&start.json, None);
    let finish = victim
        .http
        .post(server.url("/webauthn/login/finish"))
        .json(&json!({ "ceremony": start.json["ceremony"], "credential": credential }))
        .send()
        .await
        .unwrap();
    assert_eq!(finish.status(), 200);
    let cookie = finish
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("idp_session="))
        .expect("a session cookie");
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("idp_session=");
    assert_ne!(value, planted);
    assert!(value.len() >= 40, "{value}");
    // The planted id is no session, even now.
    let attacker = flow::browser_with(&server.base, None, &[&format!("idp_session={planted}")]);
    assert_eq!(
        attacker.get("/account").await.location.as_deref(),
        Some("/login")
    );
    server.stop().await;
}
