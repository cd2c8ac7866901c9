//! Fingerprint login with a software passkey bound through the JSON API.
use crate::flows::Session;
use crate::server::Server;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;

/// A phone with a software passkey bound to the citizen: it plays a discoverable
/// authenticator (SoftPasskey keeps no resident keys, so the phone names its credential and
/// user handle itself).
pub struct Phone {
    pub authenticator: SoftPasskey,
    pub origin: url::Url,
    pub credential_id: String,
    pub user_handle: String,
}

pub async fn post_json(
    http: &reqwest::Client,
    url: String,
    cookies: Option<&str>,
    body: &serde_json::Value,
) -> Option<serde_json::Value> {
    let mut req = http.post(url).json(body);
    if let Some(c) = cookies {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

pub async fn bind_phone(http: &reqwest::Client, server: &Server, s: &Session) -> Option<Phone> {
    let base = &server.base;
    let start = post_json(
        http,
        format!("{base}/webauthn/register/start"),
        Some(&s.cookies),
        &serde_json::json!({ "name": "bench" }),
    )
    .await?;
    let mut options = start.clone();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = false.into();
    let user_handle = options["publicKey"]["user"]["id"].as_str()?.to_owned();
    let origin = url::Url::parse(&server.issuer).ok()?;
    let mut authenticator = SoftPasskey::new(true);
    let credential = authenticator
        .do_registration(origin.clone(), serde_json::from_value(options).ok()?)
        .ok()?;
    let finish = post_json(
        http,
        format!("{base}/webauthn/register/finish"),
        Some(&s.cookies),
        &serde_json::json!({ "ceremony": start["ceremony"], "credential": credential }),
    )
    .await?;
    Some(Phone {
        authenticator,
        origin,
        credential_id: finish["id"].as_str()?.to_owned(),
        user_handle,
    })
}

/// One fingerprint login: start, sign with the soft passkey, finish.
pub async fn passkey_login(http: &reqwest::Client, base: &str, phone: &mut Phone) -> bool {
    let Some(mut options) = post_json(
        http,
        format!("{base}/webauthn/login/start"),
        None,
        &serde_json::json!({}),
    )
    .await
    else {
        return false;
    };
    options["publicKey"]["allowCredentials"] =
        serde_json::json!([{ "type": "public-key", "id": phone.credential_id }]);
    let Ok(request) = serde_json::from_value(options.clone()) else {
        return false;
    };
    let Ok(credential) = phone
        .authenticator
        .do_authentication(phone.origin.clone(), request)
    else {
        return false;
    };
    let mut credential = serde_json::to_value(credential).unwrap_or_default();
    credential["response"]["userHandle"] = phone.user_handle.clone().into();
    post_json(
        http,
        format!("{base}/webauthn/login/finish"),
        None,
        &serde_json::json!({ "ceremony": options["ceremony"], "credential": credential }),
    )
    .await
    .is_some_and(|r| r["redirect_to"].is_string())
}
