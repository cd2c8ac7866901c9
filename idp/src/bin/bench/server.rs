//! The server under test: an `idp serve` child on a fresh database with a citizen and an app,
//! and what /proc says about its CPU time and memory.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Server {
    pub child: Child,
    pub base: String,
    /// The QR events listener (`IDP_QR_EVENTS_BIND`): where a load balancer sends `/qr/status`.
    pub events_base: String,
    pub issuer: String,
    /// When the process was started, for the start-up time.
    pub spawned: std::time::Instant,
    pub _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the load tasks need of the server (the process itself stays with `main`).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base: String,
    pub issuer: String,
}

impl Server {
    pub fn clone_for_workers(&self) -> Endpoint {
        Endpoint {
            base: self.base.clone(),
            issuer: self.issuer.clone(),
        }
    }
}

pub fn idp_binary() -> PathBuf {
    std::env::current_exe().unwrap().with_file_name("idp")
}

pub fn idp(
    dir: &std::path::Path,
    db: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> serde_json::Value {
    run_idp(dir, db, args, stdin).unwrap_or_else(|why| panic!("idp {args:?} failed: {why}"))
}

/// An `idp` command whose failure the caller expects (an account already there when a
/// database is reused); None when it fails.
pub fn try_idp(
    dir: &std::path::Path,
    db: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Option<serde_json::Value> {
    run_idp(dir, db, args, stdin).ok()
}

/// An `idp` command: its JSON output, or what it said on standard error.
fn run_idp(
    dir: &std::path::Path,
    db: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<serde_json::Value, String> {
    use std::io::Write;
    let mut child = Command::new(idp_binary())
        .args(args)
        .env("IDP_DATABASE_URL", db)
        .env("IDP_KEK_FILE", dir.join("kek"))
        .env("IDP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run idp (build it first: cargo build -p idp)");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

pub const ID_NUMBER: &str = "11010519491231002X";
pub const PASSWORD: &str = "correct horse battery";
pub const REDIRECT: &str = "http://127.0.0.1:9/cb";

pub struct Fixture {
    /// The database the server runs on (the CLI writes to it alongside).
    pub db: String,
    pub client_id: String,
    pub secret: String,
    /// The government app (public, DPoP-bound tokens).
    pub app_client_id: String,
}

pub const APP_REDIRECT: &str = "http://127.0.0.1/wallet/callback";

pub fn start_server(database_url: Option<&str>) -> (Server, Fixture) {
    start_server_keeping(database_url, None)
}

/// As `start_server`; with `kek_store`, the database's KEK is kept there between runs (a
/// database reused by a later run holds keys sealed under it).
pub fn start_server_keeping(
    database_url: Option<&str>,
    kek_store: Option<&std::path::Path>,
) -> (Server, Fixture) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(kept) = kek_store.filter(|k| k.exists()) {
        std::fs::copy(kept, dir.path().join("kek")).unwrap();
    }
    let db = database_url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("idp.db").display()));
    idp(dir.path(), &db, &["migrate"], None);
    // Already there when the database is reused: fine.
    let _ = try_idp(
        dir.path(),
        &db,
        &[
            "user",
            "create",
            "--id-number",
            ID_NUMBER,
            "--name",
            "压测",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let client = idp(
        dir.path(),
        &db,
        &[
            "client",
            "create",
            "--name",
            "bench",
            "--redirect-uri",
            REDIRECT,
            "--approve",
            "--grant-type",
            "authorization_code",
            "--grant-type",
            "client_credentials",
            "--grant-type",
            "refresh_token",
            "--scope",
            "openid profile offline_access api.read",
        ],
        None,
    );
    let app = idp(
        dir.path(),
        &db,
        &[
            "client",
            "create",
            "--name",
            "bench-app",
            "--government-app",
            "--approve",
            "--redirect-uri",
            APP_REDIRECT,
        ],
        None,
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let events_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // WebAuthn needs a domain for its RP id; requests still go to 127.0.0.1.
    let issuer = format!("http://localhost:{port}");
    if let Some(kept) = kek_store.filter(|k| !k.exists()) {
        std::fs::copy(dir.path().join("kek"), kept).unwrap();
    }
    let spawned = std::time::Instant::now();
    let child = Command::new(idp_binary())
        .arg("serve")
        .env("IDP_DATABASE_URL", &db)
        .env("IDP_KEK_FILE", dir.path().join("kek"))
        .env("IDP_BIND", format!("127.0.0.1:{port}"))
        .env("IDP_QR_EVENTS_BIND", format!("127.0.0.1:{events_port}"))
        .env("IDP_ISSUER", &issuer)
        .env("IDP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let fixture = Fixture {
        db: db.clone(),
        client_id: client["client_id"].as_str().unwrap().to_owned(),
        secret: client["client_secret"].as_str().unwrap().to_owned(),
        app_client_id: app["client_id"].as_str().unwrap().to_owned(),
    };
    (
        Server {
            child,
            base,
            events_base: format!("http://127.0.0.1:{events_port}"),
            issuer,
            spawned,
            _dir: dir,
        },
        fixture,
    )
}

/// (resident KiB now, peak resident KiB) of a process.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU seconds consumed by a process so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    stat_cpu_seconds(&format!("/proc/{pid}/stat"))
}

/// CPU seconds the server's Argon2id threads (`argon2-N`, the password pool) have used: the
/// share of a login's cost that is the hash itself.
pub fn hashing_seconds(pid: u32) -> f64 {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    threads
        .flatten()
        .map(|t| t.path())
        .filter(|t| std::fs::read_to_string(t.join("comm")).is_ok_and(|c| c.starts_with("argon2-")))
        .map(|t| stat_cpu_seconds(&t.join("stat").to_string_lossy()))
        .sum()
}

/// utime + stime of a process's or thread's `stat` file, in seconds.
fn stat_cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

/// `n` more citizens with the bench password (made once per database; their ID numbers).
pub fn more_citizens(server: &Server, f: &Fixture, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            let id = crate::flows::citizen_id(i);
            // Already there from an earlier run on the same database: fine.
            let _ = try_idp(
                server._dir.path(),
                &f.db,
                &[
                    "user",
                    "create",
                    "--id-number",
                    &id,
                    "--name",
                    "压测",
                    "--password-stdin",
                ],
                Some(PASSWORD),
            );
            id
        })
        .collect()
}
