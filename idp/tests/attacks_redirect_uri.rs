//! Redirect URI manipulation (RFC 9700 4.1, 2.1: exact string matching): every near miss of a
//! registered URI, whatever the trick (case, slashes, dot segments, query, fragment, userinfo,
//! percent-encoding, IDN lookalikes, ports, scheme), gets an error page and no redirect: at the
//! authorization endpoint (GET, POST, form_post, inside a request object), at logout, and it is
//! no redirect_uri at the token endpoint either. The browser is logged in and has consented, so
//! any trick that were accepted would carry a code away at once.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser, Page};
use common::flow;
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use serde_json::json;

const ORIGIN: &str = "https://app.example";

/// Near misses of `{ORIGIN}{path}`: (what, the URI an attacker sends).
fn tricks(path: &str) -> Vec<(&'static str, String)> {
    let lookalike = "https://\u{430}pp.example"; // Cyrillic а
    let punycode = url::Url::parse(&format!("{lookalike}{path}"))
        .unwrap()
        .host_str()
        .unwrap()
        .to_owned();
    assert!(punycode.starts_with("xn--"), "{punycode}");
    let up = path.to_uppercase();
    let last = path.trim_start_matches('/');
    vec![
        ("trailing slash", format!("{ORIGIN}{path}/")),
        ("host in capitals", format!("https://APP.EXAMPLE{path}")),
        (
            "host partly in capitals",
            format!("https://App.example{path}"),
        ),
        ("path in capitals", format!("{ORIGIN}{up}")),
        ("scheme in capitals", format!("HTTPS://app.example{path}")),
        ("extra path segment", format!("{ORIGIN}{path}/evil")),
        (
            "dot segment back to itself",
            format!("{ORIGIN}{path}/..{path}"),
        ),
        (
            "dot segment from elsewhere",
            format!("{ORIGIN}/evil/..{path}"),
        ),
        ("encoded dot segment", format!("{ORIGIN}{path}/%2e%2e/evil")),
        ("encoded slash", format!("{ORIGIN}{path}%2fevil")),
        ("double slash", format!("{ORIGIN}/{path}")),
        ("prefix of a longer path", format!("{ORIGIN}{path}x")),
        (
            "added query",
            format!("{ORIGIN}{path}?next=https://evil.example/"),
        ),
        ("empty query", format!("{ORIGIN}{path}?")),
        ("fragment", format!("{ORIGIN}{path}#https://evil.example/")),
        ("empty fragment", format!("{ORIGIN}{path}#")),
        (
            "userinfo: the app, then the evil host",
            format!("https://app.example@evil.example{path}"),
        ),
        (
            "userinfo: evil, then the app",
            format!("https://evil.example@app.example{path}"),
        ),
        (
            "encoded @",
            format!("https://app.example%40evil.example{path}"),
        ),
        (
            "backslash before @",
            format!("https://app.example\\@evil.example{path}"),
        ),
        (
            "backslash as a slash",
            format!("https://app.example\\{last}"),
        ),
        (
            "percent-encoded path",
            format!("{ORIGIN}/%{:02x}{}", path.as_bytes()[1], &path[2..]),
        ),
        (
            "percent-encoded host dot",
            format!("https://app%2Eexample{path}"),
        ),
        ("IDN lookalike (Cyrillic а)", format!("{lookalike}{path}")),
        (
            "the lookalike in punycode",
            format!("https://{punycode}{path}"),
        ),
        (
            "ideographic full stop in the host",
            format!("https://app\u{3002}example{path}"),
        ),
        (
            "trailing dot in the host",
            format!("https://app.example.{path}"),
        ),
        (
            "default port spelled out",
            format!("https://app.example:443{path}"),
        ),
        ("another port", format!("https://app.example:8443{path}")),
        ("http downgrade", format!("http://app.example{path}")),
        ("protocol-relative", format!("//app.example{path}")),
        ("scheme without slashes", format!("https:app.example{path}")),
        (
            "a subdomain of the app",
            format!("https://evil.app.example{path}"),
        ),
        (
            "the app's name under the evil domain",
            format!("https://app.example.evil.example{path}"),
        ),
        ("leading space", format!(" {ORIGIN}{path}")),
        ("trailing space", format!("{ORIGIN}{path} ")),
        ("trailing encoded space", format!("{ORIGIN}{path}%20")),
        ("tab inside", format!("{ORIGIN}{path}\t")),
        ("NUL at the end", format!("{ORIGIN}{path}\u{0}")),
        ("encoded NUL at the end", format!("{ORIGIN}{path}%00")),
        (
            "javascript scheme",
            format!("javascript://app.example{path}%0aalert(1)"),
        ),
        (
            "data scheme",
            "data:text/html,<script>alert(1)</script>".to_owned(),
        ),
        ("another scheme", format!("ftp://app.example{path}")),
    ]
}

fn assert_error_page(page: &Page, what: &str, message: &str) {
    assert_eq!(page.status, 400, "{what}: {}", page.body);
    assert!(
        page.location.is_none(),
        "{what}: redirected to {:?}",
        page.location
    );
    assert!(
        !page.headers.contains_key("refresh"),
        "{what}: a Refresh header"
    );
    let ct = page.headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("text/html"), "{what}: {ct}");
    assert!(page.body.contains(message), "{what}: {}", page.body);
    assert!(
        !page.body.contains("evil.example"),
        "{what}: the URI is echoed"
    );
    assert!(!page.body.contains("<script>alert"), "{what}");
}

struct Setup {
    server: TestServer,
    app: TestClient,
    /// Logged in, and the app is consented to: a trusted request gets a code without a page.
    browser: Browser,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let citizen = id_number(33, 221);
    server.user(&citizen, PASSWORD).await;
    let app = server
        .client(ClientSpec {
            redirect_uri: format!("{ORIGIN}/cb"),
            post_logout_redirect_uris: vec![format!("{ORIGIN}/bye")],
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    flow::code(&server, &browser, &app, &citizen, PASSWORD, &[]).await;
    Setup {
        server,
        app,
        browser,
    }
}

impl Setup {
    /// A code for the registered redirect URI, silently.
    async fn code(&self) -> String {
        let url = flow::authorize_url(&self.server, &self.app, &[("prompt", "none")]);
        let page = self.browser.get(&url).await;
        let loc = page.location.unwrap();
        assert!(loc.starts_with(&format!("{ORIGIN}/cb?")), "{loc}");
        query_of(&loc)["code"].clone()
    }
}

#[actix_web::test]
async fn every_near_miss_of_the_redirect_uri_gets_an_error_page_and_no_redirect() {
    let s = setup().await;
    let untrusted = "回调地址未经登记";
    // The registered URI itself gets its code silently: the requests below differ only in it.
    s.code().await;
    for (what, uri) in tricks("/cb") {
        let get = flow::authorize_url(
            &s.server,
            &s.app,
            &[("prompt", "none"), ("redirect_uri", &uri)],
        );
        assert_error_page(&s.browser.get(&get).await, what, untrusted);
        // The same as a form POST to the authorization endpoint, answered by form_post.
        let post = s
            .browser
            .post(
                "/authorize",
                &[
                    ("response_type", "code"),
                    ("client_id", s.app.client_id.as_str()),
                    ("redirect_uri", uri.as_str()),
                    ("scope", "openid"),
                    ("state", "st-1"),
                    ("prompt", "none"),
                    ("response_mode", "form_post"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            )
            .await;
        assert_error_page(&post, &format!("{what} (POST, form_post)"), untrusted);
        assert!(
            !post.body.contains("name=\"code\""),
            "{what}: a code in a form"
        );
    }
    s.server.stop().await;
}

/// An unsigned request object (the app registered no signing algorithm) whose redirect_uri is a
/// near miss: the object's value is the one that counts, and it is refused like a query's.
#[actix_web::test]
async fn a_near_miss_inside_a_request_object_gets_an_error_page_too() {
    let s = setup().await;
    let now = flow::now(&s.server);
    for (what, uri) in tricks("/cb") {
        let claims = json!({
            "client_id": s.app.client_id, "response_type": "code", "scope": "openid",
            "redirect_uri": uri, "state": "st-1", "prompt": "none", "exp": now + 300,
        });
        let object = format!(
            "{}.{}.",
            flow::b64url(br#"{"alg":"none"}"#),
            flow::b64url(claims.to_string().as_bytes())
        );
        let url = flow::authorize_url(&s.server, &s.app, &[("request", &object)]);
        let page = s.browser.get(&url).await;
        assert_error_page(
            &page,
            &format!("{what} (request object)"),
            "回调地址未经登记",
        );
    }
    s.server.stop().await;
}

#[actix_web::test]
async fn a_near_miss_at_the_token_endpoint_is_invalid_grant() {
    let s = setup().await;
    for (what, uri) in tricks("/cb") {
        let code = s.code().await;
        let r = flow::as_client(
            &s.server,
            &s.app,
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &uri),
            ],
        )
        .await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_grant"),
            "{what}: {}",
            r.json
        );
        assert!(r.json.get("access_token").is_none(), "{what}");
    }
    s.server.stop().await;
}

#[actix_web::test]
async fn a_near_miss_of_the_post_logout_redirect_uri_gets_an_error_page_and_ends_nothing() {
    let s = setup().await;
    let logout = |uri: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &s.app.client_id)
            .append_pair("post_logout_redirect_uri", uri)
            .append_pair("state", "bye-1")
            .finish();
        format!("/logout?{q}")
    };
    for (what, uri) in tricks("/bye") {
        let page = s.browser.get(&logout(&uri)).await;
        assert_error_page(&page, what, "退出后跳转地址未经登记");
        assert_eq!(
            s.browser.get("/account").await.status,
            200,
            "{what}: logged out"
        );
    }
    // The registered URI is honoured (after the confirmation this request needs).
    let confirm = s.browser.get(&logout(&format!("{ORIGIN}/bye"))).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let done = s
        .browser
        .submit(&confirm, "confirm", &[("confirm", "yes")])
        .await;
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{ORIGIN}/bye?state=bye-1").as_str())
    );
    s.server.stop().await;
}

// BUG: `domain::client::validate_redirect_uri` checks the *parsed* URL, and the URL parser strips
// leading/trailing spaces and every tab and newline (and keeps a NUL), so these are registered as
// typed: a redirect URI with CR LF then makes the authorization response's Location header
// unbuildable (500 "failed to parse header value" after the citizen consents; form_post puts the
// raw string in the form's action). Refuse ASCII whitespace and control characters before parsing
// (redirect and post-logout URIs share the function).
/// Dynamic registration refuses redirect URIs that could never be matched safely, and URIs that
/// are not what they look like: a browser (and the URL parser the check uses) strips leading and
/// trailing spaces, tabs and newlines, so " https://app.example/cb" passes a check of its parsed
/// form while the stored string is another.
#[actix_web::test]
async fn registration_refuses_redirect_uris_that_cannot_be_matched_safely() {
    let server = TestServer::start().await;
    let mut accepted = Vec::new();
    for (what, uri) in [
        ("userinfo", "https://app.example@evil.example/cb"),
        ("userinfo with a password", "https://u:p@app.example/cb"),
        ("javascript", "javascript:alert(document.cookie)"),
        ("data", "data:text/html,<script>alert(1)</script>"),
        ("file", "file:///etc/passwd"),
        ("empty fragment", "https://app.example/cb#"),
        ("not a URL", "https://"),
        ("plain http to a public host", "http://app.example/cb"),
        ("a leading space", " https://app.example/cb"),
        ("a trailing space", "https://app.example/cb "),
        ("a tab inside", "https://app.exa\tmple/cb"),
        ("a newline inside", "https://app.example/c\nb"),
        (
            "CR LF and a header",
            "https://app.example/cb\r\nSet-Cookie: a=b",
        ),
        ("a NUL byte", "https://app.example/cb\u{0}"),
    ] {
        for field in ["redirect_uris", "post_logout_redirect_uris"] {
            let mut metadata =
                json!({ "client_name": "x", "redirect_uris": [format!("{ORIGIN}/cb")] });
            metadata[field] = json!([uri]);
            let r = flow::http()
                .post(server.url("/register"))
                .json(&metadata)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            if status != 400 || !body["error"].is_string() {
                accepted.push(format!("{field}: {what} {uri:?}: {status} {}", body[field]));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "registered anyway:\n{}",
        accepted.join("\n")
    );
    let stored = server.with(|s| s.store.clients().unwrap().len()).await;
    assert_eq!(stored, 0, "nothing was registered");
    server.stop().await;
}
