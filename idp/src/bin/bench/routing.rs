//! Home routing with many upstreams: the server holds `count` county-level upstreams (imported
//! with `idp province import`), and each operation is what the login page's "account in another
//! region" form does: `POST /federation/route` with an ID number, answered by a redirect home.
use super::flows::{collect_cookies, hidden};
use super::server::{idp, Fixture, Server};

/// One county code per upstream: 6 digits, never 00xxxx (the hub's prefix).
pub fn county(i: usize) -> String {
    format!("{}", 110_000 + i)
}

/// Imports `count` upstreams into the running server's database.
pub fn import_upstreams(server: &Server, f: &Fixture, count: usize) {
    let lines: Vec<String> = (0..count)
        .map(|i| {
            let code = county(i);
            format!(
                r#"{{"code":"{code}","name":"县{code}","issuer":"https://idp-{code}.example","client_id":"node","client_secret":"secret-of-the-node-{code}"}}"#
            )
        })
        .collect();
    let out = idp(
        server._dir.path(),
        &f.db,
        &["province", "import"],
        Some(&lines.join("\n")),
    );
    assert_eq!(out["imported"], count, "{out}");
}

/// A browser's login page: its CSRF cookie and token.
pub struct RoutingBrowser {
    cookie: String,
    csrf: String,
    n: usize,
}

pub async fn routing_browser(http: &reqwest::Client, base: &str) -> Option<RoutingBrowser> {
    let r = http.get(format!("{base}/login")).send().await.ok()?;
    let mut jar = Vec::new();
    collect_cookies(&mut jar, &r);
    let page = r.text().await.ok()?;
    Some(RoutingBrowser {
        cookie: jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
        csrf: hidden(&page, "csrf"),
        n: 0,
    })
}

/// A valid ID number born in county `code`.
fn citizen_of(code: &str, serial: usize) -> String {
    let first17 = format!("{code}19800101{:03}", serial % 1000);
    let check = idp::domain::id_number::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

pub async fn route(
    http: &reqwest::Client,
    base: &str,
    b: &mut RoutingBrowser,
    upstreams: usize,
) -> bool {
    b.n += 1;
    // Spread over every upstream: a different county each time.
    let code = county((b.n * 7919) % upstreams);
    let form = [
        ("csrf", b.csrf.as_str()),
        ("req", ""),
        ("id_number", &citizen_of(&code, b.n)),
    ];
    let Ok(r) = http
        .post(format!("{base}/federation/route"))
        .header("cookie", &b.cookie)
        .form(&form)
        .send()
        .await
    else {
        return false;
    };
    r.status() == 303
        && r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l == format!("/federation/start?upstream={code}"))
}
