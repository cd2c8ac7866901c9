//! Token scenarios beyond the first login: refreshing (with rotation) and introspection, the
//! same requests at idp and at the reference provider.
use crate::flows::{authorize_url_with, collect_cookies, hidden, Session};
use crate::server::{Fixture, REDIRECT};
use crate::wire::Wire;

/// `grant_type=refresh_token` at `token_path`; the rotated token replaces `token`.
pub async fn refresh_at(
    wire: &mut Wire,
    token_path: &str,
    client_id: &str,
    secret: &str,
    token: &mut String,
) -> bool {
    let Some(body) = wire
        .post_form(
            token_path,
            (client_id, secret),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", token.as_str()),
            ],
        )
        .await
        .filter(|r| r.status == 200)
        .and_then(|r| r.json())
    else {
        return false;
    };
    match body["refresh_token"].as_str() {
        Some(next) if body["access_token"].is_string() => {
            *token = next.to_owned();
            true
        }
        _ => false,
    }
}

/// RFC 7662 introspection of a refresh token: must answer `active: true`.
pub async fn introspect_at(
    wire: &mut Wire,
    path: &str,
    client_id: &str,
    secret: &str,
    token: &str,
) -> bool {
    wire.post_form(
        path,
        (client_id, secret),
        &[("token", token), ("token_type_hint", "refresh_token")],
    )
    .await
    .is_some_and(|r| r.status == 200 && r.json().is_some_and(|v| v["active"] == true))
}

/// An `offline_access` authorization on the session (consent page included the first time):
/// the refresh token it yields.
pub async fn refresh_token(
    http: &reqwest::Client,
    base: &str,
    f: &Fixture,
    s: &Session,
) -> Option<String> {
    let verifier = keys::random_token(32);
    let challenge = idp::domain::pkce::s256(&verifier);
    let mut jar = Vec::new();
    let r = http
        .get(authorize_url_with(
            base,
            f,
            &challenge,
            "openid%20profile%20offline_access",
        ))
        .header("cookie", &s.cookies)
        .send()
        .await
        .ok()?;
    let mut next = r.headers().get("location")?.to_str().ok()?.to_owned();
    if next.starts_with("/consent") {
        let r = http
            .get(format!("{base}{next}"))
            .header("cookie", &s.cookies)
            .send()
            .await
            .ok()?;
        collect_cookies(&mut jar, &r);
        let page = r.text().await.ok()?;
        let form = [
            ("csrf", hidden(&page, "csrf")),
            ("req", hidden(&page, "req")),
            ("decision", "allow".into()),
        ];
        let r = http
            .post(format!("{base}/consent"))
            .header("cookie", &s.cookies)
            .form(&form)
            .send()
            .await
            .ok()?;
        next = r.headers().get("location")?.to_str().ok()?.to_owned();
    }
    let code = url::Url::parse(&next)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())?;
    let tokens: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth(&f.client_id, Some(&f.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    tokens["refresh_token"].as_str().map(str::to_owned)
}
