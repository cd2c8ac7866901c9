//! What citizens tell the platform and what they get back: correction requests (filed on the
//! account page, decided in the console, the outcome shown to the citizen, all audited), ratings
//! of apps (好差评, seen per app by operators), and their licences moved into the government app
//! by QR code. Each with its refusals: other citizens, missing roles, bad input, replays.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_fields, Browser};
use common::flow;
use common::passkey::operator;
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use idp::domain::licence::ImportRecord;
use idp::domain::operator::Role;
use idp::flows::{corrections, licences};
use serde_json::json;

async fn audit_count(server: &TestServer, kind: &'static str) -> usize {
    server
        .with(move |s| s.store.audit_recent(Some(kind), 100).unwrap().len())
        .await
}

async fn logged_in(server: &TestServer, citizen: &str) -> Browser {
    let browser = Browser::new(&server.base);
    flow::login(&browser, citizen, PASSWORD).await;
    browser
}

#[actix_web::test]
async fn a_correction_request_goes_through_and_the_citizen_sees_the_outcome() {
    let server = TestServer::start_localhost().await;
    let (alice, bob) = (id_number(33, 501), id_number(33, 502));
    let alice_sub = server.user(&alice, PASSWORD).await;
    server.another_user(&bob, "王五").await;
    let browser = logged_in(&server, &alice).await;

    let page = browser.get("/account").await;
    // The login history says where from, coarsely: the network, never the address.
    let history_at = page.body.find(r#"id="history-title""#).unwrap();
    let history = &page.body[history_at..];
    assert!(history.contains("<td>127.0.*.*</td>"), "{history}");
    assert!(!history.contains("127.0.0.1"));

    // Bad filings change nothing.
    for (topic, detail) in [("name", "   "), ("salary", "x"), ("name", "a\u{1b}[2Jb")] {
        let form = form_fields(
            &page,
            "/account/corrections",
            "topic",
            &[("topic", topic), ("detail", detail)],
        );
        let r = browser.post("/account/corrections", &form).await;
        assert_eq!(r.status, 303);
        assert!(r.location.unwrap().contains("done=correction_invalid"));
    }
    let no_csrf: Vec<(String, String)> = form_fields(
        &page,
        "/account/corrections",
        "topic",
        &[("topic", "name"), ("detail", "x")],
    )
    .into_iter()
    .filter(|(k, _)| k != "csrf")
    .collect();
    assert_eq!(
        browser.post("/account/corrections", &no_csrf).await.status,
        403
    );
    assert_eq!(audit_count(&server, "correction.filed").await, 0);

    // Alice files: her name lacks a character. The text is kept as typed and shown escaped.
    let detail = "我的名字是张三丰，不是张三 <script>alert(1)</script>";
    let form = form_fields(
        &page,
        "/account/corrections",
        "topic",
        &[("topic", "name"), ("detail", detail)],
    );
    let filed = browser.post("/account/corrections", &form).await;
    assert!(filed.location.unwrap().contains("done=filed"));
    let page = browser.get("/account?done=filed").await;
    assert!(page.body.contains("纠错申请已提交"), "{}", page.body);
    assert!(page.body.contains("处理中"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<script>alert(1)"));

    // Bob never sees it.
    let bob_browser = logged_in(&server, &bob).await;
    assert!(!bob_browser.get("/account").await.body.contains("张三丰"));

    // A citizen cannot open the queue; an operator without the role neither.
    assert_eq!(browser.get("/admin/corrections").await.status, 403);
    let auditor = operator(&server, 503, &[Role::Audit]).await;
    assert_eq!(auditor.get("/admin/corrections").await.status, 403);

    let reviewer = operator(&server, 504, &[Role::Corrections]).await;
    let console = reviewer.get("/admin").await;
    assert!(
        console.body.contains(r#"href="/admin/corrections""#),
        "{}",
        console.body
    );
    let queue = reviewer.get("/admin/corrections").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("张三丰"), "{}", queue.body);
    assert!(!queue.body.contains("<script>alert(1)"));
    let id = server
        .with(move |s| {
            corrections::of_citizen(s, &alice_sub).unwrap()[0]
                .id
                .clone()
        })
        .await;

    // The auditor's forged decision is refused even with a valid CSRF token of their own.
    let forged = form_fields(
        &queue,
        "/admin/corrections/decide",
        &id,
        &[("decision", "reject"), ("reason", "x")],
    );
    let auditor_form: Vec<(String, String)> = {
        let own = auditor.get("/account").await;
        let csrf = common::browser::form_containing(&own.body, "csrf")
            .unwrap()
            .hidden;
        let csrf = csrf.into_iter().find(|(k, _)| k == "csrf").unwrap();
        forged
            .iter()
            .filter(|(k, _)| k != "csrf")
            .cloned()
            .chain([csrf])
            .collect()
    };
    assert_eq!(
        auditor
            .post("/admin/corrections/decide", &auditor_form)
            .await
            .status,
        403
    );

    // A name fix needs the name; a decision needs a reason.
    for extra in [
        vec![("decision", "fix"), ("reason", "核对户籍")],
        vec![
            ("decision", "fix"),
            ("reason", "  "),
            ("new_name", "张三丰"),
        ],
        vec![("decision", "approve"), ("reason", "ok")],
    ] {
        let form = form_fields(&queue, "/admin/corrections/decide", &id, &extra);
        let r = reviewer.post("/admin/corrections/decide", &form).await;
        assert_eq!(r.status, 303);
        assert!(!r.location.unwrap().contains("done=fixed"));
    }
    assert_eq!(audit_count(&server, "correction.fixed").await, 0);

    let form = form_fields(
        &queue,
        "/admin/corrections/decide",
        &id,
        &[
            ("decision", "fix"),
            ("reason", "已核对户籍信息，予以更正"),
            ("new_name", "张三丰"),
        ],
    );
    let decided = reviewer.post("/admin/corrections/decide", &form).await;
    assert_eq!(
        decided.location.as_deref(),
        Some("/admin/corrections?done=fixed")
    );
    // Deciding twice is refused, and changes nothing.
    let again = reviewer
        .post(
            "/admin/corrections/decide",
            &form_fields(
                &queue,
                "/admin/corrections/decide",
                &id,
                &[("decision", "reject"), ("reason", "no")],
            ),
        )
        .await;
    assert_eq!(
        again.location.as_deref(),
        Some("/admin/corrections?done=decided")
    );

    // Alice sees the outcome and her corrected name; the log has both steps.
    let page = browser.get("/account").await;
    assert!(page.body.contains("已更正"), "{}", page.body);
    assert!(page.body.contains("已核对户籍信息，予以更正"));
    assert!(page.body.contains(r#"<p class="client">张三丰</p>"#));
    assert_eq!(audit_count(&server, "correction.filed").await, 1);
    assert_eq!(audit_count(&server, "correction.fixed").await, 1);
    assert_eq!(audit_count(&server, "correction.rejected").await, 0);
    let entry = server
        .with(|s| {
            s.store
                .audit_recent(Some("correction.fixed"), 1)
                .unwrap()
                .remove(0)
        })
        .await;
    assert!(entry.event.actor.starts_with("operator:"));
    assert!(
        !entry.event.detail.contains("张三丰"),
        "the log holds no personal data"
    );
    assert!(reviewer
        .get("/admin/corrections")
        .await
        .body
        .contains("没有待处理的纠错申请"));
}

#[actix_web::test]
async fn a_wrong_linkage_is_undone_and_a_citizen_may_not_flood_the_queue() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 511);
    let sub = server.user(&citizen, PASSWORD).await;
    let s2 = sub.clone();
    let (id, links_before) = server
        .with(move |s| {
            s.store
                .link_federated_user("51", "upstream-sub-1", &s2, 1)
                .unwrap();
            let id = corrections::file(s, &s2, "link", "四川的账户不是我的")
                .unwrap()
                .unwrap();
            (id, s.store.federated_links_of(&s2).unwrap().len())
        })
        .await;
    assert_eq!(links_before, 1);
    // An operator does not decide their own request.
    let (own_id, own_sub) = (id.clone(), sub.clone());
    let own = server
        .with(move |s| {
            corrections::decide(
                s,
                &own_id,
                "fix",
                "自己处理",
                None,
                &format!("operator:{own_sub}"),
            )
            .unwrap()
        })
        .await;
    assert_eq!(
        own.unwrap_err().to_string(),
        "an operator does not decide their own request"
    );
    let s3 = sub.clone();
    let (state, links_after, queue) = server
        .with(move |s| {
            let state = corrections::decide(s, &id, "fix", "已解除关联", None, "operator:test")
                .unwrap()
                .unwrap();
            (
                state,
                s.store.federated_links_of(&s3).unwrap().len(),
                corrections::queue(s).unwrap().len(),
            )
        })
        .await;
    assert_eq!((state.as_str(), links_after, queue), ("fixed", 0, 0));

    let s4 = sub.clone();
    let outcomes = server
        .with(move |s| {
            (0..6)
                .map(|i| {
                    corrections::file(s, &s4, "other", &format!("第{i}个问题"))
                        .unwrap()
                        .is_ok()
                })
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(outcomes, [true, true, true, true, true, false]);

    // The requests are the citizen's data: in their export, gone with their account.
    let s5 = sub.clone();
    let (exported, left) = server
        .with(move |s| {
            let export = idp::flows::privacy::export(s, &s5, "citizen")
                .unwrap()
                .unwrap();
            idp::flows::privacy::erase(s, &s5, "citizen")
                .unwrap()
                .unwrap();
            (
                export.corrections.len(),
                s.store.corrections_of(&s5).unwrap().len(),
            )
        })
        .await;
    assert_eq!((exported, left), (6, 0));
}

#[actix_web::test]
async fn a_citizen_rates_an_app_they_used_and_operators_see_it() {
    let server = TestServer::start_localhost().await;
    let (alice, bob) = (id_number(33, 521), id_number(33, 522));
    server.user(&alice, PASSWORD).await;
    server.another_user(&bob, "王五").await;
    let app = server
        .client(ClientSpec {
            name: "社保查询".into(),
            ..ClientSpec::default()
        })
        .await;
    let other = server
        .client(ClientSpec {
            name: "公积金".into(),
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    flow::tokens(
        &server,
        &browser,
        &app,
        &alice,
        PASSWORD,
        &[("scope", "openid profile"), ("prompt", "consent")],
    )
    .await;

    let page = browser.get("/account").await;
    assert!(page.body.contains("评价此应用"), "{}", page.body);
    // Not an app she used: refused, nothing stored.
    let form = form_fields(
        &page,
        "/account/apps/rate",
        &app.client_id,
        &[("id", &other.client_id), ("score", "bad")],
    );
    let r = browser.post("/account/apps/rate", &form).await;
    assert!(r.location.unwrap().contains("done=not_found"));
    // Unknown score, oversized comment: refused.
    let long = "长".repeat(301);
    for extra in [
        vec![("score", "excellent")],
        vec![("score", "good"), ("comment", long.as_str())],
    ] {
        let form = form_fields(&page, "/account/apps/rate", &app.client_id, &extra);
        let r = browser.post("/account/apps/rate", &form).await;
        assert!(r.location.unwrap().contains("done=rating_invalid"));
    }
    // Bob has not used the app: he cannot rate it either.
    let bob_browser = logged_in(&server, &bob).await;
    let bob_page = bob_browser.get("/account").await;
    let bob_form: Vec<(String, String)> = common::browser::form_containing(&bob_page.body, "csrf")
        .unwrap()
        .hidden
        .into_iter()
        .filter(|(k, _)| k == "csrf")
        .chain([
            ("id".to_owned(), app.client_id.clone()),
            ("score".to_owned(), "bad".to_owned()),
        ])
        .collect();
    let r = bob_browser.post("/account/apps/rate", &bob_form).await;
    assert!(r.location.unwrap().contains("done=not_found"));
    assert_eq!(
        server
            .with(|s| s.store.all_rating_scores().unwrap().len())
            .await,
        0
    );

    let form = form_fields(
        &page,
        "/account/apps/rate",
        &app.client_id,
        &[("score", "average"), ("comment", "还行")],
    );
    assert!(browser
        .post("/account/apps/rate", &form)
        .await
        .location
        .unwrap()
        .contains("done=rated"));
    // Changing her mind replaces the rating.
    let form = form_fields(
        &page,
        "/account/apps/rate",
        &app.client_id,
        &[("score", "good"), ("comment", "办事很快 <b>赞</b>")],
    );
    assert!(browser
        .post("/account/apps/rate", &form)
        .await
        .location
        .unwrap()
        .contains("done=rated"));
    let page = browser.get("/account").await;
    assert!(page.body.contains("我的评价："), "{}", page.body);
    assert!(page.body.contains(r#"value="good" checked"#));

    let ops = operator(&server, 523, &[Role::Apps]).await;
    let console = ops.get("/admin").await;
    assert!(console.body.contains("好评率 100%"), "{}", console.body);
    let detail = ops.get(&format!("/admin/apps/{}", app.client_id)).await;
    assert!(
        detail.body.contains("办事很快 &lt;b&gt;赞&lt;/b&gt;"),
        "{}",
        detail.body
    );
    assert!(!detail.body.contains("还行"));
    // Over time: one rating today (the latest counts), none bad.
    assert!(detail.body.contains("每日评价数（30天）"));
    assert!(detail.body.contains("每日差评数（30天）"));
    assert!(
        !detail.body.contains("张三"),
        "ratings do not name the citizen"
    );
}

#[actix_web::test]
async fn a_citizen_moves_their_own_licence_into_the_app_and_no_one_elses() {
    let server = TestServer::start().await;
    let (alice, bob) = (id_number(33, 531), id_number(33, 532));
    let alice_sub = server.user(&alice, PASSWORD).await;
    server.another_user(&bob, "王五").await;
    let records: Vec<ImportRecord> = serde_json::from_value(json!([
        {"type": "medical_insurance", "holder": alice,
         "claims": {"name": "张三", "insured_region": "杭州市", "insurance_type": "城镇职工医保"}},
        {"type": "medical_insurance", "holder": bob,
         "claims": {"name": "王五", "insured_region": "杭州市", "insurance_type": "城镇职工医保"}},
    ]))
    .unwrap();
    let ids = server
        .with(move |s| {
            licences::import(s, &records, "operator:test")
                .unwrap()
                .unwrap()
        })
        .await;
    let (alice_licence, bob_licence) = (ids[0].id.clone(), ids[1].id.clone());
    let browser = logged_in(&server, &alice).await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("我的证照"));
    assert!(page.body.contains("医保电子凭证"), "{}", page.body);
    assert!(!page.body.contains(&bob_licence));

    // Bob's licence id in Alice's form: refused, no offer made.
    let form = form_fields(
        &page,
        "/account/licences/show",
        &alice_licence,
        &[("id", &bob_licence)],
    );
    let r = browser.post("/account/licences/show", &form).await;
    assert!(r.location.unwrap().contains("done=not_found"));
    assert_eq!(audit_count(&server, "licence.offered").await, 0);

    let form = form_fields(&page, "/account/licences/show", &alice_licence, &[]);
    let shown = browser.post("/account/licences/show", &form).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("<svg"), "a QR code");
    assert_eq!(shown.headers.get("cache-control").unwrap(), "no-store");
    let code_at = shown.body.find(r#"class="tx-code""#).unwrap();
    let tx_code: String = shown.body[code_at..]
        .split('>')
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(tx_code.len(), 6, "{}", shown.body);
    let entry = server
        .with(|s| {
            s.store
                .audit_recent(Some("licence.offered"), 1)
                .unwrap()
                .remove(0)
        })
        .await;
    assert_eq!(entry.event.actor, alice_sub);
    assert!(entry.event.detail.contains(&alice_licence));

    // A revoked licence can no longer be moved.
    let lic = alice_licence.clone();
    server
        .with(move |s| {
            licences::change(
                s,
                &lic,
                idp::domain::licence::LicenceAction::Revoke,
                "operator:test",
            )
            .unwrap()
            .unwrap()
        })
        .await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("已注销"));
    let r = browser.post("/account/licences/show", &form).await;
    assert!(r.location.unwrap().contains("done=not_found"));
}
