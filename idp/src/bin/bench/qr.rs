//! QR-code login: a browser draws a code, the government app (DPoP-bound token, a proof per
//! call) scans and approves it, the browser collects its session. And the memory that many
//! browsers waiting on a code's status at once cost the server.
use crate::flows::{hidden, Session};
use crate::server::{Endpoint, Fixture, Server, APP_REDIRECT};
use serde_json::{json, Value};

/// The government app on a phone: its device key and DPoP-bound access token.
pub struct AppPhone {
    pub key: keys::SigningKey,
    pub token: String,
    issuer: String,
    /// When the app logged in: its access token lives 600 s, so long runs log it in again.
    pub logged_in_at: std::time::Instant,
}

fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)] // the load generator plays clients: real time
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl AppPhone {
    fn proof(&self, method: &str, path: &str, nonce: Option<&str>, with_token: bool) -> String {
        let mut claims = json!({
            "jti": keys::random_token(12),
            "htm": method,
            "htu": format!("{}{path}", self.issuer),
            "iat": unix_now(),
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        if with_token {
            claims["ath"] = json!(keys::sha256_b64(self.token.as_bytes()));
        }
        self.key
            .sign_self_contained("dpop+jwt", claims.as_object().unwrap())
            .unwrap()
    }

    async fn call(
        &self,
        http: &reqwest::Client,
        base: &str,
        path: &str,
        body: &Value,
    ) -> Option<Value> {
        let resp = http
            .post(format!("{base}{path}"))
            .header("Authorization", format!("DPoP {}", self.token))
            .header("DPoP", self.proof("POST", path, None, true))
            .json(body)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
}

/// Logs the app in on a browser session (PKCE, consent) and binds its tokens to a new key.
pub async fn app_phone(
    http: &reqwest::Client,
    server: &Endpoint,
    f: &Fixture,
    s: &Session,
) -> Option<AppPhone> {
    let base = &server.base;
    let verifier = keys::random_token(32);
    let challenge = idp::domain::pkce::s256(&verifier);
    let url = format!(
        "{base}/authorize?response_type=code&client_id={}&redirect_uri={APP_REDIRECT}&scope=openid%20gov_app&state=s&code_challenge={challenge}&code_challenge_method=S256",
        f.app_client_id
    );
    let mut next = location(
        &http
            .get(url)
            .header("cookie", &s.cookies)
            .send()
            .await
            .ok()?,
    )?;
    if next.starts_with("/consent") {
        let page = http
            .get(format!("{base}{next}"))
            .header("cookie", &s.cookies)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
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
        next = location(&r)?;
    }
    let code = url::Url::parse(&next)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())?;
    let mut phone = AppPhone {
        key: keys::SigningKey::generate(keys::Alg::ES256).ok()?,
        token: String::new(),
        issuer: server.issuer.clone(),
        logged_in_at: std::time::Instant::now(),
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", APP_REDIRECT),
        ("client_id", f.app_client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let first = http
        .post(format!("{base}/token"))
        .header("DPoP", phone.proof("POST", "/token", None, false))
        .form(&form)
        .send()
        .await
        .ok()?;
    let nonce = first.headers().get("dpop-nonce")?.to_str().ok()?.to_owned();
    let tokens: Value = http
        .post(format!("{base}/token"))
        .header("DPoP", phone.proof("POST", "/token", Some(&nonce), false))
        .form(&form)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    phone.token = tokens["access_token"].as_str()?.to_owned();
    Some(phone)
}

/// A browser that shows codes: its binding cookie, once it has one.
#[derive(Default)]
pub struct QrBrowser {
    binding: Option<String>,
}

impl QrBrowser {
    async fn draw(&mut self, http: &reqwest::Client, base: &str) -> Option<String> {
        let mut req = http.post(format!("{base}/qr/start")).json(&json!({}));
        if let Some(b) = &self.binding {
            req = req.header("cookie", format!("idp_qr={b}"));
        }
        let resp = req.send().await.ok()?;
        for v in resp.headers().get_all("set-cookie") {
            if let Some(value) = v
                .to_str()
                .ok()
                .and_then(|c| c.strip_prefix("idp_qr="))
                .and_then(|c| c.split(';').next())
            {
                self.binding = Some(value.to_owned());
            }
        }
        let started: Value = resp.json().await.ok()?;
        started["id"].as_str().map(str::to_owned)
    }

    async fn status(
        &self,
        http: &reqwest::Client,
        base: &str,
        id: &str,
        since: &str,
    ) -> Option<Value> {
        http.get(format!("{base}/qr/status?id={id}&since={since}"))
            .header("cookie", format!("idp_qr={}", self.binding.as_deref()?))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()
    }
}

/// One QR login: draw, scan, approve, collect the session.
pub async fn qr_login(
    http: &reqwest::Client,
    server: &Endpoint,
    browser: &mut QrBrowser,
    phone: &AppPhone,
) -> bool {
    let base = &server.base;
    let Some(id) = browser.draw(http, base).await else {
        return false;
    };
    let payload = json!({ "payload": id });
    if phone.call(http, base, "/qr/scan", &payload).await.is_none() {
        return false;
    }
    let answer = json!({ "payload": id, "decision": "approve" });
    if phone
        .call(http, base, "/qr/answer", &answer)
        .await
        .is_none()
    {
        return false;
    }
    browser
        .status(http, base, &id, "scanned")
        .await
        .is_some_and(|v| v["redirect_to"].is_string())
}

/// The server's resident memory with `n` browsers waiting on a code's status at once at
/// `status_base` (the main server or the QR events listener), and before they started waiting
/// (KiB).
pub async fn waiting_browsers_memory(
    server: &Server,
    status_base: &str,
    pid: u32,
    n: usize,
) -> (u64, u64) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut browser = QrBrowser::default();
    let mut ids = Vec::with_capacity(n);
    // Draw the codes (one browser binding is enough to measure the waiting side).
    for count in batches(n) {
        let mut batch = Vec::new();
        for _ in 0..count {
            if browser.binding.is_none() {
                ids.push(browser.draw(&http, &server.base).await.expect("a QR code"));
                continue;
            }
            let (http, base, binding) =
                (http.clone(), server.base.clone(), browser.binding.clone());
            batch.push(tokio::spawn(async move {
                let mut b = QrBrowser { binding };
                b.draw(&http, &base).await
            }));
        }
        for t in batch {
            ids.push(t.await.unwrap().expect("a QR code"));
        }
    }
    let before = crate::server::memory_kib(pid).0;
    // Connections an earlier measurement left behind may still be open: count from here.
    let held_before = open_connections(pid);
    let binding = browser.binding.clone().unwrap();
    let mut waiters = Vec::with_capacity(n);
    for id in ids {
        let (http, base, binding) = (http.clone(), status_base.to_owned(), binding.clone());
        waiters.push(tokio::spawn(async move {
            let b = QrBrowser {
                binding: Some(binding),
            };
            b.status(&http, &base, &id, "waiting").await
        }));
    }
    // Wait until the server holds them all (its connection count stops growing), then read.
    let mut last = 0;
    let mut during = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = crate::server::memory_kib(pid).0;
        during = during.max(now);
        if now == last && open_connections(pid) + 16 >= held_before + n {
            break;
        }
        last = now;
    }
    for w in waiters {
        w.abort();
    }
    // Let the server see them leave before anything else is measured.
    for _ in 0..150 {
        if open_connections(pid) <= held_before + 16 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    (before, during)
}

/// Batches of at most 256 draws.
fn batches(n: usize) -> impl Iterator<Item = usize> {
    (0..n.div_ceil(256)).map(move |i| (n - i * 256).min(256))
}

/// TCP connections the server holds (its open socket descriptors).
fn open_connections(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|t| t.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}
