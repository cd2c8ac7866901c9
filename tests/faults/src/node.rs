//! One `idp` node as real processes: its admin commands and its `idp serve`, which a test may
//! kill with SIGKILL and start again on the same address and database.
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `idp` binary: `IDP_BIN`, else target/debug/idp next to this test binary
/// (target/debug/deps/...), which `cargo test --workspace` builds.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("IDP_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .join("idp");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p idp --bin idp` \
         (`cargo test --workspace` builds it), or point IDP_BIN at an idp binary",
        bin.display()
    );
    bin
}

/// A port nobody listens on yet at `ip`.
pub fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind(format!("{ip}:0"))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// What an admin command did.
#[derive(Debug)]
pub struct CliRun {
    pub ok: bool,
    /// The signal that ended it, if one did (9: killed by the test).
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    pub fn of(out: std::process::Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        Self {
            ok: out.status.success(),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.stdout))
    }

    /// Succeeded with one JSON document, or failed the way the CLI fails on purpose: a non-zero
    /// exit, an `error: ...` line, and no panic.
    pub fn is_clean(&self) -> bool {
        let panicked = self.stderr.contains("panicked") || self.signal.is_some();
        match self.ok {
            true => !panicked && serde_json::from_str::<serde_json::Value>(&self.stdout).is_ok(),
            false => !panicked && self.stderr.contains("error: "),
        }
    }
}

/// Everything an admin command of one node needs; cheap to clone into another thread.
#[derive(Debug, Clone)]
pub struct Admin {
    pub db: String,
    pub base: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Admin {
    pub fn command(&self) -> Command {
        let mut c = Command::new(binary());
        c.env("IDP_DATABASE_URL", &self.db)
            .env("IDP_KEK_FILE", self.dir.join("kek"))
            .env("IDP_ISSUER", &self.base)
            .env("IDP_BIND", self.base.trim_start_matches("http://"))
            // Debug, so the privacy check of `assert_log_clean` reads more than warnings.
            .env("IDP_LOG", "debug")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir);
        c
    }

    /// Starts an admin command without waiting for it (several run at once).
    pub fn spawn_cli(&self, args: &[&str], stdin: Option<&str>) -> Child {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start idp");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(input);
        child
    }

    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliRun {
        CliRun::of(
            self.spawn_cli(args, stdin)
                .wait_with_output()
                .expect("idp ran"),
        )
    }

    /// An admin command that must succeed: its JSON.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> serde_json::Value {
        let run = self.cli(args, stdin);
        assert!(run.ok, "idp {args:?} failed: {}", run.stderr);
        run.json()
    }

    /// `idp user create` for a citizen with the test password.
    pub fn create_user(&self, id_number: &str, name: &str) -> CliRun {
        self.cli(
            &[
                "user",
                "create",
                "--id-number",
                id_number,
                "--name",
                name,
                "--password-stdin",
            ],
            Some(crate::PASSWORD),
        )
    }

    /// A citizen with the test password: their `sub`.
    pub fn user(&self, id_number: &str, name: &str) -> String {
        let run = self.create_user(id_number, name);
        assert!(run.ok, "user create failed: {}", run.stderr);
        run.json()["sub"].as_str().expect("sub").to_owned()
    }

    /// An approved confidential app redirecting to `redirect`, with `extra` arguments:
    /// (client_id, client_secret).
    pub fn app(&self, name: &str, redirect: &str, extra: &[&str]) -> (String, String) {
        let mut args = vec![
            "client",
            "create",
            "--name",
            name,
            "--redirect-uri",
            redirect,
            "--approve",
        ];
        args.extend_from_slice(extra);
        let c = self.ok(&args, None);
        let field = |k: &str| c[k].as_str().expect("client field").to_owned();
        (field("client_id"), field("client_secret"))
    }
}

/// One node: a database, a key-encryption key, an address, and at most one `idp serve`.
/// Its admin commands are those of `Admin` (through `Deref`).
#[derive(Debug)]
pub struct Node {
    /// `http://IP:PORT`, also the issuer.
    pub base: String,
    admin: Admin,
    server: Option<Child>,
    // Last: removed once the server is gone.
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Node {
    type Target = Admin;
    fn deref(&self) -> &Admin {
        &self.admin
    }
}

impl Node {
    /// A node on `ip` (give each federation node its own loopback address: browsers keep
    /// cookies per host), on `db` or else a SQLite file of its own; migrated.
    pub fn new(ip: &str, db: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = db.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("idp.db").display()));
        let base = format!("http://{ip}:{}", free_port(ip));
        let node = Self {
            admin: Admin {
                db,
                base: base.clone(),
                dir: dir.path().to_owned(),
                env: Vec::new(),
            },
            base,
            server: None,
            dir,
        };
        node.ok(&["migrate"], None);
        node
    }

    /// A copy of the admin side, for another thread.
    pub fn admin(&self) -> Admin {
        self.admin.clone()
    }

    /// An extra environment variable for every process of this node.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.admin.env.push((key.to_owned(), value.to_owned()));
    }

    /// The SQLite file, when the node is on SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.admin.db.strip_prefix("sqlite://").map(PathBuf::from)
    }

    /// Starts `idp serve` and returns once it accepts connections (it prints one line then).
    pub async fn serve(&mut self) {
        assert!(self.server.is_none(), "{} is already serving", self.base);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("server log");
        let mut child = self
            .command()
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start idp serve");
        let stdout = child.stdout.take().expect("stdout");
        self.server = Some(child);
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await
        .expect("read the first line");
        assert!(
            line.contains("listening on"),
            "idp serve at {} did not start ({line:?}); its log:\n{}",
            self.base,
            self.log()
        );
    }

    /// SIGKILL: no shutdown, no flush, as a crash or an OOM kill.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.server.take() {
            child.kill().expect("kill -9 idp serve");
            let _ = child.wait();
        }
    }

    /// True while the server process lives (a panic that aborts would end it).
    pub fn server_alive(&mut self) -> bool {
        self.server
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }

    /// Everything every `idp serve` of this node wrote to stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// No thread of the server panicked (actix would carry on, so the log is the only trace),
    /// and nothing private reached the log under faults: no password, no ID number (any run of
    /// 17 digits, the part of a GB 11643 number before its check character).
    pub fn assert_log_clean(&self) {
        let log = self.log();
        assert!(
            !log.contains("panicked"),
            "idp serve at {} panicked:\n{log}",
            self.base
        );
        assert!(
            !log.contains(crate::PASSWORD),
            "a password reached the log:\n{log}"
        );
        if let Some(line) = log.lines().find(|l| has_digit_run(l, 17)) {
            panic!("an ID number may have reached the log: {line}");
        }
    }
}

fn has_digit_run(text: &str, len: usize) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= len {
            return true;
        }
    }
    false
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}
