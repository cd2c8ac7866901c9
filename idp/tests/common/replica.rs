//! `idp` as real processes: admin commands and server replicas on a shared database.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};

pub struct Replica {
    child: Child,
    pub base: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn idp(db: &str, kek: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_idp"));
    c.env("IDP_DATABASE_URL", db)
        .env("IDP_KEK_FILE", kek)
        .env("IDP_LOG", "warn");
    c
}

pub fn cli(
    db: &str,
    kek: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> serde_json::Value {
    use std::io::Write;
    let mut child = idp(db, kek)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "idp {args:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

pub async fn start(db: &str, kek: &std::path::Path, issuer: &str) -> Replica {
    let port = free_port("127.0.0.1");
    let mut command = idp(db, kek);
    command
        .env("IDP_BIND", format!("127.0.0.1:{port}"))
        .env("IDP_ISSUER", issuer);
    // Same host as the issuer, so a browser's cookies reach every replica.
    let host = url::Url::parse(issuer)
        .unwrap()
        .host_str()
        .unwrap()
        .to_owned();
    serve(command, format!("http://{host}:{port}")).await
}

/// A port nobody listens on yet at `ip`.
pub fn free_port(ip: &str) -> u16 {
    std::net::TcpListener::bind(format!("{ip}:0"))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A federation node: its own issuer `http://{ip}:{port}` (an address of its own, so a browser
/// keeps its cookies apart), with `env` added (e.g. `IDP_ROAMING_UPSTREAM`).
pub async fn start_node(
    db: &str,
    kek: &std::path::Path,
    ip: &str,
    port: u16,
    env: &[(&str, &str)],
) -> Replica {
    let base = format!("http://{ip}:{port}");
    let mut command = idp(db, kek);
    command
        .env("IDP_BIND", format!("{ip}:{port}"))
        .env("IDP_ISSUER", &base)
        .envs(env.iter().copied());
    serve(command, base).await
}

async fn serve(mut command: Command, base: String) -> Replica {
    let mut replica = Replica {
        child: command.arg("serve").stdout(Stdio::piped()).spawn().unwrap(),
        base,
    };
    // `idp serve` prints one line when it accepts connections: wait for it, not for a timer.
    let stdout = replica.child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        line
    })
    .await
    .unwrap();
    assert!(
        line.contains("listening on"),
        "replica did not start: {line:?}"
    );
    replica
}
