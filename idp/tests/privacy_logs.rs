//! What the provider writes to its logs, at the most talkative level, while citizens log in,
//! apps redeem codes and refresh tokens, and a login crosses two federation nodes: no ID number,
//! password, client secret, code or token appears in it.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::federation::link;
use common::flow::{self, redeem};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Every line every thread of this test binary logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    })
}

#[actix_web::test]
async fn no_secret_or_id_number_reaches_the_logs() {
    let log = capture();
    let home = TestServer::start().await;
    let here = TestServer::start_localhost().await;
    let citizen = id_number(33, 77);
    let local = id_number(51, 78);
    home.user(&citizen, PASSWORD).await;
    here.user(&local, PASSWORD).await;
    let app = here.client(ClientSpec::default()).await;
    let node = link(&here, &home, "33", "浙江").await;

    let mut secrets = vec![
        citizen.clone(),
        local.clone(),
        PASSWORD.to_owned(),
        node.client_secret.clone().unwrap(),
        app.client_secret.clone().unwrap(),
    ];
    // A local citizen: a wrong password, a typo in the ID number, then a code flow with the ID
    // number released, userinfo, refresh.
    let browser = Browser::new(&here.base);
    let wrong = flow::login(&browser, &local, "not the password").await;
    assert_eq!(wrong.status, 401);
    let typo = &local[..17];
    flow::login(&browser, typo, PASSWORD).await;
    secrets.push("not the password".into());
    let code = flow::code(
        &here,
        &browser,
        &app,
        &local,
        PASSWORD,
        &[
            ("scope", "openid id_number offline_access"),
            ("prompt", "consent"),
        ],
    )
    .await;
    let tokens = redeem(&here, &app, &code, &[]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let info = flow::userinfo(&here, Some(&tokens.str("access_token"))).await;
    assert_eq!(info.json["id_number"], local.as_str());
    let refreshed = flow::as_client(
        &here,
        &app,
        "/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.str("refresh_token")),
        ],
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    secrets.extend([
        code,
        tokens.str("access_token"),
        tokens.str("refresh_token"),
        tokens.str("id_token"),
        refreshed.str("access_token"),
        refreshed.str("refresh_token"),
    ]);
    // A citizen of 33, through the federation: the ID number crosses the hop in an ID token.
    let traveller = Browser::new(&here.base);
    let page = traveller.get(&flow::authorize_url(&here, &app, &[])).await;
    let req = query_of(&page.location.unwrap())["req"].clone();
    let login = traveller.get(&format!("/login?req={req}")).await;
    let routed = traveller
        .submit(&login, "id_number", &[("id_number", &citizen)])
        .await;
    let to_home = traveller.get(&routed.location.unwrap()).await;
    let at_home = Browser {
        http: traveller.http.clone(),
        base: home.base.clone(),
    };
    let back = at_home
        .authorize(&to_home.location.unwrap(), &citizen, PASSWORD)
        .await;
    let callback = back.location.unwrap();
    let landed = traveller.authorize(&callback, "", "").await;
    assert!(landed.location.unwrap().starts_with(&app.redirect_uri));
    secrets.push(query_of(&callback)["code"].clone());

    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(
        text.lines().count() > 20,
        "the capture works: {} lines",
        text.lines().count()
    );
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "{s:?} is in the log");
    }
    // Not even the first 14 digits of an ID number (region and birth date).
    for id in [&citizen, &local] {
        assert!(
            !text.contains(&id[..14]),
            "part of an ID number is in the log"
        );
    }
}
