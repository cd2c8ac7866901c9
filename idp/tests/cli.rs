//! The `idp` binary's admin commands, run as an operator would, on a SQLite file of their own.
//! Nothing the operator types as personal data or secret ever comes back on stdout or stderr.
#![allow(clippy::unwrap_used)]
mod common;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "operator-typed secret 42";

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|_| panic!("not JSON: {}\n{}", self.stdout, self.stderr))
    }
}

/// One operator's workspace: a database file and a KEK file in a temporary folder.
struct Operator {
    dir: tempfile::TempDir,
    /// Everything printed so far (checked for personal data).
    printed: std::cell::RefCell<String>,
}

impl Operator {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            printed: Default::default(),
        }
    }

    fn db_path(&self) -> PathBuf {
        self.dir.path().join("idp.db")
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = base_command(self.dir.path());
        cmd.env(
            "IDP_DATABASE_URL",
            format!("sqlite://{}", self.db_path().display()),
        )
        .env("IDP_KEK_FILE", self.dir.path().join("kek"));
        let run = execute(cmd, args, stdin);
        self.printed.borrow_mut().push_str(&run.stdout);
        self.printed.borrow_mut().push_str(&run.stderr);
        run
    }

    fn ok(&self, args: &[&str]) -> Value {
        let run = self.run(args, None);
        assert!(run.ok, "{args:?} failed: {}", run.stderr);
        run.json()
    }

    fn db(&self) -> SqliteConnection {
        SqliteConnection::establish(self.db_path().to_str().unwrap()).unwrap()
    }

    fn assert_private(&self, secrets: &[&str]) {
        let printed = self.printed.borrow();
        for s in secrets {
            assert!(!printed.contains(s), "{s:?} was printed:\n{printed}");
        }
    }
}

fn base_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idp"));
    cmd.current_dir(cwd)
        .env("IDP_LOG", "info")
        .env_remove("IDP_KEK_FILE")
        .env_remove("IDP_DATABASE_URL")
        .env_remove("IDP_ISSUER")
        .env_remove("IDP_BIND");
    cmd
}

fn execute(mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Run {
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
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn users(conn: &mut SqliteConnection) -> i64 {
    idp::store::schema::users::table
        .count()
        .get_result(conn)
        .unwrap()
}

#[test]
fn users_are_created_with_checked_id_numbers_and_nothing_private_is_printed() {
    let op = Operator::new();
    let migrated = op.ok(&["migrate"]);
    assert!(migrated["applied"].is_number(), "{migrated}");
    let citizen = common::id_number(33, 111);
    let last = citizen.chars().last().unwrap();
    let typo = format!("{}{}", &citizen[..17], if last == '1' { '2' } else { '1' });
    let create = |id: &str, pw: &str| {
        op.run(
            &[
                "user",
                "create",
                "--id-number",
                id,
                "--name",
                "王五",
                "--password-stdin",
            ],
            Some(&format!("{pw}\n")),
        )
    };
    let bad = create(&typo, PASSWORD);
    assert!(!bad.ok);
    assert!(bad.stderr.contains("check digit"), "{}", bad.stderr);
    assert_eq!(users(&mut op.db()), 0, "nothing created");

    let good = create(&citizen, PASSWORD);
    assert!(good.ok, "{}", good.stderr);
    let sub = good.json()["sub"].as_str().unwrap().to_owned();
    assert!(sub.len() >= 16);
    assert_eq!(users(&mut op.db()), 1);

    let again = create(&citizen, "another password 1");
    assert!(!again.ok);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let short = create(&common::id_number(51, 112), "short");
    assert!(!short.ok);
    assert_eq!(users(&mut op.db()), 1);
    // The ID number is stored only sealed and as a keyed hash.
    let mut conn = op.db();
    let lookups: Vec<Option<String>> = idp::store::schema::users::table
        .select(idp::store::schema::users::id_number_lookup)
        .load(&mut conn)
        .unwrap();
    assert!(!lookups[0].as_deref().unwrap().contains(&citizen));
    let file = std::fs::read(op.db_path()).unwrap();
    assert!(
        !file.windows(18).any(|w| w == citizen.as_bytes()),
        "not in the file"
    );
    op.assert_private(&[&citizen, &typo, PASSWORD, "another password 1"]);
}

#[test]
fn the_app_registry_from_the_command_line() {
    let op = Operator::new();
    let create = |name: &str| {
        op.ok(&[
            "client",
            "create",
            "--name",
            name,
            "--redirect-uri",
            "https://app.example/cb",
        ])
    };
    let a = create("甲");
    assert_eq!(a["status"], "pending");
    assert!(a["client_secret"].as_str().unwrap().len() >= 40);
    let (b, c) = (create("乙"), create("丙"));
    let id = |v: &Value| v["client_id"].as_str().unwrap().to_owned();
    assert_eq!(op.ok(&["client", "approve", &id(&a)])["status"], "approved");
    assert_eq!(
        op.ok(&["client", "reject", &id(&b), "--reason", "no privacy policy"])["status"],
        "rejected"
    );
    assert_eq!(
        op.ok(&["client", "suspend", &id(&a), "--reason", "abuse"])["status"],
        "suspended"
    );
    // Ids are base64url: one starting with '-' is an id, not an option.
    for id in ["no-such-app", "-TOwKci9IXd_rNAUTuo9aQ"] {
        let missing = op.run(&["client", "approve", id], None);
        assert!(
            !missing.ok && missing.stderr.contains("no app"),
            "{}",
            missing.stderr
        );
    }
    let bad = op.run(
        &[
            "client",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "http://app.example/cb",
        ],
        None,
    );
    assert!(!bad.ok, "plain http redirect URIs are refused");

    let list = op.ok(&["client", "list"]);
    let status = |cid: String| {
        let entry = list
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["client_id"] == cid.as_str())
            .unwrap();
        (
            entry["status"].as_str().unwrap().to_owned(),
            entry["reason"].clone(),
        )
    };
    assert_eq!(status(id(&a)), ("suspended".into(), "abuse".into()));
    assert_eq!(
        status(id(&b)),
        ("rejected".into(), "no privacy policy".into())
    );
    assert_eq!(status(id(&c)).0, "pending");
    assert_eq!(list.as_array().unwrap().len(), 3);

    let stats = op.ok(&["client", "stats", &id(&a)]);
    assert_eq!(
        (
            stats["logins"].as_i64(),
            stats["tokens"].as_i64(),
            stats["errors"].as_i64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert!(!op.run(&["client", "stats", "no-such-app"], None).ok);

    let token = op.ok(&["client", "registration-token", "--approve"]);
    assert_eq!(token["approve"], true);
    let token = token["token"].as_str().unwrap();
    use idp::store::schema::initial_access_tokens as t;
    let approve: bool = t::table
        .filter(t::token_hash.eq(keys::sha256_b64(token.as_bytes())))
        .select(t::approve)
        .first(&mut op.db())
        .unwrap();
    assert!(approve, "stored as a hash, approving");

    // Pairwise subjects: the sector the operator names, or the one host of the redirect URIs.
    let create = |extra: &[&str]| {
        let mut args = vec!["client", "create", "--name", "医保", "--approve"];
        args.extend_from_slice(extra);
        op.run(&args, None)
    };
    let health = create(&[
        "--redirect-uri",
        "https://yibao.example/cb",
        "--pairwise",
        "--sector",
        "Health.gov.example",
    ]);
    assert!(health.ok, "{}", health.stderr);
    let by_host = create(&["--redirect-uri", "https://tax.example/cb", "--pairwise"]);
    assert!(by_host.ok, "{}", by_host.stderr);
    use idp::store::schema::clients as c;
    let sector_of = |run: &Run| -> Value {
        let metadata: String = c::table
            .find(run.json()["client_id"].as_str().unwrap())
            .select(c::metadata)
            .first(&mut op.db())
            .unwrap();
        let m: Value = serde_json::from_str(&metadata).unwrap();
        assert_eq!(m["subject_type"], "pairwise");
        m["sector_identifier"].clone()
    };
    assert_eq!(sector_of(&health), "health.gov.example");
    assert_eq!(sector_of(&by_host), "tax.example");
    let two_hosts = create(&[
        "--redirect-uri",
        "https://a.example/cb",
        "--redirect-uri",
        "https://b.example/cb",
        "--pairwise",
    ]);
    assert!(
        !two_hosts.ok && two_hosts.stderr.contains("sector"),
        "{}",
        two_hosts.stderr
    );
    let sector_alone = create(&["--redirect-uri", "https://a.example/cb", "--sector", "x"]);
    assert!(!sector_alone.ok, "--sector needs --pairwise");
}

#[test]
fn keys_rotate_keeps_the_old_keys_published() {
    let op = Operator::new();
    let states = |list: &Value| -> Vec<String> {
        let mut s: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["state"].as_str().unwrap().to_owned())
            .collect();
        s.sort();
        s
    };
    let first = op.ok(&["keys", "list"]);
    assert_eq!(states(&first), ["active", "active"]);
    let algs: Vec<&str> = first
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert!(
        algs.contains(&"ES256") && algs.contains(&"RS256"),
        "{algs:?}"
    );
    let rotated = op.ok(&["keys", "rotate"]);
    assert_eq!(rotated["active"].as_array().unwrap().len(), 2);
    let after = op.ok(&["keys", "list"]);
    assert_eq!(
        states(&after),
        [
            "active",
            "active",
            "retired, still published",
            "retired, still published"
        ]
    );
    for kid in rotated["active"].as_array().unwrap() {
        let k = after
            .as_array()
            .unwrap()
            .iter()
            .find(|k| &k["kid"] == kid)
            .unwrap();
        assert_eq!(k["state"], "active");
    }
    let text = op.printed.borrow().clone();
    assert!(!text.contains("\"d\""), "no private key member printed");
}

#[test]
fn provinces_are_added_listed_and_disabled_and_their_secrets_stay_sealed() {
    let op = Operator::new();
    let secret = "zhejiang-gives-the-hub-this-secret";
    let add = |code: &str, name: &str, issuer: &str, stdin: &str| {
        op.run(
            &[
                "province",
                "add",
                "--code",
                code,
                "--name",
                name,
                "--issuer",
                issuer,
                "--client-id",
                "national-hub",
                "--client-secret-stdin",
            ],
            Some(stdin),
        )
    };
    let added = add("33", "浙江", "https://zj.example", secret);
    assert!(added.ok, "{}", added.stderr);
    assert_eq!(added.json()["enabled"], true);
    assert!(add("51", "四川", "https://sc.example", secret).ok);
    // Bad input: a clear message, nothing stored.
    for (code, issuer, stdin, says) in [
        ("3", "https://x.example", secret, "region code"),
        ("44", "http://gd.example", secret, "https"),
        ("44", "https://gd.example", "short", "client secret"),
        ("33", "https://other.example", secret, "exists already"),
    ] {
        let refused = add(code, "某省", issuer, stdin);
        assert!(!refused.ok, "{code} {issuer}");
        assert!(refused.stderr.contains(says), "{says}: {}", refused.stderr);
    }
    let secret_flag_missing = op.run(
        &[
            "province",
            "add",
            "--code",
            "44",
            "--name",
            "广东",
            "--issuer",
            "https://gd.example",
            "--client-id",
            "hub",
        ],
        Some(secret),
    );
    assert!(!secret_flag_missing.ok);
    let list = op.ok(&["province", "list"]);
    let codes: Vec<_> = list["upstreams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["code"].as_str().unwrap().to_owned(), u["enabled"] == true))
        .collect();
    assert_eq!(codes, [("33".to_owned(), true), ("51".to_owned(), true)]);
    op.ok(&["province", "disable", "51"]);
    assert_eq!(
        op.ok(&["province", "list"])["upstreams"][1]["enabled"],
        false
    );
    op.ok(&["province", "enable", "51"]);
    assert!(!op.run(&["province", "disable", "99"], None).ok);
    // The secret is sealed in the database and never printed.
    let sealed: Vec<u8> = {
        use diesel::sql_types::Binary;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Binary)]
            client_secret_sealed: Vec<u8>,
        }
        diesel::sql_query("SELECT client_secret_sealed FROM upstreams WHERE code = '33'")
            .get_result::<Row>(&mut op.db())
            .unwrap()
            .client_secret_sealed
    };
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));
    // Bulk import: all lines or none.
    let line = |code: &str| {
        format!(
            r#"{{"code":"{code}","name":"县{code}","issuer":"https://{code}.example","client_id":"hub","client_secret":"{secret}"}}"#
        )
    };
    let good = [line("330106"), line("330108"), line("3302")].join("\n");
    let imported = op.run(&["province", "import"], Some(&good));
    assert!(imported.ok, "{}", imported.stderr);
    assert_eq!(imported.json()["imported"], 3);
    for bad in [
        [line("440101"), line("4401x")].join("\n"),
        [line("440101"), line("440101")].join("\n"),
        [line("440101"), line("330106")].join("\n"),
    ] {
        let refused = op.run(&["province", "import"], Some(&bad));
        assert!(!refused.ok, "{bad}");
    }
    let count = op.ok(&["province", "list"])["upstreams"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(count, 5, "nothing of a refused import is stored");
    op.assert_private(&[secret]);
    assert_eq!(op.ok(&["audit", "verify"])["intact"], true);
}

#[test]
fn audit_verify_finds_tampering_in_the_file() {
    let op = Operator::new();
    op.ok(&[
        "client",
        "create",
        "--name",
        "甲",
        "--redirect-uri",
        "https://app.example/cb",
    ]);
    op.ok(&["keys", "rotate"]);
    let ok = op.ok(&["audit", "verify"]);
    assert_eq!(ok["intact"], true);
    assert!(ok["verified_entries"].as_i64().unwrap() >= 2, "{ok}");
    op.db()
        .batch_execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
        .unwrap();
    let broken = op.run(&["audit", "verify"], None);
    assert!(!broken.ok, "{}", broken.stdout);
    assert!(
        broken.stderr.contains("entry 1 was altered"),
        "{}",
        broken.stderr
    );
}

#[test]
fn a_kek_is_created_private_with_a_warning_when_none_is_configured() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = base_command(dir.path());
        cmd.env("IDP_DATABASE_URL", "sqlite://idp.db");
        execute(cmd, args, None)
    };
    let first = run(&["keys", "list"]);
    assert!(first.ok, "{}", first.stderr);
    let kek = dir.path().join("idp.kek");
    let mode = std::fs::metadata(&kek).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    assert!(
        first.stderr.contains("IDP_KEK_FILE"),
        "a warning: {}",
        first.stderr
    );
    assert!(dir.path().join("idp.db").exists());
    // The second run uses the same key, silently.
    let second = run(&["keys", "list"]);
    assert!(second.ok, "{}", second.stderr);
    assert!(!second.stderr.contains("IDP_KEK_FILE"), "{}", second.stderr);
    assert_eq!(
        second.stdout, first.stdout,
        "the same keys, unsealed with the same KEK"
    );
}

#[test]
fn licences_are_imported_all_or_nothing_offered_and_revoked() {
    let op = Operator::new();
    let citizen = common::id_number(51, 9);
    let file = op.dir.path().join("licences.json");
    let write = |records: serde_json::Value| std::fs::write(&file, records.to_string()).unwrap();
    let good = serde_json::json!({"type": "resident_id", "holder": citizen, "claims": {
        "name": "赵六", "sex": "男", "birth_date": "1980-01-10", "address": "四川省成都市武侯区某街道 1 号",
        "issuing_authority": "成都市公安局武侯分局"}, "valid_until": "2040-12-31"});
    let company = serde_json::json!({"type": "business_licence", "holder": "91330100799655058B",
        "claims": {"company_name": "某某有限公司", "company_type": "有限责任公司", "legal_representative": "赵六",
        "established": "2007-03-26", "address": "杭州市", "business_scope": "软件"}});

    // One wrong record among good ones: nothing is imported, every problem is reported.
    write(
        serde_json::json!([good, {"type": "resident_id", "holder": "510105198001100001",
        "claims": {"name": "x"}}, {"type": "passport", "holder": citizen, "claims": {}}]),
    );
    let run = op.run(&["licence", "import", file.to_str().unwrap()], None);
    assert!(!run.ok);
    for expected in [
        "nothing imported: 2 of 3 records are wrong",
        "record 1: holder:",
        "record 1: claims.sex: required",
        "record 2: type: unknown licence type",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    let count = |conn: &mut SqliteConnection| -> i64 {
        idp::store::schema::licences::table
            .count()
            .get_result(conn)
            .unwrap()
    };
    assert_eq!(count(&mut op.db()), 0);
    let run = op.run(&["licence", "import", "/no/such/file.json"], None);
    assert!(
        !run.ok && run.stderr.contains("/no/such/file.json"),
        "{}",
        run.stderr
    );

    write(serde_json::json!([good, company]));
    let imported = op.ok(&["licence", "import", file.to_str().unwrap()]);
    assert_eq!(imported.as_array().unwrap().len(), 2, "{imported}");
    assert_eq!(imported[0]["type"], "resident_id");
    assert_eq!(imported[0]["holder"], citizen.as_str());
    assert_eq!(imported[1]["holder"], "91330100799655058B");
    let id = imported[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(count(&mut op.db()), 2);
    // Claims are sealed at rest: the address is nowhere in the database file.
    let bytes = std::fs::read(op.db_path()).unwrap();
    let needle = "四川省成都市武侯区".as_bytes();
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "a claim is stored in clear"
    );

    let offer = op.ok(&[
        "licence",
        "offer",
        "--id-number",
        &citizen,
        "--type",
        "resident_id",
    ]);
    assert!(offer["offer"]
        .as_str()
        .unwrap()
        .starts_with("openid-credential-offer://?credential_offer="));
    assert_eq!(offer["tx_code"].as_str().unwrap().len(), 6);
    let run = op.run(
        &[
            "licence",
            "offer",
            "--id-number",
            &citizen,
            "--type",
            "driving_licence",
        ],
        None,
    );
    assert!(
        !run.ok && run.stderr.contains("no active licence"),
        "{}",
        run.stderr
    );

    assert_eq!(op.ok(&["licence", "suspend", &id])["state"], "suspended");
    let run = op.run(
        &[
            "licence",
            "offer",
            "--id-number",
            &citizen,
            "--type",
            "resident_id",
        ],
        None,
    );
    assert!(!run.ok, "a suspended licence is not offered");
    assert_eq!(op.ok(&["licence", "reinstate", &id])["state"], "active");
    assert_eq!(op.ok(&["licence", "revoke", &id])["state"], "revoked");
    let run = op.run(&["licence", "reinstate", &id], None);
    assert!(
        !run.ok && run.stderr.contains("revocation is final"),
        "{}",
        run.stderr
    );
    let run = op.run(&["licence", "revoke", "lic_nosuch"], None);
    assert!(
        !run.ok && run.stderr.contains("no licence has that id"),
        "{}",
        run.stderr
    );

    // The root certificate is made once and stays the same.
    let pem = op.run(&["keys", "root-ca"], None);
    assert!(pem.ok, "{}", pem.stderr);
    assert!(
        pem.stdout.starts_with("-----BEGIN CERTIFICATE-----"),
        "{}",
        pem.stdout
    );
    assert_eq!(op.run(&["keys", "root-ca"], None).stdout, pem.stdout);
    let der = keys::der_from_pem(&pem.stdout).unwrap();
    assert!(
        wallet_verifier::sd_jwt::Verifier::new(vec![der]).is_ok(),
        "a usable trust anchor"
    );
}

#[test]
fn a_citizens_data_is_exported_and_erased_by_id_number_read_from_stdin() {
    let op = Operator::new();
    let citizen = common::id_number(33, 320);
    let created = op.run(
        &[
            "user",
            "create",
            "--id-number",
            &citizen,
            "--name",
            "赵六",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(created.ok, "{}", created.stderr);
    let sub = created.json()["sub"].as_str().unwrap().to_owned();
    // Which citizen must be said, one way only.
    assert!(!op.run(&["user", "export"], None).ok);
    assert!(
        !op.run(
            &["user", "export", "--sub", &sub, "--id-number-stdin"],
            Some(&citizen)
        )
        .ok
    );
    // Subjects are base64url: one may start with '-', and is still taken as a value.
    let hyphen = op.run(
        &["operator", "grant", "--sub", "-x59L6", "--role", "apps"],
        None,
    );
    assert!(
        hyphen.stderr.contains("no citizen has that subject"),
        "{}",
        hyphen.stderr
    );
    let unknown = op.run(&["user", "export", "--sub", "nobody"], None);
    assert!(
        !unknown.ok && unknown.stderr.contains("no such citizen"),
        "{}",
        unknown.stderr
    );

    let export = op.run(&["user", "export", "--id-number-stdin"], Some(&citizen));
    assert!(export.ok, "{}", export.stderr);
    let data = export.json();
    assert_eq!(data["account"]["sub"], sub.as_str());
    assert_eq!(data["account"]["name"], "赵六");
    // An erasure must be confirmed.
    assert!(!op.run(&["user", "delete", "--sub", &sub], None).ok);
    let erased = op.ok(&["user", "delete", "--sub", &sub, "--yes"]);
    assert_eq!(erased["erased"], sub.as_str());
    assert_eq!(users(&mut op.db()), 0);
    let again = op.run(&["user", "delete", "--sub", &sub, "--yes"], None);
    assert!(!again.ok);
    // The export went to the operator's terminal on purpose; nothing else printed the number.
    assert_eq!(op.printed.borrow().matches(citizen.as_str()).count(), 1);
    assert_eq!(op.ok(&["audit", "verify"])["intact"], true);
}
