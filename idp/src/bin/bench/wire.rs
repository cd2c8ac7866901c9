//! The load generator's HTTP/1.1 client for the measured token loops: one kept-alive
//! connection per virtual client, each request written as one buffer, the response head parsed
//! by hand. The generator shares the two cores with the server it measures; reqwest's layers
//! (redirect policy, header maps, URL parsing, pool checkout) cost about a third of what a
//! client_credentials token costs the server, and that came out of the server's share. Both
//! providers are driven through this same client, as they were through reqwest.
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response: what the flows read of it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    /// The Set-Cookie header values, as sent.
    pub set_cookies: Vec<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One virtual client's connection to one server.
#[derive(Debug)]
pub struct Wire {
    /// `host:port`, as in the base URL.
    authority: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Wire {
    /// For a base URL such as `http://127.0.0.1:8080` (plain HTTP only: the bench's servers).
    pub fn new(base: &str) -> Wire {
        let authority = base
            .strip_prefix("http://")
            .expect("the bench's servers speak plain HTTP")
            .trim_end_matches('/')
            .to_owned();
        Wire {
            authority,
            stream: None,
            buf: Vec::with_capacity(8192),
        }
    }

    pub async fn get(&mut self, path: &str, cookie: Option<&str>) -> Option<Reply> {
        self.send("GET", path, None, cookie, None).await
    }

    /// A form post with HTTP Basic client authentication (RFC 6749 2.3.1).
    pub async fn post_form(
        &mut self,
        path: &str,
        basic: (&str, &str),
        form: &[(&str, &str)],
    ) -> Option<Reply> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", basic.0, basic.1));
        self.send(
            "POST",
            path,
            Some(&credentials),
            None,
            Some(body.as_bytes()),
        )
        .await
    }

    /// A browser's form post: its cookies, no client authentication.
    pub async fn submit(
        &mut self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Option<Reply> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send("POST", path, None, cookie, Some(body.as_bytes()))
            .await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        basic: Option<&str>,
        cookie: Option<&str>,
        form: Option<&[u8]>,
    ) -> Option<Reply> {
        let mut request = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", self.authority);
        if let Some(credentials) = basic {
            request.push_str(&format!("authorization: Basic {credentials}\r\n"));
        }
        if let Some(cookie) = cookie {
            request.push_str(&format!("cookie: {cookie}\r\n"));
        }
        if let Some(body) = form {
            request.push_str(&format!(
                "content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(form.unwrap_or_default());
        // A kept-alive connection the server has closed fails at once: one new connection.
        if self.stream.is_some() {
            if let Some(reply) = self.exchange(&bytes).await {
                return Some(reply);
            }
        }
        self.stream = None;
        self.exchange(&bytes).await
    }

    async fn exchange(&mut self, request: &[u8]) -> Option<Reply> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.authority).await.ok()?;
            stream.set_nodelay(true).ok()?;
            self.stream = Some(stream);
            self.buf.clear();
        }
        let stream = self.stream.as_mut()?;
        stream.write_all(request).await.ok()?;
        let reply = read_reply(stream, &mut self.buf).await;
        match &reply {
            Some((_, keep_alive)) if *keep_alive => {}
            _ => self.stream = None,
        }
        reply.map(|(reply, _)| reply)
    }
}

/// Reads one response; also says whether the connection may be used again.
async fn read_reply(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(Reply, bool)> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())?;
    let (mut length, mut chunked, mut keep_alive, mut location) = (0usize, false, true, None);
    let mut set_cookies = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok()?,
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => keep_alive = !value.eq_ignore_ascii_case("close"),
            "location" => location = Some(value.to_owned()),
            "set-cookie" => set_cookies.push(value.to_owned()),
            _ => {}
        }
    }
    buf.drain(..head_end);
    let body = if chunked {
        read_chunked(stream, buf).await?
    } else {
        while buf.len() < length {
            read_more(stream, buf).await?;
        }
        buf.drain(..length).collect()
    };
    Some((
        Reply {
            status,
            location,
            set_cookies,
            body,
        },
        keep_alive,
    ))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(i) = find(buf, b"\r\n") {
                break i;
            }
            read_more(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        // The chunk, then its CRLF (after the last, empty chunk: the CRLF that ends the body).
        while buf.len() < line_end + 2 + size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
        buf.drain(..line_end + 2 + size + 2);
        if size == 0 {
            return Some(body);
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.ok()?;
    if n == 0 {
        return None;
    }
    buf.extend_from_slice(&chunk[..n]);
    Some(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request with the next canned response, in order.
    async fn canned(responses: Vec<&'static [u8]>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for response in responses {
                while find(&seen, b"\r\n\r\n").is_none() {
                    let mut chunk = [0u8; 1024];
                    let n = socket.read(&mut chunk).await.unwrap();
                    seen.extend_from_slice(&chunk[..n]);
                }
                let end = find(&seen, b"\r\n\r\n").unwrap() + 4;
                let length = std::str::from_utf8(&seen[..end])
                    .unwrap()
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                while seen.len() < end + length {
                    let mut chunk = [0u8; 1024];
                    let n = socket.read(&mut chunk).await.unwrap();
                    seen.extend_from_slice(&chunk[..n]);
                }
                seen.drain(..end + length);
                socket.write_all(response).await.unwrap();
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn reads_lengths_chunks_and_redirects_on_one_connection() {
        let base = canned(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"a\":true}\n",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"b\"\r\n3\r\n:1}\r\n0\r\n\r\n",
            b"HTTP/1.1 302 Found\r\nlocation: https://app/cb?code=x\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 303 See Other\r\nset-cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\ncontent-length: 0\r\n\r\n",
        ])
        .await;
        let mut wire = Wire::new(&base);
        let first = wire
            .post_form("/token", ("app", "s3cret"), &[("grant_type", "x y")])
            .await
            .unwrap();
        assert_eq!(
            (first.status, first.json().unwrap()["a"].clone()),
            (200, true.into())
        );
        let second = wire.get("/chunked", None).await.unwrap();
        assert_eq!(second.json().unwrap()["b"], 1);
        let third = wire.get("/authorize", Some("sid=1")).await.unwrap();
        assert_eq!(third.status, 302);
        assert_eq!(third.location.as_deref(), Some("https://app/cb?code=x"));
        let fourth = wire
            .submit("/login", Some("a=0"), &[("password", "p w")])
            .await
            .unwrap();
        assert_eq!(fourth.set_cookies, ["a=1; Path=/", "b=2"]);
    }

    #[tokio::test]
    async fn a_truncated_response_is_no_reply() {
        let base = canned(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"]).await;
        let mut wire = Wire::new(&base);
        assert!(wire.get("/", None).await.is_none());
    }
}
