//! The operator's console at /admin: who gets in (a passkey login of someone holding a role),
//! what each role may do, and its acts: publishing a pending app (which can then log citizens
//! in), revoking a licence, rotating keys, and the audit log with its chain verified.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_containing, form_fields, Browser};
use common::flow::{self, authorize_url};
use common::passkey::{operator, Phone};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use idp::domain::operator::Role;
use idp::flows::operators;

#[actix_web::test]
async fn a_citizen_cannot_open_the_console_and_an_operator_needs_a_passkey_login() {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 401);
    server.user(&citizen, PASSWORD).await;

    let anonymous = Browser::new(&server.base);
    assert_eq!(
        anonymous.get("/admin").await.location.as_deref(),
        Some("/login")
    );

    // A citizen, even with a passkey login, holds no role.
    let browser = Browser::new(&server.base);
    flow::login(&browser, &citizen, PASSWORD).await;
    assert_eq!(browser.get("/admin").await.status, 403);
    let mut phone = Phone::new(&server.base);
    assert_eq!(phone.bind(&browser, "我的手机").await.status, 201);
    phone.log_in(&browser, None).await;
    let refused = browser.get("/admin").await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("没有访问管理台"), "{}", refused.body);
    assert_eq!(browser.get("/admin/audit").await.status, 403);

    // An operator logged in with a password only is sent to log in with a passkey.
    let op_number = id_number(11, 402);
    let op_sub = server.another_user(&op_number, "运维人员").await;
    server
        .with(move |s| operators::grant(s, &op_sub, Role::Apps, "operator:test").unwrap())
        .await;
    let weak = Browser::new(&server.base);
    flow::login(&weak, &op_number, PASSWORD).await;
    let page = weak.get("/admin").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("通行密钥"), "{}", page.body);
    let refusals = server
        .with(|s| {
            s.store
                .audit_recent(Some("console.refused"), 10)
                .unwrap()
                .len()
        })
        .await;
    assert_eq!(refusals, 4);
}

#[actix_web::test]
async fn an_operator_publishes_a_pending_app_which_can_then_log_citizens_in() {
    let server = TestServer::start_localhost().await;
    let citizen = id_number(33, 403);
    server.user(&citizen, PASSWORD).await;
    let app = server
        .client(ClientSpec {
            name: "待审核的应用".into(),
            approve: false,
            ..ClientSpec::default()
        })
        .await;
    let citizen_browser = Browser::new(&server.base);
    let before = citizen_browser
        .get(&authorize_url(&server, &app, &[]))
        .await;
    assert!(before.location.is_none(), "a pending app started a login");

    // An operator who may read the audit log but not review apps sees no queue, and a
    // hand-made approval is refused and changes nothing.
    let auditor = operator(&server, 404, &[Role::Audit]).await;
    let auditor_page = auditor.get("/admin").await;
    assert_eq!(auditor_page.status, 200);
    assert!(!auditor_page.body.contains("待审核的应用"));
    // The auditor's CSRF token, from the logout form on their account page.
    let account = auditor.get("/account").await;
    let mut forged = form_containing(&account.body, "csrf").unwrap().hidden;
    forged.extend([
        ("client_id".to_owned(), app.client_id.clone()),
        ("status".to_owned(), "approved".to_owned()),
    ]);
    assert_eq!(
        auditor.post("/admin/apps/status", &forged).await.status,
        403
    );

    let reviewer = operator(&server, 405, &[Role::Apps]).await;
    let queue = reviewer.get("/admin").await;
    assert!(queue.body.contains("待审核的应用"), "{}", queue.body);
    // Without the CSRF token, and rejecting without a reason: nothing changes.
    let approve = form_fields(&queue, "/admin/apps/status", r#"value="approved""#, &[]);
    let no_csrf: Vec<_> = approve
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    assert_eq!(
        reviewer.post("/admin/apps/status", &no_csrf).await.status,
        403
    );
    let reject = form_fields(
        &queue,
        "/admin/apps/status",
        r#"value="rejected""#,
        &[("reason", " ")],
    );
    let unreasoned = reviewer.post("/admin/apps/status", &reject).await;
    assert_eq!(unreasoned.location.as_deref(), Some("/admin?done=invalid"));
    let id = app.client_id.clone();
    let status = server
        .with(move |s| s.store.client(&id).unwrap().unwrap().status)
        .await;
    assert_eq!(status, "pending");

    let done = reviewer.post("/admin/apps/status", &approve).await;
    assert_eq!(done.location.as_deref(), Some("/admin?done=approved"));
    let tokens = flow::tokens(&server, &citizen_browser, &app, &citizen, PASSWORD, &[]).await;
    assert!(tokens.json["id_token"].is_string());
    // The act is in the audit log under the reviewer's name.
    let approvals = server
        .with(|s| s.store.audit_recent(Some("client.approved"), 10).unwrap())
        .await;
    assert!(approvals
        .iter()
        .any(|e| e.event.actor.starts_with("operator:") && e.event.actor != "operator:test"));

    // Its monitoring page draws its activity.
    let monitoring = reviewer
        .get(&format!("/admin/apps/{}", app.client_id))
        .await;
    assert_eq!(monitoring.status, 200);
    assert!(monitoring.body.contains("<svg"), "{}", monitoring.body);
    assert_eq!(
        auditor
            .get(&format!("/admin/apps/{}", app.client_id))
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn the_audit_view_verifies_the_chain_and_keys_rotate_from_the_console() {
    let server = TestServer::start_localhost().await;
    let keeper = operator(&server, 406, &[Role::Keys, Role::Audit]).await;
    let page = keeper.get("/admin").await;
    let kids_before = server.with(|s| s.store.signing_keys().unwrap().len()).await;
    let rotate = form_fields(&page, "/admin/keys/rotate", "csrf", &[]);
    let done = keeper.post("/admin/keys/rotate", &rotate).await;
    assert_eq!(done.location.as_deref(), Some("/admin?done=rotated"));
    let kids_after = server.with(|s| s.store.signing_keys().unwrap().len()).await;
    assert!(kids_after > kids_before);

    let audit = keeper.get("/admin/audit?kind=keys.rotated").await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("哈希链完整"), "{}", audit.body);
    assert!(audit.body.contains("keys.rotated"));
    assert!(!audit.body.contains("login.success"));
    // Search fields are echoed escaped, never as markup.
    let hostile = keeper
        .get("/admin/audit?actor=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert_eq!(hostile.status, 200);
    assert!(!hostile.body.contains("<script>alert(1)"));
}
