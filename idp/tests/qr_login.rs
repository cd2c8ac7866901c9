//! QR-code login: the login page shows a code, the government app (DPoP-bound token) scans and
//! answers, and only the browser that showed the code is logged in.
#![allow(clippy::unwrap_used)]
mod common;

use common::app::{self, Device};
use common::browser::{query_of, Browser};
use common::flow::{self, jwt_parts, redeem};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use serde_json::{json, Value};

struct Setup {
    server: TestServer,
    rp: TestClient,
    sub: String,
    device: Device,
    token: String,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let citizen = id_number(33, 101);
    let sub = server.user(&citizen, PASSWORD).await;
    let rp = server
        .client(ClientSpec {
            name: "公积金查询".into(),
            ..ClientSpec::default()
        })
        .await;
    let gov_app = app::register(&server).await;
    let (device, token) = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;
    Setup {
        server,
        rp,
        sub,
        device,
        token,
    }
}

async fn post_json(browser: &Browser, path: &str, body: &Value) -> (u16, Value) {
    let resp = browser
        .http
        .post(format!("{}{path}", browser.base))
        .json(body)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn status(browser: &Browser, id: &str, since: &str) -> (u16, Value) {
    let resp = browser
        .http
        .get(format!("{}/qr/status?id={id}&since={since}", browser.base))
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

/// The phone (the government app) calls `path` on `base` with `body`.
async fn phone(s: &Setup, base: &str, path: &str, body: Value) -> (u16, Value) {
    app::call(&s.server, base, &s.device, &s.token, path, &body).await
}

async fn scan(s: &Setup, base: &str, payload: &str) -> (u16, Value) {
    phone(s, base, "/qr/scan", json!({ "payload": payload })).await
}

async fn answer(s: &Setup, base: &str, payload: &str, decision: &str) -> (u16, Value) {
    phone(
        s,
        base,
        "/qr/answer",
        json!({ "payload": payload, "decision": decision }),
    )
    .await
}

/// The browser's status request, left waiting in the background.
fn wait_in_background(
    browser: &Browser,
    id: &str,
    since: &'static str,
) -> actix_web::rt::task::JoinHandle<(u16, Value)> {
    let b = Browser {
        http: browser.http.clone(),
        base: browser.base.clone(),
    };
    let id = id.to_owned();
    actix_web::rt::spawn(async move { status(&b, &id, since).await })
}

/// A browser at the login page of an authorization request, showing a QR code: (browser, id, payload).
async fn showing_code(s: &Setup) -> (Browser, String, String) {
    let browser = Browser::new(&s.server.base);
    let page = browser
        .get(&flow::authorize_url(&s.server, &s.rp, &[("nonce", "qr-n")]))
        .await;
    let req = query_of(&page.location.unwrap())["req"].clone();
    let login = browser.get(&format!("/login?req={req}")).await;
    assert!(login.body.contains("扫码登录"), "{}", login.body);
    let (code, started) = post_json(&browser, "/qr/start", &json!({ "req": req })).await;
    assert_eq!(code, 200, "{started}");
    let id = started["id"].as_str().unwrap().to_owned();
    assert!(id.len() >= 22, "at least 128 bits: {id}");
    let payload = started["payload"].as_str().unwrap().to_owned();
    assert_eq!(payload, s.server.url(&format!("/qr/{id}")));
    (browser, id, payload)
}

#[actix_web::test]
async fn the_app_approves_and_the_browser_continues_to_the_apps_code_exchange() {
    let s = setup().await;
    let (browser, id, payload) = showing_code(&s).await;
    let svg = browser.get(&format!("/qr/image?id={id}")).await;
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert!(svg.body.contains("<svg"), "{}", svg.body);

    // The browser waits; the phone scans: the page learns 已扫码 without asking again.
    let waiting = wait_in_background(&browser, &id, "waiting");
    let (code, described) = scan(&s, &s.server.base, &payload).await;
    assert_eq!(code, 200, "{described}");
    assert_eq!(
        described["client_name"], "公积金查询",
        "the phone is told which app asks"
    );
    assert_eq!(described["address"], "127.0.*.*");
    assert!(described["browser"].is_string());
    let (_, seen) = waiting.await.unwrap();
    assert_eq!(seen["status"], "scanned");

    let waiting = wait_in_background(&browser, &id, "scanned");
    let (code, answered) = answer(&s, &s.server.base, &payload, "approve").await;
    assert_eq!(code, 200, "{answered}");
    let (code, done) = waiting.await.unwrap();
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["status"], "approved");
    let next = done["redirect_to"].as_str().unwrap();
    let consent = browser.follow(browser.get(next).await).await;
    let back = browser
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    let q = query_of(&back.location.expect("to the app"));
    let tokens = redeem(&s.server, &s.rp, &q["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, claims) = jwt_parts(&tokens.str("id_token"));
    assert_eq!(claims["sub"], s.sub.as_str());
    assert_eq!(claims["nonce"], "qr-n");
    assert_eq!(claims["amr"], json!(["mca", "swk"]));
    // The code is spent: collecting again logs in nobody else.
    assert_eq!(status(&browser, &id, "approved").await.1["status"], "done");
}

/// The code is marked collected in the commit that opens the session: tabs of the browser that
/// ask at once get one session between them.
#[actix_web::test]
async fn an_approved_code_is_collected_once_by_tabs_asking_at_once() {
    let s = setup().await;
    let (browser, id, payload) = showing_code(&s).await;
    assert_eq!(scan(&s, &s.server.base, &payload).await.0, 200);
    assert_eq!(answer(&s, &s.server.base, &payload, "approve").await.0, 200);
    let sessions = || s.server.count("SELECT COUNT(*) FROM sessions");
    let before = sessions().await;
    let (a, b, c, d) = tokio::join!(
        status(&browser, &id, "scanned"),
        status(&browser, &id, "scanned"),
        status(&browser, &id, "scanned"),
        status(&browser, &id, "scanned"),
    );
    let answers = [a, b, c, d];
    let collected: Vec<_> = answers
        .iter()
        .filter(|(_, v)| v["status"] == "approved")
        .collect();
    assert_eq!(collected.len(), 1, "{answers:?}");
    assert!(collected[0].1["redirect_to"].is_string());
    for (code, v) in answers.iter().filter(|(_, v)| v["status"] != "approved") {
        assert_eq!((*code, &v["status"]), (200, &json!("done")), "{v}");
    }
    assert_eq!(sessions().await, before + 1);
}

#[actix_web::test]
async fn a_second_browser_cannot_complete_the_first_ones_code() {
    let s = setup().await;
    let (browser, id, payload) = showing_code(&s).await;
    // The code copied elsewhere: another browser watches it.
    let other = Browser::new(&s.server.base);
    other.get("/login").await;
    assert_eq!(status(&other, &id, "waiting").await.0, 403);
    scan(&s, &s.server.base, &payload).await;
    let (code, _) = answer(&s, &s.server.base, &payload, "approve").await;
    assert_eq!(code, 200);
    let (code, answer) = status(&other, &id, "scanned").await;
    assert_eq!(
        (code, answer["error"].as_str()),
        (403, Some("not_your_code"))
    );
    assert!(
        other.get("/account").await.location.is_some(),
        "not logged in"
    );
    // The browser that showed it is.
    assert_eq!(
        status(&browser, &id, "scanned").await.1["status"],
        "approved"
    );
}

#[actix_web::test]
async fn denied_and_expired_codes_log_nobody_in() {
    let s = setup().await;
    let (browser, id, payload) = showing_code(&s).await;
    scan(&s, &s.server.base, &payload).await;
    let (code, _) = answer(&s, &s.server.base, &payload, "deny").await;
    assert_eq!(code, 200);
    assert_eq!(status(&browser, &id, "scanned").await.1["status"], "denied");

    let (browser, id, payload) = showing_code(&s).await;
    s.server.clock.advance(121);
    assert_eq!(
        status(&browser, &id, "waiting").await.1["status"],
        "expired"
    );
    let (code, late) = scan(&s, &s.server.base, &payload).await;
    assert_eq!((code, late["error"].as_str()), (409, Some("wrong_state")));
    assert_eq!(browser.get(&format!("/qr/image?id={id}")).await.status, 404);
    // A request without an id is told so in JSON, like an unknown code.
    let (code, missing) = status(&browser, "", "waiting").await;
    assert_eq!(
        (code, missing["error"].as_str()),
        (404, Some("unknown_code"))
    );
    assert_eq!(browser.get("/qr/image").await.status, 404);
    // Approving without a scan, or twice, is refused.
    let (_, _, fresh) = showing_code(&s).await;
    let (code, _) = answer(&s, &s.server.base, &fresh, "approve").await;
    assert_eq!(code, 409);
}

#[actix_web::test]
async fn only_the_apps_device_key_can_answer() {
    let s = setup().await;
    let (_, _, payload) = showing_code(&s).await;
    let url = s.server.url("/qr/scan");
    let send = |auth: String, proof: Option<String>| {
        let mut req = flow::http()
            .post(&url)
            .header("Authorization", auth)
            .json(&json!({ "payload": payload }));
        if let Some(p) = proof {
            req = req.header("DPoP", p);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The token alone (stolen), as Bearer or without a proof: refused.
    assert_eq!(send(format!("Bearer {}", s.token), None).await, 401);
    assert_eq!(send(format!("DPoP {}", s.token), None).await, 401);
    // Another key's proof: refused.
    let thief = Device::new(&s.server);
    let stolen = thief.proof("POST", &url, None, Some(&s.token));
    assert_eq!(send(format!("DPoP {}", s.token), Some(stolen)).await, 401);
    // A replayed proof: the first use works, the second is refused.
    let proof = s.device.proof("POST", &url, None, Some(&s.token));
    assert_eq!(
        send(format!("DPoP {}", s.token), Some(proof.clone())).await,
        200
    );
    assert_eq!(send(format!("DPoP {}", s.token), Some(proof)).await, 401);
}

#[actix_web::test]
async fn only_the_phone_that_scanned_may_answer() {
    let s = setup().await;
    let (browser, id, payload) = showing_code(&s).await;
    // Someone who saw the code over a shoulder, with the government app on their own phone.
    let onlooker_id = id_number(44, 102);
    s.server.another_user(&onlooker_id, "路人").await;
    let gov_app = app::register(&s.server).await;
    let (onlooker, onlooker_token) =
        app::logged_in(&s.server, &gov_app, &onlooker_id, PASSWORD).await;
    let by_onlooker = |path: &'static str, body: Value| {
        let (s, onlooker, token) = (&s, &onlooker, &onlooker_token);
        async move { app::call(&s.server, &s.server.base, onlooker, token, path, &body).await }
    };
    assert_eq!(scan(&s, &s.server.base, &payload).await.0, 200);
    // A second phone can neither take over the scanned code nor answer it.
    let (code, body) = by_onlooker("/qr/scan", json!({ "payload": payload })).await;
    assert_eq!(code, 409, "{body}");
    for decision in ["approve", "deny"] {
        let (code, _) = by_onlooker(
            "/qr/answer",
            json!({ "payload": payload, "decision": decision }),
        )
        .await;
        assert_eq!(code, 409);
    }
    assert_eq!(
        status(&browser, &id, "waiting").await.1["status"],
        "scanned"
    );
    // The phone that scanned still decides.
    assert_eq!(answer(&s, &s.server.base, &payload, "approve").await.0, 200);
    let (_, done) = status(&browser, &id, "scanned").await;
    assert_eq!(done["status"], "approved");
}

#[actix_web::test]
async fn only_the_government_app_speaks_for_the_citizen() {
    let s = setup().await;
    let (_, _, payload) = showing_code(&s).await;
    let citizen = id_number(33, 101);
    // Another app with DPoP-bound tokens of the same citizen (a province's own app, say).
    let other = s
        .server
        .client(ClientSpec {
            name: "某市App".into(),
            auth_method: idp::domain::client::AuthMethod::None,
            grant_types: vec![idp::domain::client::GrantType::AuthorizationCode],
            redirect_uri: "http://127.0.0.1:9/other".into(),
            dpop: true,
            ..ClientSpec::default()
        })
        .await;
    let (other_device, other_token) = app::logged_in_with_scope(
        &s.server,
        &other,
        &citizen,
        PASSWORD,
        "openid profile gov_app",
    )
    .await;
    // The government app itself, logged in without its scope.
    let gov_app = app::register(&s.server).await;
    let (plain_device, plain_token) =
        app::logged_in_with_scope(&s.server, &gov_app, &citizen, PASSWORD, "openid profile").await;
    for (device, token) in [(&other_device, &other_token), (&plain_device, &plain_token)] {
        let url = s.server.url("/qr/scan");
        let resp = flow::http()
            .post(&url)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", device.proof("POST", &url, None, Some(token)))
            .json(&json!({ "payload": payload }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "insufficient_scope", "{body}");
        let url = s.server.url("/app/devices");
        let resp = flow::http()
            .get(&url)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", device.proof("GET", &url, None, Some(token)))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403);
    }
    // The code is untouched: the government app can still scan it.
    assert_eq!(scan(&s, &s.server.base, &payload).await.0, 200);
}

#[actix_web::test]
async fn an_answer_taken_on_another_replica_reaches_the_waiting_browser() {
    let s = setup().await;
    let config = s.server.svc.config.clone();
    let other = common::replica::start(
        &config.database_url,
        config.kek_file.as_ref().unwrap(),
        &config.issuer,
    )
    .await;
    let (browser, id, payload) = showing_code(&s).await;
    scan(&s, &other.base, &payload).await;
    let waiting = wait_in_background(&browser, &id, "scanned");
    let (code, _) = answer(&s, &other.base, &payload, "approve").await;
    assert_eq!(code, 200);
    let (code, done) = waiting.await.unwrap();
    assert_eq!(
        (code, done["status"].as_str()),
        (200, Some("approved")),
        "{done}"
    );
}

/// The lightweight QR events listener (`IDP_QR_EVENTS_BIND`) answers a waiting browser exactly as
/// the main server does, session cookie included, and refuses everything else.
#[actix_web::test]
async fn the_events_listener_answers_waiting_browsers_like_the_server() {
    let s = setup().await;
    let (browser, id, payload) = showing_code(&s).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let events_base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    actix_web::rt::spawn(idp::web::qr_events::serve(listener, s.server.svc.clone()));
    // The same browser (its cookies are per host, so the binding cookie goes along).
    let at_events = Browser {
        http: browser.http.clone(),
        base: events_base.clone(),
    };

    let waiting = wait_in_background(&at_events, &id, "waiting");
    assert_eq!(scan(&s, &s.server.base, &payload).await.0, 200);
    let (code, seen) = waiting.await.unwrap();
    assert_eq!((code, seen["status"].as_str()), (200, Some("scanned")));
    // Another browser, an unknown code: the same refusals as the main server.
    let stranger = Browser::new(&events_base);
    let (code, body) = status(&stranger, &id, "scanned").await;
    assert_eq!((code, body["error"].as_str()), (403, Some("not_your_code")));
    let (code, _) = status(&at_events, "no-such-code", "waiting").await;
    assert_eq!(code, 404);

    let waiting = wait_in_background(&at_events, &id, "scanned");
    assert_eq!(answer(&s, &s.server.base, &payload, "approve").await.0, 200);
    let (code, done) = waiting.await.unwrap();
    assert_eq!(
        (code, done["status"].as_str()),
        (200, Some("approved")),
        "{done}"
    );
    // The session cookie it set is the main server's: the browser continues there.
    let next = done["redirect_to"].as_str().unwrap();
    let consent = browser.follow(browser.get(next).await).await;
    assert!(
        consent.body.contains(r#"name="decision""#),
        "{}",
        consent.body
    );

    // Anything but GET /qr/status gets a JSON error and a closed connection.
    let raw = |request: String| {
        let addr = events_base.trim_start_matches("http://").to_owned();
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut out = String::new();
            stream.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    for (request, status_line) in [
        (
            "POST /qr/status?id=a HTTP/1.1\r\n\r\n".to_owned(),
            "HTTP/1.1 405",
        ),
        ("GET /token HTTP/1.1\r\n\r\n".to_owned(), "HTTP/1.1 404"),
        (
            "GET /qr/status?id=a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_owned(),
            "HTTP/1.1 400",
        ),
        (
            format!(
                "GET /qr/status?id=a HTTP/1.1\r\nX: {}\r\n\r\n",
                "a".repeat(5000)
            ),
            "HTTP/1.1 431",
        ),
    ] {
        let answer = raw(request.clone()).await;
        assert!(answer.starts_with(status_line), "{request:.40} -> {answer}");
        assert!(answer.contains("\"error\""), "{answer}");
    }
}
