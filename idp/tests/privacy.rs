//! The citizen's own data: the apps they authorized (withdraw one and its tokens die), a
//! download of everything stored about them, and erasure of the account; the same from the
//! operator's CLI. Nobody reaches another citizen's data.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_containing, Browser, Page};
use common::flow::{self, userinfo};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use idp::clock::Clock as _;
use idp::domain::licence::ImportRecord;
use idp::flows::{audit, licences};
use serde_json::{json, Value};

/// The hidden fields of the account page's form that posts to `action`, plus `extra`.
fn account_form(page: &Page, action: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let marker = format!(r#"action="{action}""#);
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no form to {action}: {}", page.body));
    let start = page.body[..at].rfind("<form").unwrap();
    let form = form_containing(&page.body[start..], "csrf").unwrap();
    let mut fields: Vec<(String, String)> = form
        .hidden
        .into_iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .collect();
    fields.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    fields
}

/// A citizen logged in at an app with a refresh token: (their browser, the token response).
async fn signed_in_at(
    server: &TestServer,
    app: &common::TestClient,
    citizen: &str,
) -> (Browser, flow::Reply) {
    let browser = Browser::new(&server.base);
    let tokens = flow::tokens(
        server,
        &browser,
        app,
        citizen,
        PASSWORD,
        &[
            ("scope", "openid profile offline_access"),
            ("prompt", "consent"),
        ],
    )
    .await;
    (browser, tokens)
}

async fn refresh(server: &TestServer, app: &common::TestClient, token: &str) -> flow::Reply {
    flow::as_client(
        server,
        app,
        "/token",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn audit_kinds(server: &TestServer, kind: &'static str) -> usize {
    server
        .with(move |s| s.store.audit_recent(Some(kind), 100).unwrap().len())
        .await
}

#[actix_web::test]
async fn a_citizen_withdraws_an_app_and_its_refresh_token_stops_working() {
    let server = TestServer::start().await;
    let (alice, bob) = (id_number(33, 301), id_number(33, 302));
    server.user(&alice, PASSWORD).await;
    server.another_user(&bob, "王五").await;
    let app = server
        .client(ClientSpec {
            name: "杭州公积金".into(),
            ..ClientSpec::default()
        })
        .await;
    let (browser, tokens) = signed_in_at(&server, &app, &alice).await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("杭州公积金"), "{}", page.body);
    assert!(page.body.contains(r#"action="/account/apps/revoke""#));

    // Another citizen naming this app withdraws nothing of Alice's.
    let (bob_browser, _) = signed_in_at(&server, &app, &bob).await;
    let bob_page = bob_browser.get("/account").await;
    let bob_form = account_form(&bob_page, "/account/apps/revoke", &[("id", "no-such-app")]);
    let nothing = bob_browser.post("/account/apps/revoke", &bob_form).await;
    assert_eq!(nothing.location.as_deref(), Some("/account?done=not_found"));
    assert_eq!(
        userinfo(&server, Some(&tokens.str("access_token")))
            .await
            .status,
        200
    );

    // Without the CSRF token nothing changes.
    let forged = browser
        .post(
            "/account/apps/revoke",
            &[("id".into(), app.client_id.clone())],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        userinfo(&server, Some(&tokens.str("access_token")))
            .await
            .status,
        200
    );

    let form = account_form(&page, "/account/apps/revoke", &[("id", &app.client_id)]);
    let done = browser.post("/account/apps/revoke", &form).await;
    assert_eq!(done.location.as_deref(), Some("/account?done=revoked"));
    let refreshed = refresh(&server, &app, &tokens.str("refresh_token")).await;
    assert_eq!(
        (refreshed.status, refreshed.error()),
        (400, "invalid_grant"),
        "{}",
        refreshed.json
    );
    assert_eq!(
        userinfo(&server, Some(&tokens.str("access_token")))
            .await
            .status,
        401
    );
    let after = browser.get("/account?done=revoked").await;
    let apps_section = after.body.split(r#"id="apps-title""#).nth(1).unwrap();
    let apps_section = apps_section.split("</section>").next().unwrap();
    assert!(!apps_section.contains("杭州公积金"), "{apps_section}");
    // The login history still names the app the citizen logged in to.
    assert!(after.body.contains("杭州公积金"));
    assert!(after.body.contains("已撤销授权"));
    assert_eq!(audit_kinds(&server, "consent.withdrawn").await, 1);
    // Bob's authorization of the same app is untouched.
    assert!(bob_browser
        .get("/account")
        .await
        .body
        .contains("杭州公积金"));
}

#[actix_web::test]
async fn a_code_issued_before_the_citizen_withdraws_the_app_gets_no_tokens() {
    let server = TestServer::start().await;
    let alice = id_number(33, 303);
    server.user(&alice, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let (browser, _) = signed_in_at(&server, &app, &alice).await;
    // Already consented and logged in: the code comes straight back.
    let code = flow::code(&server, &browser, &app, &alice, PASSWORD, &[]).await;
    let page = browser.get("/account").await;
    let form = account_form(&page, "/account/apps/revoke", &[("id", &app.client_id)]);
    let done = browser.post("/account/apps/revoke", &form).await;
    assert_eq!(done.location.as_deref(), Some("/account?done=revoked"));

    let issued = audit_kinds(&server, "token.issued").await;
    let r = flow::redeem(&server, &app, &code, &[]).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"), "{}", r.json);
    assert!(
        r.json["error_description"]
            .as_str()
            .unwrap()
            .contains("consent was withdrawn"),
        "{}",
        r.json
    );
    assert_eq!(audit_kinds(&server, "token.issued").await, issued);
    // The app is still not listed among the citizen's authorized apps.
    let after = browser.get("/account").await;
    let apps_section = after.body.split(r#"id="apps-title""#).nth(1).unwrap();
    let apps_section = apps_section.split("</section>").next().unwrap();
    assert!(!apps_section.contains("测试应用"), "{apps_section}");
}

#[actix_web::test]
async fn a_citizen_downloads_everything_stored_about_them_and_nobody_elses() {
    let server = TestServer::start().await;
    let (alice, bob) = (id_number(33, 303), id_number(33, 304));
    let sub = server.user(&alice, PASSWORD).await;
    server.another_user(&bob, "王五").await;
    let records: Vec<ImportRecord> = serde_json::from_value(json!([
        {"type": "driving_licence", "holder": alice, "claims": {"name": "张三", "sex": "男",
            "nationality": "中国", "birth_date": "1980-01-05", "first_issue_date": "2005-06-01",
            "vehicle_class": "C1", "issuing_authority": "杭州市公安局交通警察支队"}},
        {"type": "driving_licence", "holder": bob, "claims": {"name": "王五", "sex": "男",
            "nationality": "中国", "birth_date": "1980-01-05", "first_issue_date": "2006-06-01",
            "vehicle_class": "B2", "issuing_authority": "杭州市公安局交通警察支队"}},
    ]))
    .unwrap();
    server
        .with(move |s| {
            licences::import(s, &records, "operator:test")
                .unwrap()
                .unwrap()
        })
        .await;
    let app = server.client(ClientSpec::default()).await;
    let (browser, _) = signed_in_at(&server, &app, &alice).await;
    signed_in_at(&server, &app, &bob).await;

    let page = browser.get("/account").await;
    let form = account_form(&page, "/account/export", &[]);
    let forged = browser
        .post(
            "/account/export",
            &form
                .iter()
                .filter(|(k, _)| k != "csrf")
                .cloned()
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(audit_kinds(&server, "privacy.exported").await, 0);

    let download = browser.post("/account/export", &form).await;
    assert_eq!(download.status, 200, "{}", download.body);
    let data: Value = serde_json::from_str(&download.body).unwrap();
    assert_eq!(data["format"], "idp-citizen-export/1");
    assert_eq!(data["account"]["sub"], sub.as_str());
    assert_eq!(data["account"]["id_number"], alice.as_str());
    assert_eq!(data["account"]["phone"], "13800138000");
    assert_eq!(
        data["authorized_apps"][0]["client_id"],
        app.client_id.as_str()
    );
    assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
    assert!(data["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "login.success" && e["method"] == "pwd"));
    assert_eq!(data["licences"].as_array().unwrap().len(), 1);
    assert_eq!(data["licences"][0]["claims"]["vehicle_class"], "C1");
    // Nothing of Bob's: not his number, name or licence. His licence is
    // looked for by its first-issue date: a two-letter class such as "B2"
    // turns up by chance in the export's base64 signatures.
    assert!(data["licences"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["claims"]["vehicle_class"] != "B2"));
    for theirs in [bob.as_str(), "王五", "2006-06-01"] {
        assert!(
            !download.body.contains(theirs),
            "{theirs} in Alice's export"
        );
    }
    assert_eq!(audit_kinds(&server, "privacy.exported").await, 1);
}

#[actix_web::test]
async fn erasure_needs_a_fresh_login_and_leaves_only_a_pseudonym_in_the_audit_log() {
    let server = TestServer::start().await;
    let alice = id_number(33, 305);
    let sub = server.user(&alice, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    let (browser, tokens) = signed_in_at(&server, &app, &alice).await;

    // Six minutes later the session is too old to erase the account.
    server.clock.advance(360);
    let page = browser.get("/account").await;
    let form = account_form(&page, "/account/delete", &[("confirm", "yes")]);
    let stale = browser.post("/account/delete", &form).await;
    assert_eq!(stale.location.as_deref(), Some("/account?done=reauth"));
    let unconfirmed = account_form(&page, "/account/delete", &[]);
    let unticked = browser.post("/account/delete", &unconfirmed).await;
    assert_eq!(
        unticked.location.as_deref(),
        Some("/account?done=unconfirmed")
    );
    let sub_ = sub.clone();
    assert!(server
        .with(move |s| s.store.user_by_sub(&sub_).unwrap())
        .await
        .is_some());

    // After a fresh login it goes, with everything keyed by the account.
    flow::login(&browser, &alice, PASSWORD).await;
    let page = browser.get("/account").await;
    let form = account_form(&page, "/account/delete", &[("confirm", "yes")]);
    let erased = browser.post("/account/delete", &form).await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    assert!(erased.body.contains("账户已注销"));
    let refreshed = refresh(&server, &app, &tokens.str("refresh_token")).await;
    assert_eq!(refreshed.error(), "invalid_grant");
    assert_eq!(
        userinfo(&server, Some(&tokens.str("access_token")))
            .await
            .status,
        401
    );
    let login_again = flow::login(&Browser::new(&server.base), &alice, PASSWORD).await;
    assert!(
        login_again.location.is_none(),
        "an erased account logged in"
    );
    let sub_ = sub.clone();
    let now = server.clock.now();
    let (user, consents, sessions, history) = server
        .with(move |s| {
            (
                s.store.user_by_sub(&sub_).unwrap().is_some(),
                s.store.consents_of(&sub_).unwrap().len(),
                s.store.open_sessions_of(&sub_, now).unwrap().len(),
                s.store
                    .audit_of_actor(&sub_, &["login.success", "privacy.erased"], 100)
                    .unwrap(),
            )
        })
        .await;
    assert_eq!((user, consents, sessions), (false, 0, 0));
    // The audit log still holds the account's history under its random subject, which now
    // names no one, and its chain still verifies.
    assert!(history.iter().any(|e| e.event.kind == "privacy.erased"));
    assert!(history.iter().all(|e| !e.event.detail.contains(&alice)));
    let verified = server
        .with(|s| audit::verify(&s.store, &s.secrets.audit))
        .await;
    assert!(verified.is_ok(), "{verified:?}");
    assert!(browser.get("/account").await.location.is_some());
}
