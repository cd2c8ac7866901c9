//! Fingerprint login (WebAuthn passkeys with user verification) through the JSON API, with a
//! software authenticator playing the citizen's phone.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::flow::{self, jwt_parts, redeem};
use common::passkey::{post_json, Phone};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use idp::domain::acr::{ACR_PASSWORD, ACR_STRONG};
use serde_json::json;

struct Setup {
    server: TestServer,
    client: TestClient,
    citizen: String,
    sub: String,
    /// Logged in with the password, consented to `client`.
    browser: Browser,
}

async fn setup() -> Setup {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 61);
    let sub = server.user(&citizen, PASSWORD).await;
    let client = server.client(ClientSpec::default()).await;
    let browser = Browser::new(&server.base);
    flow::code(
        &server,
        &browser,
        &client,
        &citizen,
        PASSWORD,
        &[("nonce", "n0")],
    )
    .await;
    Setup {
        server,
        client,
        citizen,
        sub,
        browser,
    }
}

/// Starts an authorization request in a fresh browser; returns the browser and the parked id.
async fn parked_request(s: &Setup, extra: &[(&str, &str)]) -> (Browser, String) {
    let browser = Browser::new(&s.server.base);
    let page = browser
        .get(&flow::authorize_url(&s.server, &s.client, extra))
        .await;
    let login = page.location.expect("to the login page");
    (browser, query_of(&login)["req"].clone())
}

/// Removes a passkey with the account page's form (its CSRF token included).
async fn remove(browser: &Browser, id: &str) -> common::browser::Page {
    let page = browser.get("/account").await;
    let marker = r#"name="csrf" value=""#;
    let start = page.body.find(marker).expect("a CSRF token") + marker.len();
    let token = &page.body[start..start + page.body[start..].find('"').unwrap()];
    browser
        .post(
            "/account/passkeys/remove",
            &[("csrf".into(), token.into()), ("id".into(), id.into())],
        )
        .await
}

async fn audit_kinds(server: &TestServer) -> Vec<(String, String)> {
    server
        .with(|s| s.store.audit_recent(None, 200).unwrap())
        .await
        .into_iter()
        .map(|e| (e.event.kind, e.event.detail.to_string()))
        .collect()
}

#[actix_web::test]
async fn a_bound_passkey_logs_in_alone_through_a_full_code_flow() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    let bound = phone.bind(&s.browser, " 我的手机 ").await;
    assert_eq!(bound.status, 201, "{}", bound.json);
    assert_eq!(bound.json["name"], "我的手机");
    assert_eq!(bound.json["suspended"], false);

    // A fresh browser: no session, no ID number typed.
    let (browser, req) = parked_request(&s, &[("nonce", "n-passkey")]).await;
    let login_page = browser.get(&format!("/login?req={req}")).await;
    assert!(login_page.body.contains("指纹登录"), "{}", login_page.body);
    assert!(login_page
        .body
        .contains(r#"autocomplete="username webauthn""#));
    let finish = phone.log_in(&browser, Some(&req)).await;
    assert_eq!(finish.status, 200, "{}", finish.json);
    assert!(finish.set_cookie, "the session cookie is set");
    let next = finish.json["redirect_to"].as_str().unwrap();
    assert!(
        next.starts_with(&s.server.url("/authorize/resume?req=")),
        "{next}"
    );

    // Consent was given before by the same citizen: straight back to the app with a code.
    let back = browser.follow(browser.get(next).await).await;
    let location = back.location.expect("redirect to the app");
    let q = query_of(&location);
    assert!(location.starts_with(&s.client.redirect_uri), "{location}");
    let tokens = redeem(&s.server, &s.client, &q["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, claims) = jwt_parts(&tokens.str("id_token"));
    assert_eq!(claims["sub"], s.sub.as_str());
    assert_eq!(claims["nonce"], "n-passkey");
    assert_eq!(claims["acr"], ACR_STRONG);
    assert_eq!(claims["amr"], json!(["hwk", "user"]));

    // The citizen sees it, now with a last-used time.
    let list = s
        .browser
        .http
        .get(s.server.url("/webauthn/credentials"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(list["passkeys"][0]["name"], "我的手机");
    assert!(list["passkeys"][0]["last_used_at"].is_i64());
    let account = s.browser.get("/account").await;
    assert!(account.body.contains("我的手机"), "{}", account.body);

    let kinds = audit_kinds(&s.server).await;
    assert!(kinds.iter().any(|(k, _)| k == "passkey.bound"));
    assert!(kinds
        .iter()
        .any(|(k, d)| k == "login.success" && d.contains("passkey")));
    assert!(
        !kinds.iter().any(|(_, d)| d.contains(&s.citizen)),
        "no ID number in the audit log"
    );
}

#[actix_web::test]
async fn several_passkeys_each_named_and_the_same_one_cannot_be_bound_twice() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    let mut laptop = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    assert_eq!(laptop.bind(&s.browser, "电脑").await.status, 201);
    let names: Vec<String> = s
        .server
        .with({
            let sub = s.sub.clone();
            move |svc| idp::flows::passkeys::list(svc, &sub).unwrap()
        })
        .await
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["手机", "电脑"]);
    // The registration options exclude what is already bound.
    let start = post_json(
        &s.browser,
        "/webauthn/register/start",
        &json!({"name": "x"}),
    )
    .await;
    assert_eq!(
        start.json["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for bad in ["", "   ", &"长".repeat(41)] {
        let r = post_json(
            &s.browser,
            "/webauthn/register/start",
            &json!({ "name": bad }),
        )
        .await;
        assert_eq!((r.status, r.error()), (400, "invalid_name"), "{bad:?}");
    }
}

#[actix_web::test]
async fn an_assertion_without_user_verification_is_refused() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    let (browser, req) = parked_request(&s, &[]).await;
    let start = post_json(&browser, "/webauthn/login/start", &json!({ "req": req })).await;
    let credential = phone.assert(&start.json, false);
    let finish = post_json(
        &browser,
        "/webauthn/login/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!(
        (finish.status, finish.error()),
        (400, "user_verification_required")
    );
    assert!(finish.json["error_description"]
        .as_str()
        .unwrap()
        .contains("指纹"));
    assert!(!finish.set_cookie, "no session");
    let page = browser.get(&format!("/authorize/resume?req={req}")).await;
    assert!(
        page.location.unwrap().starts_with("/login"),
        "still not logged in"
    );
    assert!(audit_kinds(&s.server)
        .await
        .iter()
        .any(|(k, d)| k == "passkey.failure" && d.contains("user_verification_required")));
}

#[actix_web::test]
async fn an_assertion_made_for_another_origin_is_refused() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    // A phishing site relays our challenge. A browser would not even let it use our RP id; a
    // rogue client that signs for the phishing site's own origin and RP id is refused too.
    phone.origin = url::Url::parse("https://idp-gov.example").unwrap();
    let (browser, req) = parked_request(&s, &[]).await;
    let mut start = post_json(&browser, "/webauthn/login/start", &json!({ "req": req })).await;
    start.json["publicKey"]["rpId"] = json!("idp-gov.example");
    let credential = phone.assert(&start.json, true);
    let finish = post_json(
        &browser,
        "/webauthn/login/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!((finish.status, finish.error()), (403, "origin_mismatch"));
    assert!(!finish.set_cookie);

    // A cross-site script calling the API directly is refused before anything happens.
    let cross = browser
        .http
        .post(s.server.url("/webauthn/login/start"))
        .header("origin", "https://idp-gov.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    // A form post (not JSON) cannot reach the API either.
    let form = browser
        .http
        .post(s.server.url("/webauthn/login/start"))
        .form(&[("req", req.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 400);
}

#[actix_web::test]
async fn a_ceremony_is_single_use_and_expires() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    let (browser, req) = parked_request(&s, &[]).await;
    let start = post_json(&browser, "/webauthn/login/start", &json!({ "req": req })).await;
    let credential = phone.assert(&start.json, true);
    let body = json!({ "ceremony": start.json["ceremony"], "credential": credential });
    let first = post_json(&browser, "/webauthn/login/finish", &body).await;
    assert_eq!(first.status, 200, "{}", first.json);
    // The same signed answer again (a replayed challenge): refused, nothing issued.
    let replay = post_json(
        &Browser::new(&s.server.base),
        "/webauthn/login/finish",
        &body,
    )
    .await;
    assert_eq!((replay.status, replay.error()), (400, "ceremony_expired"));
    assert!(!replay.set_cookie);

    // A ceremony left past its lifetime cannot be finished.
    let start = post_json(&browser, "/webauthn/login/start", &json!({})).await;
    let credential = phone.assert(&start.json, true);
    let ttl = s.server.svc.config.ceremony_ttl_secs;
    s.server.clock.advance(ttl + 1);
    let late = post_json(
        &browser,
        "/webauthn/login/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!((late.status, late.error()), (400, "ceremony_expired"));

    // Challenges of one ceremony do not fit another.
    let a = post_json(&browser, "/webauthn/login/start", &json!({})).await;
    let b = post_json(&browser, "/webauthn/login/start", &json!({})).await;
    let signed_for_a = phone.assert(&a.json, true);
    let crossed = post_json(
        &browser,
        "/webauthn/login/finish",
        &json!({ "ceremony": b.json["ceremony"], "credential": signed_for_a }),
    )
    .await;
    assert_eq!(crossed.status, 400, "{}", crossed.json);
    assert!(!crossed.set_cookie);
}

/// The ceremony is claimed in the commit that opens the session: of several finishes of one
/// ceremony at once, one logs in and the others are refused with nothing stored; and a refused
/// assertion spends its ceremony as a success does.
#[actix_web::test]
async fn of_concurrent_finishes_of_one_ceremony_one_logs_in_and_a_refusal_spends_it() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    let logins = || async {
        audit_kinds(&s.server)
            .await
            .iter()
            .filter(|(kind, detail)| kind == "login.success" && detail.contains("passkey"))
            .count()
    };
    let sessions = || s.server.count("SELECT COUNT(*) FROM sessions");
    let (logins_before, sessions_before) = (logins().await, sessions().await);
    let start = post_json(&s.browser, "/webauthn/login/start", &json!({})).await;
    let credential = phone.assert(&start.json, true);
    let body = json!({ "ceremony": start.json["ceremony"], "credential": credential });
    let tabs: Vec<Browser> = (0..6).map(|_| Browser::new(&s.server.base)).collect();
    let finish = |b| post_json(b, "/webauthn/login/finish", &body);
    let (a, b, c, d, e, f) = tokio::join!(
        finish(&tabs[0]),
        finish(&tabs[1]),
        finish(&tabs[2]),
        finish(&tabs[3]),
        finish(&tabs[4]),
        finish(&tabs[5]),
    );
    let answers = [a, b, c, d, e, f];
    let won: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(won[0].set_cookie);
    for lost in answers.iter().filter(|a| a.status != 200) {
        assert_eq!((lost.status, lost.error()), (400, "ceremony_expired"));
        assert!(!lost.set_cookie);
    }
    assert_eq!(sessions().await, sessions_before + 1);
    assert_eq!(logins().await, logins_before + 1);

    // An assertion signed for another ceremony is refused, and the ceremony it was sent to is
    // spent: its own right answer comes too late.
    let a = post_json(&s.browser, "/webauthn/login/start", &json!({})).await;
    let b = post_json(&s.browser, "/webauthn/login/start", &json!({})).await;
    let signed_for_a = phone.assert(&a.json, true);
    let signed_for_b = phone.assert(&b.json, true);
    let crossed = post_json(
        &tabs[0],
        "/webauthn/login/finish",
        &json!({ "ceremony": b.json["ceremony"], "credential": signed_for_a }),
    )
    .await;
    assert_eq!(crossed.status, 400, "{}", crossed.json);
    let late = post_json(
        &tabs[0],
        "/webauthn/login/finish",
        &json!({ "ceremony": b.json["ceremony"], "credential": signed_for_b }),
    )
    .await;
    assert_eq!((late.status, late.error()), (400, "ceremony_expired"));
    assert_eq!(sessions().await, sessions_before + 1);
}

#[actix_web::test]
async fn a_sign_counter_that_goes_backwards_suspends_the_passkey() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    let browser = Browser::new(&s.server.base);
    assert_eq!(phone.log_in(&browser, None).await.status, 200);
    // A copy of the key was used elsewhere meanwhile: the stored counter is ahead of this phone.
    let id = phone.credential_id.clone().unwrap();
    s.server
        .with(move |svc| {
            let row = svc.store.passkey(&id).unwrap().unwrap();
            let mut credential: serde_json::Value = serde_json::from_str(&row.credential).unwrap();
            credential["cred"]["counter"] = json!(1000);
            svc.store
                .passkey_used(&id, &credential.to_string(), 0)
                .unwrap();
        })
        .await;
    let cloned = phone.log_in(&Browser::new(&s.server.base), None).await;
    assert_eq!(
        (cloned.status, cloned.error()),
        (403, "credential_suspended")
    );
    assert!(cloned.json["error_description"]
        .as_str()
        .unwrap()
        .contains("复制"));
    // Suspended for good: even with the stored counter back below the phone's, it is refused.
    let id = phone.credential_id.clone().unwrap();
    s.server
        .with(move |svc| {
            let row = svc.store.passkey(&id).unwrap().unwrap();
            let mut credential: serde_json::Value = serde_json::from_str(&row.credential).unwrap();
            credential["cred"]["counter"] = json!(0);
            svc.store
                .passkey_used(&id, &credential.to_string(), 0)
                .unwrap();
        })
        .await;
    let later = phone.log_in(&Browser::new(&s.server.base), None).await;
    assert_eq!(later.error(), "credential_suspended");
    // The citizen is told on their account page; the event is audited.
    let account = s.browser.get("/account").await;
    assert!(account.body.contains("疑似被复制"), "{}", account.body);
    assert!(audit_kinds(&s.server)
        .await
        .iter()
        .any(|(k, _)| k == "passkey.clone_suspected"));
}

#[actix_web::test]
async fn a_removed_passkey_is_refused_and_only_its_owner_can_remove_it() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    let id = phone.credential_id.clone().unwrap();

    // Another citizen cannot remove it.
    s.server.another_user(&id_number(51, 62), "王五").await;
    let intruder = Browser::new(&s.server.base);
    flow::login(&intruder, &id_number(51, 62), PASSWORD).await;
    let tried = remove(&intruder, &id).await;
    assert_eq!(tried.location.as_deref(), Some("/account?done=not_found"));
    assert_eq!(
        phone
            .log_in(&Browser::new(&s.server.base), None)
            .await
            .status,
        200
    );

    // A removal without the CSRF token changes nothing.
    let forged = s
        .browser
        .post("/account/passkeys/remove", &[("id".into(), id.clone())])
        .await;
    assert_eq!(forged.status, 403);

    // The owner removes it from the account page; then it no longer logs anyone in.
    let removed = remove(&s.browser, &id).await;
    assert_eq!(removed.location.as_deref(), Some("/account?done=removed"));
    let refused = phone.log_in(&Browser::new(&s.server.base), None).await;
    assert_eq!(
        (refused.status, refused.error()),
        (400, "unknown_credential")
    );
    assert!(audit_kinds(&s.server)
        .await
        .iter()
        .any(|(k, _)| k == "passkey.removed"));
}

#[actix_web::test]
async fn a_password_session_steps_up_to_a_passkey_when_the_app_asks_for_it() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    // The password session is enough at its own level...
    let code = flow::code(
        &s.server,
        &s.browser,
        &s.client,
        &s.citizen,
        PASSWORD,
        &[("acr_values", ACR_PASSWORD)],
    )
    .await;
    let (_, claims) = jwt_parts(
        &redeem(&s.server, &s.client, &code, &[])
            .await
            .str("id_token"),
    );
    assert_eq!(claims["acr"], ACR_PASSWORD);
    // ...but not for an app that asks for the strong level, silently or not.
    let silent = s
        .browser
        .get(&flow::authorize_url(
            &s.server,
            &s.client,
            &[("acr_values", ACR_STRONG), ("prompt", "none")],
        ))
        .await;
    assert_eq!(
        query_of(&silent.location.unwrap())["error"],
        "login_required"
    );
    let step = s
        .browser
        .get(&flow::authorize_url(
            &s.server,
            &s.client,
            &[("acr_values", ACR_STRONG)],
        ))
        .await;
    let login = step.location.unwrap();
    let page = s.browser.get(&login).await;
    assert!(page.body.contains("更高安全等级"), "{}", page.body);
    let req = query_of(&login)["req"].clone();
    let finish = phone.log_in(&s.browser, Some(&req)).await;
    assert_eq!(finish.status, 200, "{}", finish.json);
    let back = s
        .browser
        .follow(
            s.browser
                .get(finish.json["redirect_to"].as_str().unwrap())
                .await,
        )
        .await;
    let q = query_of(&back.location.unwrap());
    let (_, claims) = jwt_parts(
        &redeem(&s.server, &s.client, &q["code"], &[])
            .await
            .str("id_token"),
    );
    assert_eq!(claims["acr"], ACR_STRONG);
    assert_eq!(claims["sub"], s.sub.as_str());
}

#[actix_web::test]
async fn binding_needs_a_session_and_its_own_ceremony() {
    let s = setup().await;
    let stranger = Browser::new(&s.server.base);
    let r = post_json(&stranger, "/webauthn/register/start", &json!({"name": "x"})).await;
    assert_eq!((r.status, r.error()), (401, "login_required"));
    // A ceremony started by one citizen cannot be finished in another citizen's session.
    let mut phone = Phone::new(&s.server.base);
    let start = post_json(
        &s.browser,
        "/webauthn/register/start",
        &json!({"name": "x"}),
    )
    .await;
    let response = phone.register(&start.json);
    s.server.another_user(&id_number(51, 63), "赵六").await;
    flow::login(&stranger, &id_number(51, 63), PASSWORD).await;
    let stolen = post_json(
        &stranger,
        "/webauthn/register/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": response }),
    )
    .await;
    assert_eq!((stolen.status, stolen.error()), (400, "ceremony_expired"));
    // Malformed bodies are clear errors.
    let r = post_json(
        &s.browser,
        "/webauthn/register/finish",
        &json!({"ceremony": 1}),
    )
    .await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
}

#[actix_web::test]
async fn binding_needs_a_login_of_the_last_five_minutes() {
    let s = setup().await;
    // A session that logged in with the password six minutes ago (a phished password, say).
    s.server
        .clock
        .advance(idp::domain::passkey::BIND_FRESHNESS_SECS + 1);
    let r = post_json(
        &s.browser,
        "/webauthn/register/start",
        &json!({"name": "x"}),
    )
    .await;
    assert_eq!((r.status, r.error()), (403, "reauthentication_required"));
    assert!(r.json["error_description"]
        .as_str()
        .unwrap()
        .contains("重新登录"));
    // Logging in again opens the window.
    flow::login(&s.browser, &s.citizen, PASSWORD).await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
}

#[actix_web::test]
async fn passkeys_are_off_when_the_issuer_is_an_ip_address() {
    let server = TestServer::start().await;
    let browser = Browser::new(&server.base);
    let r = post_json(&browser, "/webauthn/login/start", &json!({})).await;
    assert_eq!((r.status, r.error()), (404, "passkeys_unavailable"));
    assert!(!browser.get("/login").await.body.contains("passkey-login"));
}

#[actix_web::test]
async fn a_ceremony_begun_on_one_replica_finishes_on_another() {
    let s = setup().await;
    let mut phone = Phone::new(&s.server.base);
    assert_eq!(phone.bind(&s.browser, "手机").await.status, 201);
    let config = s.server.svc.config.clone();
    let kek = config.kek_file.clone().unwrap();
    let other = common::replica::start(&config.database_url, &kek, &config.issuer).await;

    let (browser, req) = parked_request(&s, &[]).await;
    let start = post_json(&browser, "/webauthn/login/start", &json!({ "req": req })).await;
    let credential = phone.assert(&start.json, true);
    let on_other = Browser {
        http: browser.http.clone(),
        base: other.base.clone(),
    };
    let finish = post_json(
        &on_other,
        "/webauthn/login/finish",
        &json!({ "ceremony": start.json["ceremony"], "credential": credential }),
    )
    .await;
    assert_eq!(finish.status, 200, "{}", finish.json);
    // Back on the first replica, the session and the parked request carry on.
    let back = browser
        .follow(
            browser
                .get(finish.json["redirect_to"].as_str().unwrap())
                .await,
        )
        .await;
    let q = query_of(&back.location.expect("to the app"));
    let tokens = redeem(&s.server, &s.client, &q["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
}
