//! Private PostgreSQL clusters from Debian's binaries (/usr/lib/postgresql/N/bin), on free ports
//! in a temporary folder, that a test may stop, crash, restart and fail over. initdb refuses to
//! run as root, so when the tests run as root every server program runs as the `postgres` user.
//! The machine's shared server (127.0.0.1:5432) is never touched.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The newest PostgreSQL binaries on the machine, or `PG_BIN`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return dir.into();
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).expect(
        "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin \
         (install the postgresql package, or set PG_BIN)",
    )
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A server program, as `postgres` when we are root.
fn program(name: &str) -> Command {
    let path = bin_dir().join(name);
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run(mut command: Command, what: &str) -> Output {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The folder clusters live in, writable by the user the server runs as.
fn cluster_home() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    if running_as_root() {
        let mut chown = Command::new("chown");
        chown.arg("postgres:").arg(dir.path());
        run(chown, "chown the cluster folder to postgres");
    }
    dir
}

/// One PostgreSQL server with its own data folder and port.
#[derive(Debug)]
pub struct Cluster {
    pub port: u16,
    data: PathBuf,
    running: bool,
    // Last: removed after the server has been stopped.
    _home: tempfile::TempDir,
}

impl Cluster {
    /// A new primary, started. With `synchronous`, commits wait for a standby (add one with
    /// `standby`, or nothing commits).
    pub fn primary(synchronous: bool) -> Self {
        let home = cluster_home();
        let data = home.path().join("data");
        let mut initdb = program("initdb");
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(initdb, "initdb");
        let port = crate::node::free_port("127.0.0.1");
        let mut conf = base_conf(port, home.path());
        conf.push_str("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n");
        if synchronous {
            conf.push_str("synchronous_standby_names = '*'\nsynchronous_commit = on\n");
        }
        append(&data.join("postgresql.conf"), &conf);
        append(
            &data.join("pg_hba.conf"),
            "host replication all 127.0.0.1/32 trust\n",
        );
        let mut cluster = Self {
            port,
            data,
            running: false,
            _home: home,
        };
        cluster.start();
        cluster
    }

    /// A streaming hot standby of this primary, started and replicating (synchronously when
    /// the primary asks for it).
    pub fn standby(&self) -> Self {
        let home = cluster_home();
        let data = home.path().join("data");
        let mut backup = program("pg_basebackup");
        backup
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-X",
                "stream",
                "-R",
                "-p",
            ])
            .arg(self.port.to_string())
            .arg("-D")
            .arg(&data);
        run(backup, "pg_basebackup");
        let port = crate::node::free_port("127.0.0.1");
        // Once promoted it has no standby of its own: it must not wait for one.
        let mut conf = base_conf(port, home.path());
        conf.push_str("synchronous_standby_names = ''\n");
        append(&data.join("postgresql.conf"), &conf);
        let mut standby = Self {
            port,
            data,
            running: false,
            _home: home,
        };
        standby.start();
        standby
    }

    pub fn start(&mut self) {
        let mut start = program("pg_ctl");
        start
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.with_file_name("server.log"))
            .args(["-w", "start"]);
        run(start, "pg_ctl start");
        self.running = true;
    }

    /// Stops at once, as a crash would: no checkpoint, clients cut off.
    pub fn stop_immediately(&mut self) {
        let mut stop = program("pg_ctl");
        stop.arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]);
        run(stop, "pg_ctl stop -m immediate");
        self.running = false;
    }

    /// A standby becomes a primary (and waits until it accepts writes).
    pub fn promote(&self) {
        let mut promote = program("pg_ctl");
        promote.arg("-D").arg(&self.data).args(["-w", "promote"]);
        run(promote, "pg_ctl promote");
    }

    /// A database URL on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The result of one SQL statement, rows as lines, columns split by `|`.
    pub fn query(&self, database: &str, sql: &str) -> String {
        let mut psql = Command::new(bin_dir().join("psql"));
        psql.args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(database))
            .args(["-c", sql]);
        let out = run(psql, &format!("psql {sql:?}"));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A number answered by `sql`.
    pub fn count(&self, database: &str, sql: &str) -> i64 {
        let text = self.query(database, sql);
        text.parse()
            .unwrap_or_else(|_| panic!("{sql:?} answered {text:?}, not a number"))
    }

    /// An open session that has run `sql` (e.g. a transaction holding a row lock) and stays
    /// open, its transaction with it, until dropped or the server goes.
    pub fn session(&self, database: &str, sql: &str) -> Session {
        use std::io::Write;
        let mut child = Command::new(bin_dir().join("psql"))
            .args(["-X", "-q", "-d"])
            .arg(self.url(database))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("psql");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{sql}").expect("send SQL");
        Session {
            child,
            _stdin: stdin,
        }
    }

    pub fn create_database(&self, name: &str) {
        self.query("postgres", &format!("CREATE DATABASE {name}"));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let mut stop = program("pg_ctl");
            stop.arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"]);
            let _ = stop.output();
        }
    }
}

/// Settings every cluster of the tests shares: its own port, loopback only, its socket in its
/// own folder. No fsync: the tests crash the server, never the machine, and the page cache
/// survives a crashed server.
fn base_conf(port: u16, home: &Path) -> String {
    format!(
        "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
         fsync = off\nmax_connections = 100\nshared_buffers = 16MB\n",
        home.display()
    )
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

/// A psql session kept open (see `Cluster::session`).
#[derive(Debug)]
pub struct Session {
    child: std::process::Child,
    _stdin: std::process::ChildStdin,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
