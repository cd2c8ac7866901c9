//! 扫码亮证 with the real programs, as the people involved use them: an operator imports a
//! licence and makes an offer (`idp`), the citizen receives it and shows two claims (`wallet`),
//! and a counter checks it against the national root, online and offline (`verifier`).
//! The `idp` binary comes from the same build (`cargo test --workspace` builds it).
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Out {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|_| panic!("not JSON: {}\n{}", self.stdout, self.stderr))
    }
}

fn run(mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Out {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    Out {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

struct Desk {
    dir: tempfile::TempDir,
    issuer: String,
    port: u16,
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Desk {
    fn new() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            dir: tempfile::tempdir().unwrap(),
            issuer: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn idp(&self) -> Command {
        let bin = Path::new(env!("CARGO_BIN_EXE_wallet")).with_file_name("idp");
        assert!(
            bin.exists(),
            "{} is missing: build the workspace (cargo test --workspace)",
            bin.display()
        );
        let mut c = Command::new(bin);
        c.env(
            "IDP_DATABASE_URL",
            format!("sqlite://{}", self.path("idp.db").display()),
        )
        .env("IDP_KEK_FILE", self.path("kek"))
        .env("IDP_ISSUER", &self.issuer)
        .env("IDP_BIND", format!("127.0.0.1:{}", self.port))
        .env("IDP_LOG", "warn");
        c
    }

    fn operator(&self, args: &[&str]) -> Value {
        let out = run(self.idp(), args, None);
        assert!(out.ok, "idp {args:?}: {}", out.stderr);
        out.json()
    }

    /// The operator imports the citizen's ID card and saves the national root: the licence id.
    fn import_resident_id(&self, citizen: &str) -> String {
        let records = json!([{"type": "resident_id", "holder": citizen, "claims": {"name": "赵六",
            "sex": "男", "birth_date": "1980-01-10", "address": "成都市武侯区",
            "issuing_authority": "成都市公安局"}}]);
        std::fs::write(self.path("licences.json"), records.to_string()).unwrap();
        let imported = self.operator(&[
            "licence",
            "import",
            self.path("licences.json").to_str().unwrap(),
        ]);
        let root = run(self.idp(), &["keys", "root-ca"], None);
        std::fs::write(self.path("root.pem"), root.stdout).unwrap();
        imported[0]["id"].as_str().unwrap().to_owned()
    }

    /// The operator's offer of the citizen's ID card: {"offer", "tx_code"}.
    fn offer(&self, citizen: &str) -> Value {
        self.operator(&[
            "licence",
            "offer",
            "--id-number",
            citizen,
            "--type",
            "resident_id",
        ])
    }

    fn serve(&self) -> Server {
        let mut child = self
            .idp()
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening on"), "idp did not start: {line:?}");
        Server(child)
    }

    fn wallet(&self, args: &[&str]) -> Out {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wallet"));
        c.arg("--state").arg(self.path("wallet.json"));
        run(c, args, None)
    }

    fn verifier(&self, presentation: &str, extra: &[&str]) -> Out {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verifier"));
        // Its default cache folder is relative: keep it in the desk's temporary folder.
        c.current_dir(self.dir.path());
        let root = self.path("root.pem");
        let mut args = vec!["verify", "--trust-root", root.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(c, &args, Some(presentation))
    }
}

fn citizen() -> String {
    // A GB 11643 number with its check digit computed here.
    let first17 = b"51010519800110001";
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{}{check}", std::str::from_utf8(first17).unwrap())
}

#[test]
fn a_citizen_receives_a_licence_and_shows_two_claims_at_a_counter() {
    let desk = Desk::new();
    let citizen = citizen();
    let licence_id = desk.import_resident_id(&citizen);
    let server = desk.serve();

    // A wrong transaction code gets nothing; the right one gets the licence.
    let offer = desk.offer(&citizen);
    let link = offer["offer"].as_str().unwrap();
    let tx = offer["tx_code"].as_str().unwrap();
    let wrong = if tx == "111111" { "222222" } else { "111111" };
    let refused = desk.wallet(&["licence", "receive", link, "--tx-code", wrong]);
    assert!(
        !refused.ok && refused.stderr.contains("invalid_grant"),
        "{}",
        refused.stderr
    );
    let received = desk.wallet(&["licence", "receive", link, "--tx-code", tx]);
    assert!(received.ok, "{}", received.stderr);
    assert_eq!(received.json()["type"], "resident_id");
    let listed = desk.wallet(&["licence", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        !desk.wallet(&["licence", "list"]).stdout.contains("赵六"),
        "the list shows names of claims, not values"
    );

    let show = || {
        let out = desk.wallet(&[
            "licence",
            "present",
            "resident_id",
            "--claims",
            "name,birth_date",
            "--qr",
        ]);
        assert!(out.ok, "{}", out.stderr);
        assert!(out.stderr.contains('█'), "a QR code is drawn");
        out.json().as_str().unwrap().to_owned()
    };
    let shown = show();
    let cache = desk.path("cache");
    let cache = cache.to_str().unwrap();
    let checked = desk.verifier(&shown, &["--cache-dir", cache]);
    assert!(checked.ok, "{}{}", checked.stdout, checked.stderr);
    let answer = checked.json();
    assert_eq!(answer["valid"], true);
    assert_eq!(
        answer["claims"],
        json!({"name": "赵六", "birth_date": "1980-01-10"})
    );
    assert_eq!(answer["status"]["state"], "valid");
    // The same shown code again (a photo of the phone): refused at this counter.
    let again = desk.verifier(&shown, &["--cache-dir", cache]);
    assert_eq!(
        (again.code, again.json()["code"].as_str()),
        (Some(1), Some("replayed_nonce")),
        "{}",
        again.stdout
    );

    // Someone else's root: refused with the reason.
    let other = desk.path("other.pem");
    let other_root = {
        let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
        keys::pem(&keys::root_certificate(&key, "Not the national root", 0, 4_000_000_000).unwrap())
    };
    std::fs::write(&other, other_root).unwrap();
    let mut elsewhere = Command::new(env!("CARGO_BIN_EXE_verifier"));
    elsewhere.current_dir(desk.dir.path());
    let out = run(
        elsewhere,
        &[
            "verify",
            "--trust-root",
            other.to_str().unwrap(),
            "--offline",
        ],
        Some(&shown),
    );
    assert_eq!(
        (out.code, out.json()["code"].as_str()),
        (Some(1), Some("untrusted_root")),
        "{}",
        out.stdout
    );
    // A tampered presentation: refused.
    let tampered = shown.replacen('~', "~WyJ4IiwibmFtZSIsIuadjuWbmyJd~", 1);
    let out = desk.verifier(&tampered, &["--offline"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    // Shown for another audience: refused.
    let out = desk.verifier(&shown, &["--offline", "--audience", "https://bank.example"]);
    assert_eq!(out.json()["code"], "wrong_audience");

    // Revoked: a counter that fetches the list now sees it.
    desk.operator(&["licence", "revoke", &licence_id]);
    let fresh_cache = desk.path("fresh-cache");
    let out = desk.verifier(&show(), &["--cache-dir", fresh_cache.to_str().unwrap()]);
    assert_eq!(
        (out.code, out.json()["code"].as_str()),
        (Some(1), Some("revoked")),
        "{}",
        out.stdout
    );

    // Offline: without any list the status cannot be checked; --offline says it did not check.
    drop(server);
    let empty = desk.path("empty-cache");
    let out = desk.verifier(&show(), &["--cache-dir", empty.to_str().unwrap()]);
    assert_eq!(
        (out.code, out.json()["code"].as_str()),
        (Some(1), Some("status_unavailable")),
        "{}",
        out.stdout
    );
    let out = desk.verifier(&show(), &["--offline"]);
    assert!(out.ok, "{}", out.stdout);
    assert_eq!(out.json()["status"], "not checked (offline)");
    // The list cached before the revocation still serves within its ttl, and says how old it is.
    let out = desk.verifier(&show(), &["--cache-dir", cache]);
    assert!(out.ok, "{}", out.stdout);
    assert!(out.json()["status"]["list_age_secs"].is_number());
}

struct Counter(Child);

impl Drop for Counter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// OpenID4VP: the counter's screen asks for two claims of an ID card; the citizen's wallet says
/// who asks, then answers; the counter sees exactly those claims, verified. A request is
/// answered once, and a presentation made for another verifier is refused.
#[test]
fn a_counter_asks_for_two_claims_and_the_wallet_answers_with_them() {
    let desk = Desk::new();
    let citizen = citizen();
    desk.import_resident_id(&citizen);
    let _idp = desk.serve();
    let offer = desk.offer(&citizen);
    let received = desk.wallet(&[
        "licence",
        "receive",
        offer["offer"].as_str().unwrap(),
        "--tx-code",
        offer["tx_code"].as_str().unwrap(),
    ]);
    assert!(received.ok, "{}", received.stderr);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let counter_token = "counter-7f3a9c2e51b84d06";
    let mut child = Command::new(env!("CARGO_BIN_EXE_verifier"))
        .env("VERIFIER_COUNTER_TOKEN", counter_token)
        .args([
            "serve",
            "--trust-root",
            desk.path("root.pem").to_str().unwrap(),
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &base,
            "--cache-dir",
            desk.path("counter-cache").to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("listening on"),
        "the verifier did not start: {line:?}"
    );
    let _counter = Counter(child);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let ask = |claims: Value| {
        runtime.block_on(async {
            let r = http
                .post(format!("{base}/presentations"))
                .bearer_auth(counter_token)
                .json(&json!({"vct": "urn:cn:gov:licence:resident-id:1", "claims": claims}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()
        })
    };
    let outcome = |id: &str| -> Value {
        runtime.block_on(async {
            http.get(format!("{base}/presentations/{id}"))
                .bearer_auth(counter_token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };

    let asked = ask(json!(["name", "birth_date"]));
    // Whoever sees the QR code (its request id) reads nothing, and makes no request.
    let (read, made) = runtime.block_on(async {
        let id = asked["id"].as_str().unwrap();
        let read = http
            .get(format!("{base}/presentations/{id}"))
            .send()
            .await
            .unwrap()
            .status();
        let made = http
            .post(format!("{base}/presentations"))
            .bearer_auth("not-the-counter-token")
            .json(&json!({"vct": "urn:cn:gov:licence:resident-id:1", "claims": ["name"]}))
            .send()
            .await
            .unwrap()
            .status();
        (read.as_u16(), made.as_u16())
    });
    assert_eq!((read, made), (401, 401));
    let link = asked["link"].as_str().unwrap();
    assert!(
        link.starts_with("openid4vp://?client_id=redirect_uri%3A"),
        "{link}"
    );
    let question = desk.wallet(&["licence", "answer", link]);
    assert!(question.ok, "{}", question.stderr);
    assert_eq!(
        question.json()["asks"]["claims"],
        json!(["name", "birth_date"])
    );
    assert_eq!(
        outcome(asked["id"].as_str().unwrap())["status"],
        "pending",
        "nothing is sent without --yes"
    );
    let answered = desk.wallet(&["licence", "answer", link, "--yes"]);
    assert!(answered.ok, "{}", answered.stderr);
    let seen = outcome(asked["id"].as_str().unwrap());
    assert_eq!(seen["status"], "verified", "{seen}");
    assert_eq!(
        seen["answer"]["claims"],
        json!({"name": "赵六", "birth_date": "1980-01-10"})
    );
    assert_eq!(seen["answer"]["status"]["state"], "valid");
    // Answered once: the same link gets nothing more.
    let again = desk.wallet(&["licence", "answer", link, "--yes"]);
    assert!(!again.ok, "{}", again.stdout);

    assert!(
        asked["qr_svg"].as_str().unwrap().contains("<svg"),
        "the screen gets a QR code to draw"
    );

    // Same-device: the asking page gets the citizen back with a code, and only the code opens
    // the result.
    let asked = runtime.block_on(async {
        http.post(format!("{base}/presentations"))
            .bearer_auth(counter_token)
            .json(
                &json!({"vct": "urn:cn:gov:licence:resident-id:1", "claims": ["name"],
                "return_to": "https://shop.example/checkout?step=2"}),
            )
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    let answered = desk.wallet(&[
        "licence",
        "answer",
        asked["link"].as_str().unwrap(),
        "--yes",
    ]);
    assert!(answered.ok, "{}", answered.stderr);
    let back = answered.json()["verifier_says"]["redirect_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = back
        .strip_prefix("https://shop.example/checkout?step=2&response_code=")
        .expect("back to the page");
    let id = asked["id"].as_str().unwrap();
    let without = runtime.block_on(async {
        http.get(format!("{base}/presentations/{id}"))
            .bearer_auth(counter_token)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(
        without, 403,
        "the link alone does not open a same-device result"
    );
    let with: Value = runtime.block_on(async {
        http.get(format!("{base}/presentations/{id}?response_code={code}"))
            .bearer_auth(counter_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(with["status"], "verified", "{with}");

    // A presentation made for another verifier, posted to this one with the right state.
    let asked = ask(json!(["name"]));
    let (client_id, request_uri) =
        wallet_verifier::oid4vp::parse_link(asked["link"].as_str().unwrap()).unwrap();
    let object = runtime.block_on(async {
        http.get(&request_uri)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let request = wallet_verifier::oid4vp::parse_request_object(&object, &client_id).unwrap();
    let elsewhere = desk.wallet(&[
        "licence",
        "present",
        "resident_id",
        "--claims",
        "name",
        "--audience",
        "redirect_uri:https://elsewhere.example/cb",
        &format!("--nonce={}", request.nonce),
    ]);
    let shown = elsewhere.json().as_str().unwrap().to_owned();
    let status = runtime.block_on(async {
        http.post(&request.response_uri)
            .form(&[
                ("vp_token", wallet_verifier::oid4vp::vp_token(&shown)),
                ("state", request.state.clone()),
            ])
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 400);
    let seen = outcome(asked["id"].as_str().unwrap());
    assert_eq!(
        (seen["status"].as_str(), seen["code"].as_str()),
        (Some("refused"), Some("wrong_audience")),
        "{seen}"
    );
}
