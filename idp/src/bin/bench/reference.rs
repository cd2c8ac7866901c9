//! The npm `oidc-provider` (the OpenID-certified reference provider), set up like idp in
//! `bench/oidc-provider/` and driven by the same load generator, for side-by-side figures.
//! Its flows differ from ours only where its protocol surface does: `/auth` instead of
//! `/authorize`, its own login page (one form post, the grant recorded with it), 303s.
use crate::flows::{code_of, collect_cookies, redeem_code};
use crate::server::REDIRECT;
use crate::wire::Wire;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "bench-app";
pub const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";
const LOGIN: &str = "citizen";
const PASSWORD: &str = "correct horse";

pub struct Reference {
    pub child: Child,
    pub base: String,
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bench/oidc-provider")
}

/// Starts it on a free port; None (and why) when its packages are not installed.
pub fn start(refresh_tokens: bool) -> Result<Reference, String> {
    let dir = folder();
    if !dir.join("node_modules/oidc-provider").is_dir() {
        return Err(format!(
            "oidc-provider is not installed: npm ci --prefix {}",
            dir.display()
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut child = Command::new("node")
        .arg(dir.join("server.mjs"))
        .env("PORT", port.to_string())
        .env("REFRESH_TOKENS", if refresh_tokens { "on" } else { "off" })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let started = Instant::now();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.trim() == "ready" => break,
            Some(Ok(_)) => {}
            _ => {
                let _ = child.kill();
                return Err("oidc-provider exited before it was ready".into());
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return Err("oidc-provider was not ready within 30 s".into());
        }
    }
    Ok(Reference {
        child,
        base: format!("http://127.0.0.1:{port}"),
    })
}

pub async fn client_credentials(wire: &mut Wire) -> bool {
    wire.post_form(
        "/token",
        (CLIENT_ID, SECRET),
        &[("grant_type", "client_credentials"), ("scope", "api.read")],
    )
    .await
    .is_some_and(|r| r.status == 200 && r.json().is_some_and(|t| t["access_token"].is_string()))
}

fn auth_url(base: &str, challenge: &str) -> String {
    format!("{base}/auth?response_type=code&client_id={CLIENT_ID}&redirect_uri={REDIRECT}&scope=openid%20profile&state=st&code_challenge={challenge}&code_challenge_method=S256")
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("location")?
        .to_str()
        .ok()
        .map(str::to_owned)
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A browser with a session there, and the tokens of its login (a refresh token when the
/// server issues them).
pub struct RefSession {
    pub cookies: String,
    pub refresh_token: Option<String>,
}

async fn redeem(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    verifier: &str,
) -> Option<serde_json::Value> {
    let r = http
        .post(format!("{base}/token"))
        .basic_auth(CLIENT_ID, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    r.json().await.ok()
}

/// Logs in through its login page: /auth, the interaction page, one form post, back to /auth.
pub async fn log_in(http: &reqwest::Client, base: &str) -> Option<RefSession> {
    let mut jar = Vec::new();
    let verifier = keys::random_token(32);
    let r = http
        .get(auth_url(base, &idp::domain::pkce::s256(&verifier)))
        .send()
        .await
        .ok()?;
    collect_cookies(&mut jar, &r);
    let interaction = location(&r)?;
    let r = http
        .get(format!("{base}{interaction}"))
        .header("cookie", cookie_header(&jar))
        .send()
        .await
        .ok()?;
    collect_cookies(&mut jar, &r);
    let r = http
        .post(format!("{base}{interaction}/login"))
        .header("cookie", cookie_header(&jar))
        .form(&[("login", LOGIN), ("password", PASSWORD)])
        .send()
        .await
        .ok()?;
    collect_cookies(&mut jar, &r);
    let resume = location(&r)?;
    let r = http
        .get(&resume)
        .header("cookie", cookie_header(&jar))
        .send()
        .await
        .ok()?;
    collect_cookies(&mut jar, &r);
    let code = code_of(&location(&r)?)?;
    let tokens = redeem(http, base, &code, &verifier).await?;
    jar.retain(|(k, _)| k.starts_with("_session"));
    Some(RefSession {
        cookies: cookie_header(&jar),
        refresh_token: tokens["refresh_token"].as_str().map(str::to_owned),
    })
}

/// One complete code flow on the session: /auth -> code -> token exchange.
pub async fn code_flow(wire: &mut Wire, s: &RefSession) -> bool {
    let verifier = keys::random_token(32);
    let Some(r) = wire
        .get(
            &auth_url("", &idp::domain::pkce::s256(&verifier)),
            Some(&s.cookies),
        )
        .await
    else {
        return false;
    };
    let Some(code) = r.location.as_deref().and_then(code_of) else {
        return false;
    };
    redeem_code(wire, (CLIENT_ID, SECRET), &code, &verifier).await
}

/// A refresh, keeping the rotated token.
pub async fn refresh(wire: &mut Wire, token: &mut String) -> bool {
    crate::tokens::refresh_at(wire, "/token", CLIENT_ID, SECRET, token).await
}

/// Introspection of the client's own refresh token (it cannot introspect its JWT access tokens).
pub async fn introspect(wire: &mut Wire, token: &str) -> bool {
    crate::tokens::introspect_at(wire, "/token/introspection", CLIENT_ID, SECRET, token).await
}
