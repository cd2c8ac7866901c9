//! The browser-side flows the load generator performs: client_credentials, a password login
//! through the real pages, and a complete code flow on an existing session.
use crate::server::{Fixture, ID_NUMBER, PASSWORD, REDIRECT};
use crate::wire::Wire;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap()
}

pub async fn client_credentials(wire: &mut Wire, f: &Fixture) -> bool {
    wire.post_form(
        "/token",
        (&f.client_id, &f.secret),
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
    )
    .await
    .is_some_and(|r| r.status == 200 && r.json().is_some_and(|t| t["access_token"].is_string()))
}

pub async fn ok_body(resp: reqwest::Result<reqwest::Response>) -> bool {
    match resp {
        Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// A browser with a session: cookies kept by hand (only ours matter).
pub struct Session {
    pub cookies: String,
}

pub fn collect_cookies(jar: &mut Vec<(String, String)>, resp: &reqwest::Response) {
    for v in resp.headers().get_all("set-cookie") {
        let Some((pair, _)) = v.to_str().unwrap_or("").split_once(';') else {
            continue;
        };
        if let Some((k, val)) = pair.split_once('=') {
            jar.retain(|(name, _)| name != k);
            jar.push((k.to_owned(), val.to_owned()));
        }
    }
}

pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html.find(&needle).map(|i| i + needle.len()).unwrap_or(0);
    html[start..].split('"').next().unwrap_or("").to_owned()
}

pub fn authorize_url(base: &str, f: &Fixture, challenge: &str) -> String {
    authorize_url_with(base, f, challenge, "openid%20profile")
}

/// The authorization request with `scope` (already URL-encoded).
pub fn authorize_url_with(base: &str, f: &Fixture, challenge: &str, scope: &str) -> String {
    format!("{base}/authorize?response_type=code&client_id={}&redirect_uri={REDIRECT}&scope={scope}&state=st&code_challenge={challenge}&code_challenge_method=S256", f.client_id)
}

pub async fn log_in(http: &reqwest::Client, base: &str, f: &Fixture) -> Option<Session> {
    log_in_as(http, base, f, ID_NUMBER).await
}

/// A valid ID number (GB 11643 check character) of the `n`th bench citizen besides the first.
pub fn citizen_id(n: usize) -> String {
    let first17 = format!("110105198001{:02}{:03}", 1 + n / 1000 % 28, n % 1000);
    let check = idp::domain::id_number::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

/// The whole login through the pages (authorize, login page, password form, back to the app's
/// request) as the citizen with ID number `id_number`.
pub async fn log_in_as(
    http: &reqwest::Client,
    base: &str,
    f: &Fixture,
    id_number: &str,
) -> Option<Session> {
    let mut jar = Vec::new();
    let cookie = |jar: &Vec<(String, String)>| {
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let challenge = idp::domain::pkce::s256(&"v".repeat(43));
    let r = http
        .get(authorize_url(base, f, &challenge))
        .send()
        .await
        .ok()?;
    let login = r.headers().get("location")?.to_str().ok()?.to_owned();
    let r = http.get(format!("{base}{login}")).send().await.ok()?;
    collect_cookies(&mut jar, &r);
    let page = r.text().await.ok()?;
    let form = [
        ("csrf", hidden(&page, "csrf")),
        ("req", hidden(&page, "req")),
        ("username", id_number.into()),
        ("password", PASSWORD.into()),
    ];
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", cookie(&jar))
        .form(&form)
        .send()
        .await
        .ok()?;
    collect_cookies(&mut jar, &r);
    let resume = r.headers().get("location")?.to_str().ok()?.to_owned();
    let r = http
        .get(format!("{base}{resume}"))
        .header("cookie", cookie(&jar))
        .send()
        .await
        .ok()?;
    let consent = r.headers().get("location")?.to_str().ok()?.to_owned();
    if consent.starts_with("/consent") {
        let r = http
            .get(format!("{base}{consent}"))
            .header("cookie", cookie(&jar))
            .send()
            .await
            .ok()?;
        let page = r.text().await.ok()?;
        let form = [
            ("csrf", hidden(&page, "csrf")),
            ("req", hidden(&page, "req")),
            ("decision", "allow".into()),
        ];
        let r = http
            .post(format!("{base}/consent"))
            .header("cookie", cookie(&jar))
            .form(&form)
            .send()
            .await
            .ok()?;
        r.headers().get("location")?;
    }
    Some(Session {
        cookies: cookie(&jar),
    })
}

/// The measured password login, as `log_in_as` does it but through the generator's own
/// HTTP/1.1 client (a fresh browser each time: no cookies to begin with). The citizen consented
/// to the app at their first login, so the login ends with the app's code. The generator shares
/// the two cores with the server, and this scenario is measured against the Argon2id ceiling:
/// what the generator spends is taken from what the server could hash.
pub async fn password_login(wire: &mut Wire, f: &Fixture, id_number: &str) -> bool {
    let mut jar = Vec::new();
    let challenge = idp::domain::pkce::s256(&"v".repeat(43));
    let Some(login) = wire
        .get(&authorize_url("", f, &challenge), None)
        .await
        .and_then(|r| r.location)
    else {
        return false;
    };
    let Some(page) = wire.get(&login, None).await else {
        return false;
    };
    absorb(&mut jar, &page.set_cookies);
    let page = String::from_utf8_lossy(&page.body);
    let (csrf, req) = (hidden(&page, "csrf"), hidden(&page, "req"));
    let form = [
        ("csrf", csrf.as_str()),
        ("req", req.as_str()),
        ("username", id_number),
        ("password", PASSWORD),
    ];
    let Some(logged_in) = wire
        .submit("/login", Some(&cookie_header(&jar)), &form)
        .await
    else {
        return false;
    };
    absorb(&mut jar, &logged_in.set_cookies);
    let Some(resume) = logged_in.location else {
        return false;
    };
    wire.get(&resume, Some(&cookie_header(&jar)))
        .await
        .and_then(|r| r.location)
        .is_some_and(|to_app| to_app.starts_with(REDIRECT) && code_of(&to_app).is_some())
}

fn absorb(jar: &mut Vec<(String, String)>, set_cookies: &[String]) {
    for v in set_cookies {
        let pair = v.split(';').next().unwrap_or("");
        if let Some((k, val)) = pair.split_once('=') {
            jar.retain(|(name, _)| name != k);
            jar.push((k.to_owned(), val.to_owned()));
        }
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One complete code flow on an existing session: authorize -> code -> token exchange.
pub async fn code_flow(wire: &mut Wire, f: &Fixture, s: &Session) -> bool {
    let verifier = keys::random_token(32);
    let challenge = idp::domain::pkce::s256(&verifier);
    let Some(r) = wire
        .get(&authorize_url("", f, &challenge), Some(&s.cookies))
        .await
    else {
        return false;
    };
    let Some(code) = r.location.as_deref().and_then(code_of) else {
        return false;
    };
    redeem_code(wire, (&f.client_id, &f.secret), &code, &verifier).await
}

/// The code exchange at `/token` of either provider: must answer with an ID token.
pub async fn redeem_code(
    wire: &mut Wire,
    client: (&str, &str),
    code: &str,
    verifier: &str,
) -> bool {
    wire.post_form(
        "/token",
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
    .is_some_and(|r| r.status == 200 && r.json().is_some_and(|t| t["id_token"].is_string()))
}

/// The `code` of a redirect back to the app.
pub fn code_of(location: &str) -> Option<String> {
    url::Url::parse(location).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
    })
}
