//! The extra latency of a roaming login over a local one. Three `idp serve` processes, each on
//! its own database: home province 33 (where the citizen's account lives), the hub, and province
//! 51. A local login is the citizen at an app of 33 (login page, password, code, token); a
//! roaming login is the citizen at an app of 51: 51 looks for a federation session at the hub,
//! shows its page, the citizen types their ID number, the hub sends them home to 33, they log in
//! there, and the code comes back through the hub and 51 to the app. Both include one Argon2id
//! hash at 33; the difference is what federation costs.
use super::flows::hidden;
use super::server::{idp, idp_binary, PASSWORD, REDIRECT};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const CITIZEN: &str = "330106198001010013";

struct Node {
    child: Child,
    base: String,
    db: String,
    dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
        idp(self.dir.path(), &self.db, args, stdin)
    }

    /// An approved first-party app (no consent page) redirecting to `redirect`.
    fn app(&self, name: &str, redirect: &str, extra: &[&str]) -> (String, String) {
        let mut args = vec![
            "client",
            "create",
            "--name",
            name,
            "--redirect-uri",
            redirect,
            "--approve",
            "--first-party",
            "--scope",
            "openid",
            "--scope",
            "profile",
        ];
        args.extend_from_slice(extra);
        let c = self.cli(&args, None);
        (
            c["client_id"].as_str().unwrap().to_owned(),
            c["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    /// Makes `upstream` this node's upstream `code`, with a client for this node there (a
    /// province below the hub names the region it serves).
    fn trust(&self, upstream: &Node, code: &str, name: &str, region: Option<&str>) {
        let mut extra = vec!["--scope", "id_number"];
        if let Some(region) = region {
            extra.extend(["--federation-region", region]);
        }
        let (id, secret) = upstream.app(
            &format!("node {code}"),
            &format!("{}/federation/callback", self.base),
            &extra,
        );
        self.cli(
            &[
                "province",
                "add",
                "--code",
                code,
                "--name",
                name,
                "--issuer",
                &upstream.base,
                "--client-id",
                &id,
                "--client-secret-stdin",
            ],
            Some(&secret),
        );
    }
}

/// A node on its own loopback address (browsers keep cookies per host).
fn prepare(host: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("idp.db").display());
    idp(dir.path(), &db, &["migrate"], None);
    let port = std::net::TcpListener::bind(format!("{host}:0"))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://{host}:{port}");
    // Not started yet: a placeholder that `start` replaces.
    let child = Command::new("true").spawn().unwrap();
    Node {
        child,
        base,
        db,
        dir,
    }
}

fn start(node: &mut Node, roaming: bool) {
    let bind = node.base.trim_start_matches("http://").to_owned();
    let mut cmd = Command::new(idp_binary());
    cmd.arg("serve")
        .env("IDP_DATABASE_URL", &node.db)
        .env("IDP_KEK_FILE", node.dir.path().join("kek"))
        .env("IDP_BIND", &bind)
        .env("IDP_ISSUER", &node.base)
        // Loopback issuers have no domain for passkeys: not worth a warning per node here.
        .env("IDP_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if roaming {
        cmd.env("IDP_ROAMING_UPSTREAM", "00");
    }
    let _ = node.child.wait();
    node.child = cmd.spawn().unwrap();
}

pub struct Federation {
    home: Node,
    /// Serves the federation hops; the measurement talks to it only through redirects.
    _hub: Node,
    province: Node,
    home_app: (String, String),
    province_app: (String, String),
}

pub async fn federation(http: &reqwest::Client) -> Federation {
    let (mut home, mut hub, mut province) = (
        prepare("127.0.0.3"),
        prepare("127.0.0.2"),
        prepare("127.0.0.4"),
    );
    home.cli(
        &[
            "user",
            "create",
            "--id-number",
            CITIZEN,
            "--name",
            "漫游",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    hub.trust(&home, "33", "浙江", None);
    province.trust(&hub, "00", "国家枢纽", Some("51"));
    let home_app = home.app("home app", REDIRECT, &[]);
    let province_app = province.app("province app", REDIRECT, &[]);
    start(&mut home, false);
    start(&mut hub, false);
    start(&mut province, true);
    for node in [&home, &hub, &province] {
        let ready = Instant::now();
        while !matches!(http.get(format!("{}/readyz", node.base)).send().await, Ok(r) if r.status() == 200)
        {
            assert!(
                ready.elapsed().as_secs() < 30,
                "{} did not start",
                node.base
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    Federation {
        home,
        _hub: hub,
        province,
        home_app,
        province_app,
    }
}

/// A browser: cookies per host, redirects followed by hand.
#[derive(Default)]
struct Browser {
    jars: HashMap<String, Vec<(String, String)>>,
}

enum Stop {
    /// At the app's redirect URI, with the code.
    Code(String),
    /// A page, with the URL it was served from.
    Page { url: String, body: String },
}

impl Browser {
    fn host(url: &str) -> String {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &str) -> Option<reqwest::Response> {
        let host = Self::host(url);
        let jar = self.jars.entry(host).or_default();
        let cookie = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let r = req.header("cookie", cookie).send().await.ok()?;
        super::flows::collect_cookies(jar, &r);
        Some(r)
    }

    /// Follows redirects from `url` until the app's redirect URI or a page.
    async fn walk(&mut self, http: &reqwest::Client, mut url: String) -> Option<Stop> {
        for _ in 0..20 {
            let r = self.send(http.get(&url), &url).await?;
            let Some(next) = r.headers().get("location").and_then(|l| l.to_str().ok()) else {
                let body = r.text().await.ok()?;
                return Some(Stop::Page { url, body });
            };
            let next = url::Url::parse(&url).ok()?.join(next).ok()?.to_string();
            if next.starts_with(REDIRECT) {
                let code = url::Url::parse(&next)
                    .ok()?
                    .query_pairs()
                    .find(|(k, _)| k == "code")?
                    .1
                    .into_owned();
                return Some(Stop::Code(code));
            }
            url = next;
        }
        None
    }

    /// Submits the form on `page` (its action is `path` on the page's origin).
    async fn submit(
        &mut self,
        http: &reqwest::Client,
        page_url: &str,
        path: &str,
        form: &[(&str, String)],
    ) -> Option<Stop> {
        let url = url::Url::parse(page_url).ok()?.join(path).ok()?.to_string();
        let r = self.send(http.post(&url).form(form), &url).await?;
        let next = r.headers().get("location")?.to_str().ok()?;
        let next = url::Url::parse(&url).ok()?.join(next).ok()?.to_string();
        self.walk(http, next).await
    }
}

fn authorize_url(base: &str, client_id: &str, challenge: &str) -> String {
    format!("{base}/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT}&scope=openid%20profile&state=st&code_challenge={challenge}&code_challenge_method=S256")
}

async fn redeem(
    http: &reqwest::Client,
    base: &str,
    app: &(String, String),
    code: &str,
    verifier: &str,
) -> bool {
    let r = http
        .post(format!("{base}/token"))
        .basic_auth(&app.0, Some(&app.1))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await;
    super::flows::ok_body(r).await
}

async fn password(b: &mut Browser, http: &reqwest::Client, stop: Stop) -> Option<Stop> {
    let Stop::Page { url, body } = stop else {
        return None;
    };
    let form = [
        ("csrf", hidden(&body, "csrf")),
        ("req", hidden(&body, "req")),
        ("username", CITIZEN.to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    b.submit(http, &url, "/login", &form).await
}

/// A fresh browser logs in at an app of the home province.
pub async fn local_login(http: &reqwest::Client, f: &Federation) -> bool {
    let mut b = Browser::default();
    let verifier = keys::random_token(32);
    let start = authorize_url(
        &f.home.base,
        &f.home_app.0,
        &idp::domain::pkce::s256(&verifier),
    );
    let Some(page) = b.walk(http, start).await else {
        return false;
    };
    match password(&mut b, http, page).await {
        Some(Stop::Code(code)) => redeem(http, &f.home.base, &f.home_app, &code, &verifier).await,
        _ => false,
    }
}

/// A fresh browser logs in at an app of province 51 with its account at home (33).
pub async fn roaming_login(http: &reqwest::Client, f: &Federation) -> bool {
    let mut b = Browser::default();
    let verifier = keys::random_token(32);
    let start = authorize_url(
        &f.province.base,
        &f.province_app.0,
        &idp::domain::pkce::s256(&verifier),
    );
    let Some(Stop::Page { url, body }) = b.walk(http, start).await else {
        return false;
    };
    let form = [
        ("csrf", hidden(&body, "csrf")),
        ("req", hidden(&body, "req")),
        ("id_number", CITIZEN.to_owned()),
    ];
    let Some(at_home) = b.submit(http, &url, "/federation/route", &form).await else {
        return false;
    };
    let mut next = password(&mut b, http, at_home).await;
    // The first time, home asks whether the hub may have the ID number (remembered after).
    if let Some(Stop::Page { url, body }) = &next {
        if !body.contains(r#"name="decision""#) {
            return false;
        }
        let form = [
            ("csrf", hidden(body, "csrf")),
            ("req", hidden(body, "req")),
            ("decision", "allow".to_owned()),
        ];
        next = b.submit(http, &url.clone(), "/consent", &form).await;
    }
    match next {
        Some(Stop::Code(code)) => {
            redeem(http, &f.province.base, &f.province_app, &code, &verifier).await
        }
        _ => false,
    }
}

/// Median milliseconds of `n` sequential runs of each, interleaved (so drift hits both alike),
/// and the errors.
pub async fn measure(http: &reqwest::Client, f: &Federation, n: usize) -> (f64, f64, u64) {
    let (mut local, mut roaming, mut errors) = (Vec::new(), Vec::new(), 0);
    for _ in 0..n {
        let t = Instant::now();
        if local_login(http, f).await {
            local.push(t.elapsed().as_secs_f64())
        } else {
            errors += 1
        }
        let t = Instant::now();
        if roaming_login(http, f).await {
            roaming.push(t.elapsed().as_secs_f64())
        } else {
            errors += 1
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0) * 1000.0
    };
    (median(&mut local), median(&mut roaming), errors)
}
