//! An upstream identity provider that answers with bad ID tokens (a fake one, in the test):
//! every bad answer is refused and audited, and a key the upstream rotated in is found by
//! fetching its JWKS once more.
#![allow(clippy::unwrap_used)]
mod common;

use actix_web::{web, App, HttpResponse, HttpServer};
use common::browser::{query_of, Browser};
use common::{id_number, TestServer};
use idp::flows::upstreams::{self, NewUpstream};
use keys::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

/// What the fake upstream publishes and answers next.
struct Fake {
    issuer: String,
    published: Vec<Map<String, Value>>,
    next_id_token: String,
}

type Shared = Arc<Mutex<Fake>>;

/// Makes the ID token of one case from the trip's nonce.
type TokenMaker<'a> = Box<dyn Fn(&str) -> String + 'a>;

async fn start_fake() -> (String, Shared) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let fake = Arc::new(Mutex::new(Fake {
        issuer: base.clone(),
        published: Vec::new(),
        next_id_token: String::new(),
    }));
    let state = fake.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .route(
                "/.well-known/openid-configuration",
                web::get().to(|f: web::Data<Shared>| async move {
                    let f = f.lock().unwrap();
                    HttpResponse::Ok().json(json!({
                        "issuer": f.issuer,
                        "authorization_endpoint": format!("{}/authorize", f.issuer),
                        "token_endpoint": format!("{}/token", f.issuer),
                        "jwks_uri": format!("{}/jwks", f.issuer),
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["ES256"],
                    }))
                }),
            )
            .route(
                "/jwks",
                web::get().to(|f: web::Data<Shared>| async move {
                    HttpResponse::Ok().json(json!({ "keys": f.lock().unwrap().published }))
                }),
            )
            .route(
                "/token",
                web::post().to(|f: web::Data<Shared>| async move {
                    HttpResponse::Ok().json(json!({
                        "access_token": "opaque",
                        "token_type": "Bearer",
                        "expires_in": 60,
                        "id_token": f.lock().unwrap().next_id_token,
                    }))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (base, fake)
}

#[actix_web::test]
async fn bad_upstream_id_tokens_are_refused_and_audited() {
    let (fake_base, fake) = start_fake().await;
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let rotated_in = SigningKey::generate(Alg::ES256).unwrap();
    let stranger = SigningKey::generate(Alg::ES256).unwrap();
    fake.lock().unwrap().published = vec![key.public_jwk()];
    let here = TestServer::start_localhost().await;
    let issuer = fake_base.clone();
    here.with(move |svc| {
        let new = NewUpstream {
            code: "33",
            name: "浙江",
            issuer: &issuer,
            client_id: "hub-at-33",
            client_secret: "a-secret-of-the-hub-at-33",
        };
        upstreams::add(svc, &new, "test").unwrap().unwrap();
    })
    .await;
    let browser = Browser::new(&here.base);
    let citizen = id_number(33, 55);
    let now = idp::clock::Clock::now(&*here.clock);

    // One trip per case: the nonce and state come from the authorization URL.
    let trip = || async {
        let out = browser.get("/federation/start?upstream=33").await;
        let q = query_of(&out.location.expect("to the upstream"));
        (q["state"].clone(), q["nonce"].clone())
    };
    let claims = |nonce: &str| -> Map<String, Value> {
        json!({
            "iss": fake_base, "sub": "zj-0001", "aud": "hub-at-33",
            "iat": now, "exp": now + 300, "nonce": nonce,
            "id_number": citizen, "name": "张三", "acr": idp::domain::acr::ACR_PASSWORD,
        })
        .as_object()
        .unwrap()
        .clone()
    };
    let answer = |state: String, token: String| {
        let (browser, fake) = (&browser, &fake);
        async move {
            fake.lock().unwrap().next_id_token = token;
            browser
                .get(&format!("/federation/callback?state={state}&code=c"))
                .await
        }
    };
    let refusals = || async {
        here.with(|s| {
            s.store
                .audit_recent(Some("federation.refused"), 50)
                .unwrap()
        })
        .await
    };

    let stranger_citizen = id_number(44, 55);
    let (_, used_nonce) = trip().await;
    // (case, what the refusal says, the token)
    let mut cases: Vec<(&str, &str, TokenMaker)> = Vec::new();
    cases.push((
        "another audience",
        "audiences",
        Box::new(|n| {
            let mut c = claims(n);
            c.insert("aud".into(), json!("someone-else"));
            key.sign_jwt("JWT", &c).unwrap()
        }),
    ));
    cases.push((
        "another issuer",
        "issuer",
        Box::new(|n| {
            let mut c = claims(n);
            c.insert("iss".into(), json!("http://127.0.0.1:1"));
            key.sign_jwt("JWT", &c).unwrap()
        }),
    ));
    cases.push((
        "a nonce of another trip (replayed)",
        "nonce",
        Box::new(|_| key.sign_jwt("JWT", &claims(&used_nonce)).unwrap()),
    ));
    cases.push((
        "expired",
        "expired",
        Box::new(|n| {
            let mut c = claims(n);
            c.insert("exp".into(), json!(now - 600));
            c.insert("iat".into(), json!(now - 900));
            key.sign_jwt("JWT", &c).unwrap()
        }),
    ));
    cases.push((
        "a citizen of another region",
        "another region",
        Box::new(|n| {
            let mut c = claims(n);
            c.insert("id_number".into(), json!(stranger_citizen));
            key.sign_jwt("JWT", &c).unwrap()
        }),
    ));
    cases.push((
        "an unknown key",
        "Signature",
        Box::new(|n| stranger.sign_jwt("JWT", &claims(n)).unwrap()),
    ));
    cases.push((
        "a broken signature",
        "Signature",
        Box::new(|n| {
            let jwt = key.sign_jwt("JWT", &claims(n)).unwrap();
            let (rest, sig) = jwt.rsplit_once('.').unwrap();
            let flipped = if sig.starts_with('A') { "B" } else { "A" };
            format!("{rest}.{flipped}{}", &sig[1..])
        }),
    ));
    for (i, (what, why, make)) in cases.iter().enumerate() {
        let (state, nonce) = trip().await;
        let page = answer(state, make(&nonce)).await;
        assert_eq!(page.status, 502, "{what}: {}", page.body);
        assert!(page.body.contains("已拒绝并记录"), "{what}");
        let audited = refusals().await;
        assert_eq!(audited.len(), i + 1, "{what} is audited");
        let detail = audited[0].event.detail.to_string();
        assert!(detail.contains(why), "{what}: {detail}");
    }
    // Nobody was logged in or linked by any of that.
    let number = citizen.clone();
    let linked = here
        .with(move |s| idp::flows::users::find_by_login_name(s, &number).unwrap())
        .await;
    assert!(linked.is_none());

    // The upstream rotates its key after we cached its JWKS: one more fetch finds it.
    fake.lock().unwrap().published.push(rotated_in.public_jwk());
    let (state, nonce) = trip().await;
    let page = answer(state, rotated_in.sign_jwt("JWT", &claims(&nonce)).unwrap()).await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert!(page.location.unwrap().ends_with("/account"));
}

/// Logout tokens from the upstream (Back-Channel Logout 1.0): every malformed, foreign or
/// replayed one is refused with 400 and audited and ends nothing; a valid one ends exactly the
/// session its `sid` started here.
#[actix_web::test]
async fn upstream_logout_tokens_end_only_the_session_they_name() {
    let (fake_base, fake) = start_fake().await;
    let key = SigningKey::generate(Alg::ES256).unwrap();
    let stranger = SigningKey::generate(Alg::ES256).unwrap();
    fake.lock().unwrap().published = vec![key.public_jwk()];
    let here = TestServer::start_localhost().await;
    let issuer = fake_base.clone();
    here.with(move |svc| {
        let new = NewUpstream {
            code: "33",
            name: "浙江",
            issuer: &issuer,
            client_id: "hub-at-33",
            client_secret: "a-secret-of-the-hub-at-33",
        };
        upstreams::add(svc, &new, "test").unwrap().unwrap();
    })
    .await;
    let now = idp::clock::Clock::now(&*here.clock);
    let citizen = id_number(33, 56);

    // The citizen logs in through the upstream, whose session is "zj-sid-1".
    let browser = Browser::new(&here.base);
    let out = browser.get("/federation/start?upstream=33").await;
    let q = query_of(&out.location.unwrap());
    let id_token = json!({
        "iss": fake_base, "sub": "zj-0001", "aud": "hub-at-33", "iat": now, "exp": now + 300,
        "nonce": q["nonce"], "sid": "zj-sid-1", "id_number": citizen, "name": "张三",
    });
    fake.lock().unwrap().next_id_token =
        key.sign_jwt("JWT", id_token.as_object().unwrap()).unwrap();
    let back = browser
        .get(&format!("/federation/callback?state={}&code=c", q["state"]))
        .await;
    assert_eq!(back.status, 302, "{}", back.body);
    let logged_in = || async { browser.get("/account").await.status == 200 };
    assert!(logged_in().await);

    let claims = |sid: &str, jti: &str| -> Map<String, Value> {
        json!({
            "iss": fake_base, "aud": "hub-at-33", "iat": now, "exp": now + 120, "jti": jti,
            "sid": sid, "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        })
        .as_object()
        .unwrap()
        .clone()
    };
    let changed = |key: &str, value: Option<Value>| {
        let mut c = claims("zj-sid-1", "j-bad");
        match value {
            Some(v) => c.insert(key.into(), v),
            None => c.remove(key),
        };
        c
    };
    let http = common::flow::http();
    let send = |token: String| {
        let http = http.clone();
        let url = here.url("/federation/backchannel_logout");
        async move {
            let r = http
                .post(url)
                .form(&[("logout_token", token)])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or_default())
        }
    };
    let bad: Vec<(&str, String)> = vec![
        ("not a JWT", "not-a-jwt".into()),
        (
            "signed by a stranger",
            stranger
                .sign_jwt("logout+jwt", &claims("zj-sid-1", "j1"))
                .unwrap(),
        ),
        (
            "another audience",
            key.sign_jwt("logout+jwt", &changed("aud", Some(json!("x"))))
                .unwrap(),
        ),
        (
            "an unknown issuer",
            key.sign_jwt(
                "logout+jwt",
                &changed("iss", Some(json!("http://127.0.0.1:1"))),
            )
            .unwrap(),
        ),
        (
            "no sid",
            key.sign_jwt("logout+jwt", &changed("sid", None)).unwrap(),
        ),
        (
            "no logout event",
            key.sign_jwt("logout+jwt", &changed("events", Some(json!({}))))
                .unwrap(),
        ),
        (
            "an ID token (nonce)",
            key.sign_jwt("logout+jwt", &changed("nonce", Some(json!("n"))))
                .unwrap(),
        ),
        (
            "issued long ago",
            key.sign_jwt("logout+jwt", &changed("iat", Some(json!(now - 3600))))
                .unwrap(),
        ),
        (
            "another kind of token",
            key.sign_jwt("at+jwt", &claims("zj-sid-1", "j2")).unwrap(),
        ),
    ];
    for (what, token) in bad {
        let (status, body) = send(token).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"], "invalid_request", "{what}");
        assert!(logged_in().await, "{what} ended the session");
    }
    let audited = here
        .with(|s| {
            s.store
                .audit_recent(Some("logout.from_upstream_refused"), 50)
                .unwrap()
                .len()
        })
        .await;
    assert_eq!(
        audited, 7,
        "refusals of what a known upstream signed or sent are audited"
    );

    // A valid token for another upstream session ends nothing here.
    let (status, _) = send(
        key.sign_jwt("logout+jwt", &claims("zj-sid-2", "j3"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(logged_in().await);
    // The one naming the citizen's upstream session ends theirs; its replay is refused.
    let valid = key
        .sign_jwt("logout+jwt", &claims("zj-sid-1", "j4"))
        .unwrap();
    assert_eq!(send(valid.clone()).await.0, 200);
    assert!(!logged_in().await, "the session ended");
    let (status, body) = send(valid).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}
