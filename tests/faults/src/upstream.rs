//! Upstream "provinces" that misbehave, as a plain TCP server: each connection gets one
//! request read and one (bad) answer, or none at all.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Accepts the connection and never answers.
    Hang,
    /// HTTP 500 to everything.
    ServerError,
    /// HTTP 200 with an HTML page where the discovery document belongs.
    GarbageDiscovery,
    /// A valid discovery document whose JWKS is not one.
    BadJwks,
    /// Valid discovery and JWKS; the token endpoint never answers.
    TokenHangs,
}

/// A misbehaving upstream on 127.0.0.1; stops serving when dropped.
#[derive(Debug)]
pub struct Upstream {
    pub issuer: String,
    /// Connections it holds open without answering right now.
    held: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    pub fn start(fault: Fault) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("address"));
        let (held, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (h, s, i) = (held.clone(), stop.clone(), issuer.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (h, s, i) = (h.clone(), s.clone(), i.clone());
                std::thread::spawn(move || answer(conn, fault, &i, &h, &s));
            }
        });
        Self { issuer, held, stop }
    }

    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.issuer.trim_start_matches("http://"));
    }
}

fn answer(mut conn: TcpStream, fault: Fault, issuer: &str, held: &AtomicUsize, stop: &AtomicBool) {
    let Some(path) = request_path(&mut conn) else {
        return;
    };
    let discovery = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    })
    .to_string();
    let reply = match (fault, path.as_str()) {
        (Fault::Hang, _) | (Fault::TokenHangs, "/token") => return hold(conn, held, stop),
        (Fault::ServerError, _) => (500, "text/plain", "internal error".to_owned()),
        (Fault::GarbageDiscovery, _) => (200, "text/html", "<html>维护中</html>".to_owned()),
        (_, "/.well-known/openid-configuration") => (200, "application/json", discovery),
        (Fault::BadJwks, "/jwks") => (200, "application/json", r#"{"keys": "none"}"#.to_owned()),
        (_, "/jwks") => (200, "application/json", r#"{"keys": []}"#.to_owned()),
        _ => (404, "text/plain", "not found".to_owned()),
    };
    let (status, content_type, body) = reply;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Reads the request head; its path.
fn request_path(conn: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).ok().filter(|n| *n > 0)?;
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_owned();
    let target = line.split(' ').nth(1)?;
    Some(target.split('?').next()?.to_owned())
}

/// Keeps the connection open, answering nothing, until the caller gives up (or the test ends).
fn hold(mut conn: TcpStream, held: &AtomicUsize, stop: &AtomicBool) {
    held.fetch_add(1, Ordering::SeqCst);
    // Short reads so the thread notices the end of the test; a read of 0 is the caller leaving.
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    held.fetch_sub(1, Ordering::SeqCst);
}
