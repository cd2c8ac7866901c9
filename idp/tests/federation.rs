//! Federation configuration: upstream identity providers and finding a citizen's home.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::flow::{jwt_parts, redeem};
use common::{id_number, TestServer};
use idp::domain::id_number::IdNumber;
use idp::flows::upstreams::{self, AddError, NewUpstream};

const SECRET: &str = "a-secret-of-this-node-at-that-one";

#[actix_web::test]
async fn a_citizen_is_sent_to_the_most_specific_enabled_home() {
    let server = TestServer::start().await;
    let homes = server
        .with(|svc| {
            for (code, name) in [
                ("00", "国家枢纽"),
                ("33", "浙江"),
                ("3301", "杭州"),
                ("51", "四川"),
            ] {
                let new = NewUpstream {
                    code,
                    name,
                    issuer: &format!("https://idp-{code}.example"),
                    client_id: "node",
                    client_secret: SECRET,
                };
                upstreams::add(svc, &new, "test").unwrap().unwrap();
            }
            let home = |n: &str| {
                upstreams::home_of(svc, &IdNumber::parse(n).unwrap())
                    .unwrap()
                    .map(|u| u.code)
            };
            let hangzhou = id_number(33, 7).replacen("330105", "330106", 1);
            let hangzhou = fix_check(&hangzhou);
            let before = (
                home(&id_number(33, 7)),
                home(&hangzhou),
                home(&id_number(44, 7)),
            );
            upstreams::set_enabled(svc, "3301", false, "test").unwrap();
            let after = home(&hangzhou);
            let taken = upstreams::add(
                svc,
                &NewUpstream {
                    code: "33",
                    name: "浙江",
                    issuer: "https://again.example",
                    client_id: "node",
                    client_secret: SECRET,
                },
                "test",
            )
            .unwrap();
            let row = svc.store.upstream("51").unwrap().unwrap();
            let secret = upstreams::client_secret(svc, &row).unwrap();
            (before, after, taken, secret.to_string())
        })
        .await;
    let (before, after, taken, secret) = homes;
    // 330105… lives under 3301 (Hangzhou), which is more specific than 33.
    assert_eq!(
        before,
        (Some("3301".into()), Some("3301".into()), None),
        "county codes fall back to their city, then their province; the hub is never a home"
    );
    assert_eq!(after, Some("33".into()), "a disabled upstream sends no one");
    assert_eq!(taken, Err(AddError::Taken));
    assert_eq!(
        secret, SECRET,
        "the sealed secret opens with this node's KEK"
    );
}

/// `first17` plus its right check character.
fn fix_check(number: &str) -> String {
    let first17 = &number[..17];
    let check = idp::domain::id_number::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

/// Two nodes in one test: `home` (province 33, where the citizen's account lives) and `here` (a
/// node whose upstream 33 is `home`). Different hosts, so a browser keeps their cookies apart.
struct Pair {
    home: TestServer,
    here: TestServer,
    citizen: String,
    rp: common::TestClient,
}

async fn pair(release_id_number: bool) -> Pair {
    let home = TestServer::start().await;
    let here = TestServer::start_localhost().await;
    let citizen = id_number(33, 21);
    home.user(&citizen, common::PASSWORD).await;
    let mut scopes = vec!["openid".to_owned(), "profile".to_owned()];
    if release_id_number {
        scopes.push("id_number".into());
    }
    let node = home
        .client(common::ClientSpec {
            name: "国家枢纽".into(),
            redirect_uri: here.url("/federation/callback"),
            scopes,
            ..common::ClientSpec::default()
        })
        .await;
    let (issuer, client_id, secret) = (
        home.base.clone(),
        node.client_id.clone(),
        node.client_secret.clone().unwrap(),
    );
    here.with(move |svc| {
        let new = NewUpstream {
            code: "33",
            name: "浙江",
            issuer: &issuer,
            client_id: &client_id,
            client_secret: &secret,
        };
        upstreams::add(svc, &new, "test").unwrap().unwrap();
        let down = NewUpstream {
            code: "44",
            name: "广东",
            // Nothing listens there: an upstream that is down.
            issuer: "http://127.0.0.1:9",
            client_id: "node",
            client_secret: SECRET,
        };
        upstreams::add(svc, &down, "test").unwrap().unwrap();
    })
    .await;
    let rp = here.client(common::ClientSpec::default()).await;
    Pair {
        home,
        here,
        citizen,
        rp,
    }
}

/// The app at `here` starts a login; returns the browser (one cookie jar, a view per node) and
/// the parked request's id.
async fn parked(p: &Pair) -> (Browser, Browser, String) {
    let at_here = Browser::new(&p.here.base);
    let at_home = Browser {
        http: at_here.http.clone(),
        base: p.home.base.clone(),
    };
    let page = at_here
        .get(&common::flow::authorize_url(
            &p.here,
            &p.rp,
            &[("nonce", "fed-n")],
        ))
        .await;
    let login = page.location.expect("to the login page");
    let req = query_of(&login)["req"].clone();
    (at_here, at_home, req)
}

#[actix_web::test]
async fn a_citizen_of_another_node_logs_in_at_home_and_lands_back_at_the_app() {
    let p = pair(true).await;
    let (at_here, at_home, req) = parked(&p).await;
    let out = at_here
        .get(&format!("/federation/start?upstream=33&req={req}"))
        .await;
    let to_home = out.location.expect("to the upstream");
    assert!(to_home.starts_with(&p.home.base), "{to_home}");
    let q = query_of(&to_home);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].contains("id_number"));
    assert!(q.contains_key("nonce") && q.contains_key("state"));
    // At home: the citizen's own login and consent; then back here.
    let back = at_home
        .authorize(&to_home, &p.citizen, common::PASSWORD)
        .await;
    let callback = back.location.expect("back to this node");
    assert!(
        callback.starts_with(&p.here.url("/federation/callback")),
        "{callback}"
    );
    let landed = at_here.authorize(&callback, "", "").await;
    let at_app = landed.location.expect("to the app");
    assert!(at_app.starts_with(&p.rp.redirect_uri), "{at_app}");
    let tokens = redeem(&p.here, &p.rp, &query_of(&at_app)["code"], &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (_, claims) = jwt_parts(&tokens.str("id_token"));
    assert_eq!(claims["iss"], p.here.base.as_str());
    assert_eq!(claims["nonce"], "fed-n");
    assert_eq!(
        claims["acr"],
        idp::domain::acr::ACR_PASSWORD,
        "home's level travels"
    );
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    // A roaming account here, without a password, known by the ID number home verified.
    let citizen = p.citizen.clone();
    let roaming = p
        .here
        .with(move |svc| {
            idp::flows::users::find_by_login_name(svc, &citizen)
                .unwrap()
                .map(|u| (u.sub, u.password_hash.is_none()))
        })
        .await
        .expect("a roaming account");
    assert_eq!(claims["sub"], roaming.0.as_str());
    assert!(roaming.1, "no password here");
    // The same callback a second time is refused, on any replica.
    let again = at_here.get(&callback).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("重新登录"), "{}", again.body);
    // The next app here needs no page at all: the session lives here now.
    let second = at_here
        .get(&common::flow::authorize_url(
            &p.here,
            &p.rp,
            &[("prompt", "none")],
        ))
        .await;
    assert!(second.location.unwrap().contains("code="));
}

#[actix_web::test]
async fn a_dead_upstream_gets_a_clear_page_and_a_forged_trip_nothing() {
    let p = pair(true).await;
    let (at_here, _, req) = parked(&p).await;
    let dead = at_here
        .get(&format!("/federation/start?upstream=44&req={req}"))
        .await;
    assert_eq!(dead.status, 504);
    assert!(dead.body.contains("暂时无法访问"), "{}", dead.body);
    let unknown = at_here
        .get(&format!("/federation/start?upstream=51&req={req}"))
        .await;
    assert_eq!(unknown.status, 404);
    // A callback without the trip's cookie, or with a state of its own, logs nobody in.
    let stranger = Browser::new(&p.here.base);
    let forged = stranger
        .get("/federation/callback?state=made-up&code=made-up")
        .await;
    assert_eq!(forged.status, 400);
    let out = at_here
        .get(&format!("/federation/start?upstream=33&req={req}"))
        .await;
    assert_eq!(out.status, 302);
    let wrong_state = at_here
        .get("/federation/callback?state=not-the-one&code=x")
        .await;
    assert_eq!(wrong_state.status, 400);
}

#[actix_web::test]
async fn an_upstream_that_keeps_the_id_number_to_itself_links_nobody() {
    let p = pair(false).await;
    let (at_here, at_home, req) = parked(&p).await;
    let out = at_here
        .get(&format!("/federation/start?upstream=33&req={req}"))
        .await;
    let back = at_home
        .authorize(&out.location.unwrap(), &p.citizen, common::PASSWORD)
        .await;
    let refused = at_here.get(&back.location.unwrap()).await;
    assert_eq!(refused.status, 502);
    let citizen = p.citizen.clone();
    let (account, audited) = p
        .here
        .with(move |svc| {
            let account = idp::flows::users::find_by_login_name(svc, &citizen).unwrap();
            let audited = !svc
                .store
                .audit_recent(Some("federation.refused"), 5)
                .unwrap()
                .is_empty();
            (account.is_some(), audited)
        })
        .await;
    assert!(!account, "no roaming account without a verified ID number");
    assert!(audited);
}

#[actix_web::test]
async fn the_login_page_finds_the_citizens_home_and_remembers_it() {
    let p = pair(true).await;
    let (at_here, at_home, req) = parked(&p).await;
    let login = at_here.get(&format!("/login?req={req}")).await;
    assert!(login.body.contains("其他地区的账号"), "{}", login.body);
    assert!(!login.body.contains("home-again"), "nothing remembered yet");
    // A typing error is told precisely; a region nobody serves is said plainly.
    let typo = at_here
        .submit(&login, "id_number", &[("id_number", "33010519800101001")])
        .await;
    assert_eq!(typo.status, 400);
    assert!(typo.body.contains("应为18位"), "{}", typo.body);
    let nowhere = at_here
        .submit(&login, "id_number", &[("id_number", &id_number(51, 3))])
        .await;
    assert_eq!(nowhere.status, 404);
    assert!(nowhere.body.contains("暂未接入"), "{}", nowhere.body);
    // The citizen's own number leads home, with the parked request.
    let routed = at_here
        .submit(&login, "id_number", &[("id_number", &p.citizen)])
        .await;
    assert_eq!(routed.status, 303);
    let start = routed.location.unwrap();
    assert_eq!(start, format!("/federation/start?upstream=33&req={req}"));
    assert!(!start.contains(&p.citizen), "the ID number goes nowhere");
    let to_home = at_here.get(&start).await.location.unwrap();
    let back = at_home
        .authorize(&to_home, &p.citizen, common::PASSWORD)
        .await;
    let landed = at_here.authorize(&back.location.unwrap(), "", "").await;
    assert!(landed.location.unwrap().starts_with(&p.rp.redirect_uri));
    // Next time, one click: the page offers the home chosen before.
    let (_, _, req2) = parked(&p).await;
    let again = at_here.get(&format!("/login?req={req2}")).await;
    assert!(
        again.body.contains("home-again") && again.body.contains("浙江"),
        "{}",
        again.body
    );
}

#[actix_web::test]
async fn a_fresh_login_or_max_age_the_app_asks_for_is_asked_of_the_upstream() {
    let p = pair(true).await;
    let at_here = Browser::new(&p.here.base);
    let page = at_here
        .get(&common::flow::authorize_url(
            &p.here,
            &p.rp,
            &[("prompt", "login"), ("max_age", "60")],
        ))
        .await;
    let req = query_of(&page.location.unwrap())["req"].clone();
    let out = at_here
        .get(&format!("/federation/start?upstream=33&req={req}"))
        .await;
    let q = query_of(&out.location.unwrap());
    assert_eq!(q["prompt"], "login");
    assert_eq!(q["max_age"], "60");
    // A silent probe cannot give a fresh login: straight to this node's own page instead.
    let probe = at_here
        .get(&format!("/federation/start?upstream=33&req={req}&probe=1"))
        .await;
    assert_eq!(
        probe.location.as_deref(),
        Some(format!("/login?req={req}&probed=1").as_str())
    );
}

/// A session here that the home's session started ends at home too, when `here` says so at
/// home's `/federation/session_ended`; nobody else can end it there.
#[actix_web::test]
async fn only_the_node_that_shared_a_session_may_end_it_upstream() {
    let p = pair(true).await;
    let (at_here, at_home, req) = parked(&p).await;
    let out = at_here
        .get(&format!("/federation/start?upstream=33&req={req}"))
        .await;
    let back = at_home
        .authorize(&out.location.unwrap(), &p.citizen, common::PASSWORD)
        .await;
    let landed = at_here.authorize(&back.location.unwrap(), "", "").await;
    let tokens = redeem(
        &p.here,
        &p.rp,
        &query_of(&landed.location.unwrap())["code"],
        &[],
    )
    .await;
    let (_, claims) = jwt_parts(&tokens.str("id_token"));
    let local_sid = claims["sid"].as_str().unwrap().to_owned();
    let (home_sid, node_id, node_secret) = p
        .here
        .with(move |s| {
            let link = s.store.session_upstream(&local_sid).unwrap().unwrap();
            let row = s.store.upstream("33").unwrap().unwrap();
            let secret = upstreams::client_secret(s, &row).unwrap().to_string();
            (link.upstream_sid, row.client_id, secret)
        })
        .await;
    let other = p.home.client(common::ClientSpec::default()).await;
    let other_secret = other.client_secret.clone().unwrap();
    let home_logged_in = || async { at_home.get("/account").await.status == 200 };
    assert!(home_logged_in().await);

    let end = |who: Option<(&str, &str)>, sid: &str| {
        let mut call = common::flow::http()
            .post(p.home.url("/federation/session_ended"))
            .form(&[("sid", sid)]);
        if let Some((id, secret)) = who {
            call = call.basic_auth(id, Some(secret));
        }
        async move {
            let r = call.send().await.unwrap();
            let status = r.status().as_u16();
            (
                status,
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let refused = [
        ("no client", end(None, &home_sid).await, 401),
        (
            "a wrong secret",
            end(Some((&node_id, "wrong")), &home_sid).await,
            401,
        ),
        (
            "an app that took no part",
            end(Some((&other.client_id, &other_secret)), &home_sid).await,
            400,
        ),
        (
            "a session that is not there",
            end(Some((&node_id, &node_secret)), "no-such-sid").await,
            400,
        ),
    ];
    for (what, (status, body), expected) in refused {
        assert_eq!(status, expected, "{what}: {body}");
        assert!(body["error"].is_string(), "{what}: an OAuth error");
        assert!(home_logged_in().await, "{what} ended the session at home");
    }
    let (status, _) = end(Some((&node_id, &node_secret)), &home_sid).await;
    assert_eq!(status, 200);
    assert!(!home_logged_in().await, "the home session ended");
}

/// With a federation hint domain (the parent domain all nodes share), a roaming node asks the
/// hub only for a browser that has a session somewhere: a citizen of 51 who is logged in
/// nowhere logs in at 51 without the hub ever hearing of it; a browser carrying the hint still
/// gets the silent look for its federation session.
#[actix_web::test]
async fn a_citizen_logged_in_nowhere_never_touches_the_hub() {
    let hub = TestServer::start_on_host("127.0.0.2", |_| {}).await;
    let p51 = TestServer::start_on_host("127.0.0.4", |c| {
        c.roaming_upstream = Some("00".into());
        c.federation_hint_domain = Some("gov.example".into());
    })
    .await;
    common::federation::link(&p51, &hub, "00", "国家枢纽").await;
    let citizen = id_number(51, 12);
    p51.user(&citizen, common::PASSWORD).await;
    let app = p51
        .client(common::ClientSpec {
            first_party: true,
            ..common::ClientSpec::default()
        })
        .await;
    let hub_events = || async {
        hub.with(|s| s.store.audit_recent(None, 1000).unwrap().len())
            .await
    };
    let heard_before = hub_events().await;

    let browser = Browser::new(&p51.base);
    let start = common::flow::authorize_url(&p51, &app, &[]);
    let to_login = browser.get(&start).await.location.unwrap();
    let login = browser.get(&to_login).await;
    assert_eq!(login.status, 200, "the page itself, no trip to the hub");
    assert!(login.body.contains(r#"name="password""#), "{}", login.body);
    let done = browser
        .submit(
            &login,
            "password",
            &[("username", &citizen), ("password", common::PASSWORD)],
        )
        .await;
    let hint = common::flow::set_cookie(&done, "idp_fed_hint").expect("the hint is set");
    assert!(hint.contains("Domain=gov.example"), "{hint}");
    let at_app = browser.follow(done).await.location.unwrap();
    assert!(
        at_app.starts_with(&app.redirect_uri) && at_app.contains("code="),
        "{at_app}"
    );
    assert_eq!(hub_events().await, heard_before, "the hub heard nothing");

    // Logging out takes the hint away with the session.
    let out = browser.get("/logout").await;
    let confirm = browser.submit(&out, "confirm", &[("confirm", "yes")]).await;
    let gone = common::flow::set_cookie(&confirm, "idp_fed_hint").expect("the hint is cleared");
    assert!(
        gone.contains("Max-Age=0") && gone.contains("Domain=gov.example"),
        "{gone}"
    );

    // A browser with a session somewhere in the federation is looked up at the hub silently.
    let hinted = common::flow::browser_with(&p51.base, None, &["idp_fed_hint=1"]);
    let to_login = hinted.get(&start).await.location.unwrap();
    let probe = hinted.get(&to_login).await;
    assert!(
        probe.location.as_deref().is_some_and(
            |l| l.starts_with("/federation/start?upstream=00") && l.contains("probe=1")
        ),
        "{:?}",
        probe.location
    );
}
