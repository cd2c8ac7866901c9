//! Acceptance 4: upstream provinces that hang (accept and never answer), fail (HTTP 500) or
//! serve garbage (no discovery document, a broken JWKS), and one whose token endpoint hangs
//! mid-login. Each costs a bounded wait and a clear page; none touches the other provinces: a
//! citizen logs in through a healthy province at the same node while the bad one still hangs.
use fault_tests::browser::{client, query_of, Browser, Page};
use fault_tests::node::Node;
use fault_tests::oauth::{code_of, id_number, App};
use fault_tests::upstream::{Fault, Upstream};
use fault_tests::{poll, REDIRECT};

/// Requests sent to the hanging province at once.
const HANGING: usize = 6;

/// A bad upstream's answer: a page (not a 500, not a hang) that names the other side.
fn assert_clear(page: &Page, what: &str) {
    assert!(
        matches!(page.status, 502 | 504),
        "{what}: {} {}",
        page.status,
        page.body
    );
    assert!(page.is_html(), "{what}: a page for the citizen: {page:?}");
    assert!(
        page.body.contains("对方身份提供方"),
        "{what}: says the other side failed: {}",
        page.body
    );
}

fn add_province(node: &Node, code: &str, issuer: &str, client_id: &str, secret: &str) {
    let args = [
        "province",
        "add",
        "--code",
        code,
        "--name",
        code,
        "--issuer",
        issuer,
        "--client-id",
        client_id,
        "--client-secret-stdin",
    ];
    node.ok(&args, Some(secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_provinces_cost_a_bounded_wait_and_a_clear_page_and_spare_the_good_one() {
    // Province 33 is healthy: another idp with the citizen's account, on its own address.
    let mut home = Node::new("127.0.0.3", None);
    let citizen = id_number(33, 1);
    home.user(&citizen, "钱七");
    let mut here = Node::new("127.0.0.2", None);
    let callback = format!("{}/federation/callback", here.base);
    let (node_id, node_secret) = home.app(
        "节点",
        &callback,
        &[
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--scope",
            "id_number",
        ],
    );
    add_province(&here, "33", &home.base, &node_id, &node_secret);
    let bad = [
        ("44", Upstream::start(Fault::Hang)),
        ("45", Upstream::start(Fault::ServerError)),
        ("46", Upstream::start(Fault::GarbageDiscovery)),
        ("50", Upstream::start(Fault::BadJwks)),
        ("51", Upstream::start(Fault::TokenHangs)),
    ];
    for (code, upstream) in &bad {
        add_province(
            &here,
            code,
            &upstream.issuer,
            "node",
            "a-secret-of-sixteen-or-more",
        );
    }
    let (client_id, secret) = here.app("本地应用", REDIRECT, &[]);
    let app = App {
        base: here.base.clone(),
        client_id,
        secret,
        redirect_uri: REDIRECT.into(),
    };
    home.serve().await;
    here.serve().await;

    // Several citizens are stuck on the hanging province.
    let hanging = &bad[0].1;
    let stuck: Vec<_> = (0..HANGING)
        .map(|_| {
            let url = format!("{}/federation/start?upstream=44", here.base);
            tokio::spawn(async move { Browser::new().get(&url).await })
        })
        .collect();
    poll::until(
        "the node waits on the hanging province",
        300,
        std::time::Duration::from_millis(50),
        || async { hanging.held() == HANGING },
    )
    .await;
    // Meanwhile one more gets as far as the token endpoint, which then hangs.
    let token_hang = {
        let base = here.base.clone();
        tokio::spawn(async move {
            let browser = Browser::new();
            let out = browser
                .get(&format!("{base}/federation/start?upstream=51"))
                .await
                .expect("start");
            let state = query_of(&out.next().expect("to province 51"))["state"].clone();
            browser
                .get(&format!(
                    "{base}/federation/callback?state={state}&code=anything"
                ))
                .await
        })
    };

    // A citizen of 33 logs in through the healthy province, start to finish.
    let browser = Browser::new();
    let request = app.authorize("openid profile", &[]);
    let parked = browser.get(&request.url).await.expect("authorize");
    let req = query_of(&parked.next().expect("to the login page"))["req"].clone();
    let start = format!("{}/federation/start?upstream=33&req={req}", here.base);
    let landed = browser
        .travel(&start, &citizen, REDIRECT)
        .await
        .expect("the healthy login");
    let code = code_of(&landed).unwrap_or_else(|| panic!("no code: {landed:?}"));
    let tokens = app
        .redeem(&client(false), &code, &request.verifier)
        .await
        .expect("token");
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let still = hanging.held();
    eprintln!("the healthy login finished while {still} of {HANGING} requests still hung");
    assert!(
        still > 0,
        "the healthy login should finish while the node still waits on the hanging province"
    );

    for (i, task) in stuck.into_iter().enumerate() {
        let page = task
            .await
            .expect("task")
            .expect("an answer, in bounded time");
        assert_clear(&page, &format!("hanging province, request {i}"));
        assert_eq!(page.status, 504, "{}", page.body);
    }
    let page = token_hang
        .await
        .expect("task")
        .expect("an answer, in bounded time");
    assert_clear(&page, "token endpoint that hangs");
    for (code, what) in [
        ("45", "HTTP 500"),
        ("46", "garbage discovery"),
        ("50", "bad JWKS"),
    ] {
        let page = Browser::new()
            .get(&format!("{}/federation/start?upstream={code}", here.base))
            .await
            .expect("an answer, in bounded time");
        eprintln!("{what}: {}", page.status);
        assert_clear(&page, what);
    }
    poll::readyz(&client(false), &here.base, 200).await;
    here.assert_log_clean();
    home.assert_log_clean();
}
