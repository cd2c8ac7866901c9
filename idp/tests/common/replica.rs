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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut replica = Replica {
        child: idp(db, kek)
            .arg("serve")
            .env("IDP_BIND", format!("127.0.0.1:{port}"))
            .env("IDP_ISSUER", issuer)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        // Same host as the issuer, so a browser's cookies reach every replica.
        base: format!(
            "http://{}:{port}",
            url::Url::parse(issuer).unwrap().host_str().unwrap()
        ),
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
