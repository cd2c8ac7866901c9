//! The QR events listener (`IDP_QR_EVENTS_BIND`): a deliberately small HTTP/1.1 server for one
//! request, `GET /qr/status?id=..&since=..`, answered exactly as the main server answers it
//! (`flows::qr_wait`, `handlers::qr::status_answer`). A deployment routes that path here so that
//! many browsers can wait on their codes at once cheaply: actix-http holds 16 KiB of buffers
//! for every connection, this keeps only the two values and the cookie it needs while it waits.
//! Anything else is refused: no bodies, no other paths or methods, bounded headers and time.
use crate::flows::qr_wait;
use crate::services::Shared;
use crate::web::browser::cookie_names;
use crate::web::handlers::qr::status_answer;
use actix_web::http::StatusCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 4096;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: usize = 100_000;

/// Serves until the process ends.
pub async fn serve(listener: std::net::TcpListener, svc: Shared) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            continue; // dropped: too many at once
        };
        let svc = svc.clone();
        actix_web::rt::spawn(async move {
            connection(stream, svc).await;
            drop(permit);
        });
    }
}

/// What a status request carries.
#[derive(Debug, PartialEq, Eq)]
pub struct StatusRequest {
    pub id: String,
    pub since: Option<String>,
    pub binding: Option<String>,
    pub keep_alive: bool,
}

/// Parses a request head (up to the blank line). Errors are the HTTP status to answer with.
pub fn parse(head: &[u8], binding_cookie: &str) -> Result<StatusRequest, StatusCode> {
    let text = std::str::from_utf8(head).map_err(|_| StatusCode::BAD_REQUEST)?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, target, version) = (
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
    );
    if request_line.next().is_some() || !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err(StatusCode::BAD_REQUEST);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/qr/status" {
        return Err(StatusCode::NOT_FOUND);
    }
    if method != "GET" {
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    let mut id = String::new();
    let mut since = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "id" if v.len() <= 128 => id = v.into_owned(),
            "since" if v.len() <= 16 => since = Some(v.into_owned()),
            "id" | "since" => return Err(StatusCode::BAD_REQUEST),
            _ => {}
        }
    }
    let mut binding = None;
    let mut keep_alive = version == "HTTP/1.1";
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(StatusCode::BAD_REQUEST)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("cookie") {
            for pair in value.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=') {
                    if k == binding_cookie {
                        binding = Some(v.to_owned());
                    }
                }
            }
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = match value.to_ascii_lowercase().as_str() {
                "close" => false,
                "keep-alive" => true,
                _ => keep_alive,
            };
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            || (name.eq_ignore_ascii_case("content-length") && value != "0")
        {
            // A GET has no body; refusing one leaves nothing to smuggle.
            return Err(StatusCode::BAD_REQUEST);
        }
    }
    Ok(StatusRequest {
        id,
        since,
        binding,
        keep_alive,
    })
}

/// Reads up to and including the blank line that ends a request head.
async fn read_head(stream: &mut TcpStream) -> Result<Option<Vec<u8>>, StatusCode> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
    }
}

async fn connection(mut stream: TcpStream, svc: Shared) {
    let binding_cookie = cookie_names(&svc).qr_binding;
    loop {
        let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
            Ok(Ok(Some(head))) => head,
            Ok(Err(status)) => return refuse(stream, status).await,
            _ => return,
        };
        let request = match parse(&head, binding_cookie) {
            Ok(r) => r,
            Err(status) => return refuse(stream, status).await,
        };
        drop(head);
        let keep_alive = request.keep_alive;
        let wait = qr_wait::wait(svc.clone(), request.id, request.since, request.binding);
        // A browser that leaves (closes the page) frees its place at once.
        let waited = tokio::select! {
            waited = wait => waited,
            () = hung_up(&stream) => return,
        };
        let sent = match waited {
            Ok(answer) => {
                let answer = status_answer(&svc, answer);
                let cookies: Vec<String> = answer.cookies.iter().map(|c| c.to_string()).collect();
                respond(
                    &mut stream,
                    answer.status,
                    &answer.body.to_string(),
                    &cookies,
                    keep_alive,
                )
                .await
            }
            Err(_) => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                respond(&mut stream, status, &error_body(status), &[], keep_alive).await
            }
        };
        if sent.is_err() || !keep_alive {
            return;
        }
    }
}

/// Resolves when the client closes the connection; never when it merely sends more.
async fn hung_up(stream: &TcpStream) {
    let mut byte = [0u8; 1];
    match stream.peek(&mut byte).await {
        Ok(0) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

/// Answers with an error and closes without a reset: what the client sent beyond the head is
/// read and dropped (briefly) after our side is shut, so the answer is not lost to an RST.
async fn refuse(mut stream: TcpStream, status: StatusCode) {
    if respond(&mut stream, status, &error_body(status), &[], false)
        .await
        .is_err()
    {
        return;
    }
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 1024];
    let drain = async {
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

fn error_body(status: StatusCode) -> String {
    let error = match status {
        StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        _ => "invalid_request",
    };
    serde_json::json!({
        "error": error,
        "error_description": "this listener answers GET /qr/status?id=...&since=... only",
    })
    .to_string()
}

async fn respond(
    stream: &mut TcpStream,
    status: StatusCode,
    body: &str,
    set_cookies: &[String],
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\ncontent-length: {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    for cookie in set_cookies {
        out.push_str(&format!("set-cookie: {cookie}\r\n"));
    }
    if !keep_alive {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    stream.write_all(out.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<StatusRequest, StatusCode> {
        parse(text.as_bytes(), "idp_qr")
    }

    #[test]
    fn a_status_request_gives_its_id_since_and_binding() {
        let r = head("GET /qr/status?id=abc&since=waiting HTTP/1.1\r\nHost: x\r\nCookie: a=1; idp_qr=bind\r\n")
            .expect("valid");
        assert_eq!(r.id, "abc");
        assert_eq!(r.since.as_deref(), Some("waiting"));
        assert_eq!(r.binding.as_deref(), Some("bind"));
        assert!(r.keep_alive);
        let r = head("GET /qr/status?id=abc HTTP/1.0\r\n").expect("valid");
        assert!(!r.keep_alive && r.binding.is_none());
    }

    #[test]
    fn anything_else_is_refused() {
        let cases = [
            (
                "POST /qr/status?id=a HTTP/1.1\r\n",
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            ("GET /token HTTP/1.1\r\n", StatusCode::NOT_FOUND),
            ("GET /qr/status?id=a HTTP/2\r\n", StatusCode::BAD_REQUEST),
            (
                "GET /qr/status?id=a HTTP/1.1 extra\r\n",
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET /qr/status?id=a HTTP/1.1\r\nContent-Length: 5\r\n",
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET /qr/status?id=a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n",
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET /qr/status?id=a HTTP/1.1\r\nno colon\r\n",
                StatusCode::BAD_REQUEST,
            ),
        ];
        for (text, status) in cases {
            assert_eq!(head(text).map(|_| ()), Err(status), "{text:?}");
        }
        let long_id = format!("GET /qr/status?id={} HTTP/1.1\r\n", "a".repeat(200));
        assert_eq!(head(&long_id).map(|_| ()), Err(StatusCode::BAD_REQUEST));
        assert_eq!(
            parse(&[0xff, 0xfe], "idp_qr").map(|_| ()),
            Err(StatusCode::BAD_REQUEST)
        );
    }
}
