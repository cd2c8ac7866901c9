//! Seamless roaming (无感漫游) across a federation of four `idp serve` processes, each on its own
//! database (the hub's on PostgreSQL), configured only with the `idp` command line: the hub and
//! provinces 33, 51 and 44. A citizen of 33 opens an app of 51, tells 51 their ID number once,
//! logs in at home and lands at the app; an app of 44 then lets them in without any page, with
//! the same national subject at the hub; logging out at 51 ends every session along the chain.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::federation::Traveller;
use common::flow::{http, jwt_parts};
use common::postgres::TempDatabase;
use common::replica::{cli, free_port, start_node, Replica};
use common::{id_number, TestClient, PASSWORD};
use serde_json::Value;
use std::path::PathBuf;

/// One federation node: its database, KEK and address; started once configured.
struct Node {
    db: String,
    kek: PathBuf,
    ip: &'static str,
    port: u16,
    base: String,
    process: Option<Replica>,
    _dir: tempfile::TempDir,
    _pg: Option<TempDatabase>,
}

impl Node {
    fn new(ip: &'static str, pg: Option<TempDatabase>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = match &pg {
            Some(p) => p.url.clone(),
            None => format!("sqlite://{}", dir.path().join("idp.db").display()),
        };
        let kek = dir.path().join("kek");
        cli(&db, &kek, &["migrate"], None);
        let port = free_port(ip);
        Self {
            db,
            kek,
            ip,
            port,
            base: format!("http://{ip}:{port}"),
            process: None,
            _dir: dir,
            _pg: pg,
        }
    }

    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Value {
        cli(&self.db, &self.kek, args, stdin)
    }

    /// An approved app (`first_party`: no consent page) with a back-channel logout URI.
    fn app(&self, name: &str, redirect: &str, extra: &[&str]) -> TestClient {
        let mut args = vec![
            "client",
            "create",
            "--name",
            name,
            "--redirect-uri",
            redirect,
            "--approve",
            "--scope",
            "openid",
            "--scope",
            "profile",
        ];
        args.extend_from_slice(extra);
        let c = self.cli(&args, None);
        TestClient {
            client_id: c["client_id"].as_str().unwrap().to_owned(),
            client_secret: c["client_secret"].as_str().map(str::to_owned),
            redirect_uri: redirect.to_owned(),
        }
    }

    /// Makes `parent` this node's upstream `code`: a first-party client there, allowed the ID
    /// number, told of logouts (and, for a province below the hub, the region it serves); and
    /// an upstream here with that client's credentials.
    fn trust(&self, parent: &Node, code: &str, name: &str, region: Option<&str>) {
        let backchannel = format!("{}/federation/backchannel_logout", self.base);
        let mut extra = vec![
            "--first-party",
            "--scope",
            "id_number",
            "--backchannel-logout-uri",
            &backchannel,
        ];
        if let Some(region) = region {
            extra.extend(["--federation-region", region]);
        }
        let node = parent.app(
            &format!("节点 {code}"),
            &format!("{}/federation/callback", self.base),
            &extra,
        );
        self.cli(
            &[
                "province",
                "add",
                "--code",
                code,
                "--name",
                name,
                "--issuer",
                &parent.base,
                "--client-id",
                &node.client_id,
                "--client-secret-stdin",
            ],
            node.client_secret.as_deref(),
        );
    }

    async fn start(&mut self, env: &[(&str, &str)]) {
        self.process = Some(start_node(&self.db, &self.kek, self.ip, self.port, env).await);
    }

    fn audit(&self) -> Vec<Value> {
        let all = self.cli(&["audit", "tail", "--limit", "500"], None);
        all.as_array().unwrap().clone()
    }
}

fn authorize_url(node: &Node, app: &TestClient, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let defaults = [
        ("response_type", "code"),
        ("client_id", app.client_id.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "st"),
    ];
    // `extra` replaces a default of the same name.
    q.extend_pairs(
        defaults
            .into_iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)),
    );
    q.extend_pairs(extra.iter().copied());
    format!("{}/authorize?{}", node.base, q.finish())
}

async fn redeem(node: &Node, app: &TestClient, code: &str) -> Value {
    let r = http()
        .post(format!("{}/token", node.base))
        .basic_auth(&app.client_id, app.client_secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", app.redirect_uri.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The subjects of the hub's tokens issued to `client_id` (its audit log says who).
fn hub_subjects_for(hub: &Node, client_id: &str) -> Vec<String> {
    hub.audit()
        .iter()
        .filter(|e| e["event"]["kind"] == "token.issued" && e["event"]["client_id"] == client_id)
        .map(|e| e["event"]["actor"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_citizen_logs_in_once_at_home_and_roams_to_another_province_without_a_page() {
    let admin = std::env::var("IDP_TEST_DATABASE")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut hub = Node::new("127.0.0.2", Some(TempDatabase::create(&admin)));
    let mut p33 = Node::new("127.0.0.3", TempDatabase::from_env());
    let mut p51 = Node::new("127.0.0.4", TempDatabase::from_env());
    let mut p44 = Node::new("127.0.0.5", TempDatabase::from_env());
    hub.trust(&p33, "33", "浙江", None);
    hub.trust(&p51, "51", "四川", None);
    for (p, region) in [(&p33, "33"), (&p51, "51"), (&p44, "44")] {
        p.trust(&hub, "00", "国家枢纽", Some(region));
    }
    let citizen = id_number(33, 41);
    p33.cli(
        &[
            "user",
            "create",
            "--id-number",
            &citizen,
            "--name",
            "张三",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let app51 = p51.app("四川社保", "http://127.0.0.1:9/app51", &[]);
    let app44 = p44.app("广东公积金", "http://127.0.0.1:9/app44", &["--first-party"]);
    let app33 = p33.app("浙江政务", "http://127.0.0.1:9/app33", &["--first-party"]);
    let sichuan = id_number(51, 42);
    let local_sub = p51.cli(
        &[
            "user",
            "create",
            "--id-number",
            &sichuan,
            "--name",
            "李四",
            "--password-stdin",
        ],
        Some(PASSWORD),
    )["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let app51_id = p51.app(
        "四川实名服务",
        "http://127.0.0.1:9/app51id",
        &["--scope", "id_number"],
    );
    let roam = [("IDP_ROAMING_UPSTREAM", "00")];
    hub.start(&[]).await;
    p33.start(&roam).await;
    p51.start(&roam).await;
    p44.start(&roam).await;
    let traveller = Traveller {
        browser: Browser::new(&p51.base),
    };

    // 1. The app of 51: the federation has no session yet, so 51 shows its login page.
    let start = authorize_url(&p51, &app51, &[("nonce", "n51")]);
    let (login51, _) = traveller.travel(&p51.base, &start, &app51).await;
    assert!(login51.body.contains("其他地区的账号"), "{}", login51.body);
    // The citizen types their ID number once; the hub sends them straight home to 33.
    let routed = traveller
        .at(&p51.base)
        .submit(&login51, "id_number", &[("id_number", &citizen)])
        .await;
    let (login33, _) = traveller
        .travel(&p51.base, &routed.location.unwrap(), &app51)
        .await;
    assert!(
        login33.body.contains(r#"name="password""#),
        "home's own login page: {}",
        login33.body
    );
    let logged_in = traveller
        .at(&p33.base)
        .submit(
            &login33,
            "password",
            &[("username", &citizen), ("password", PASSWORD)],
        )
        .await;
    // Home asks once whether the hub may have the ID number it links accounts by.
    let (consent33, _) = traveller
        .travel(&p33.base, &logged_in.location.unwrap(), &app51)
        .await;
    assert!(consent33.body.contains("节点 33"), "{}", consent33.body);
    let allowed33 = traveller
        .at(&p33.base)
        .submit(&consent33, "decision", &[("decision", "allow")])
        .await;
    let (consent51, _) = traveller
        .travel(&p33.base, &allowed33.location.unwrap(), &app51)
        .await;
    // 51's own app asks for consent once (it is not a first-party service).
    let allowed = traveller
        .at(&p51.base)
        .submit(&consent51, "decision", &[("decision", "allow")])
        .await;
    let at_app51 = allowed.location.unwrap();
    assert!(at_app51.starts_with(&app51.redirect_uri), "{at_app51}");
    let tokens51 = redeem(&p51, &app51, &query_of(&at_app51)["code"]).await;
    let id_token_51 = tokens51["id_token"].as_str().unwrap().to_owned();
    let (_, id51) = jwt_parts(&id_token_51);
    assert_eq!(id51["iss"], p51.base.as_str());
    assert_eq!(id51["nonce"], "n51");
    assert_eq!(
        id51["acr"],
        idp::domain::acr::ACR_PASSWORD,
        "home's level travels"
    );

    // 2. The app of 44: 无感漫游, not a single page on the way.
    let start = authorize_url(&p44, &app44, &[("nonce", "n44")]);
    let (arrival, hops) = traveller.travel(&p44.base, &start, &app44).await;
    let at_app44 = arrival
        .location
        .unwrap_or_else(|| panic!("a page was shown: {}", arrival.body));
    assert!(hops > 2, "it went through the hub");
    let tokens44 = redeem(&p44, &app44, &query_of(&at_app44)["code"]).await;
    let (_, id44) = jwt_parts(tokens44["id_token"].as_str().unwrap());
    assert_eq!(id44["nonce"], "n44");

    // One national subject at the hub: what it told 51 and 44 is about the same citizen, who
    // was linked once (a roaming account made on the first visit, none on the second).
    let (node51, node44) = (
        &p51.cli(&["province", "list"], None)["upstreams"][0]["client_id"],
        &p44.cli(&["province", "list"], None)["upstreams"][0]["client_id"],
    );
    let to51 = hub_subjects_for(&hub, node51.as_str().unwrap());
    let to44 = hub_subjects_for(&hub, node44.as_str().unwrap());
    assert_eq!((to51.len(), to44.len()), (1, 1), "{to51:?} {to44:?}");
    assert_eq!(to51, to44, "the same national subject");
    let made = hub
        .audit()
        .iter()
        .filter(|e| e["event"]["kind"] == "user.created")
        .count();
    assert_eq!(made, 1, "linked once");

    // 2b. The ID number did not travel to 51 with the roaming login (no app there asked for
    // it). An app of 51 that asks gets it only after the citizen agrees, at the hub, that 51
    // may have it, and at 51 that the app may.
    let start = authorize_url(&p51, &app51_id, &[("scope", "openid id_number")]);
    let (at_hub, _) = traveller.travel(&p51.base, &start, &app51_id).await;
    assert!(
        at_hub.body.contains("节点 00") && at_hub.body.contains(r#"name="decision""#),
        "the hub asks about the ID number: {:?} {}",
        at_hub.location,
        at_hub.body
    );
    let allowed = traveller
        .at(&hub.base)
        .submit(&at_hub, "decision", &[("decision", "allow")])
        .await;
    let (consent, _) = traveller
        .travel(&hub.base, &allowed.location.unwrap(), &app51_id)
        .await;
    let allowed = traveller
        .at(&p51.base)
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    let at_app = allowed.location.unwrap();
    let tokens = redeem(&p51, &app51_id, &query_of(&at_app)["code"]).await;
    let info: Value = http()
        .get(format!("{}/userinfo", p51.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["id_number"], citizen.as_str(), "{info}");

    // 2c. A citizen of 51 who roamed to 44 (logging in at home through the hub) and then comes
    // back to an app of 51 through the hub is their own account at 51, not a roaming copy:
    // the hub tells a node its own citizens' ID numbers.
    let sichuanese = Traveller {
        browser: Browser::new(&p44.base),
    };
    let start = authorize_url(&p44, &app44, &[]);
    let (login44, _) = sichuanese.travel(&p44.base, &start, &app44).await;
    let routed = sichuanese
        .at(&p44.base)
        .submit(&login44, "id_number", &[("id_number", &sichuan)])
        .await;
    let (at_home, _) = sichuanese
        .travel(&p44.base, &routed.location.unwrap(), &app44)
        .await;
    let signed_in = sichuanese
        .at(&p51.base)
        .submit(
            &at_home,
            "password",
            &[("username", &sichuan), ("password", PASSWORD)],
        )
        .await;
    let (consent, _) = sichuanese
        .travel(&p51.base, &signed_in.location.unwrap(), &app44)
        .await;
    assert!(consent.body.contains("节点 51"), "{}", consent.body);
    let allowed = sichuanese
        .at(&p51.base)
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    let (at44, _) = sichuanese
        .travel(&p51.base, &allowed.location.unwrap(), &app44)
        .await;
    assert!(at44.location.is_some_and(|l| l.contains("code=")));
    let start = authorize_url(&p51, &app51, &[]);
    let (consent, _) = sichuanese.travel(&p51.base, &start, &app51).await;
    let allowed = sichuanese
        .at(&p51.base)
        .submit(&consent, "decision", &[("decision", "allow")])
        .await;
    let tokens = redeem(&p51, &app51, &query_of(&allowed.location.unwrap())["code"]).await;
    let (_, back_home) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        back_home["sub"],
        local_sub.as_str(),
        "their own account at 51"
    );

    // 3. Logout at 51 ends the session along the whole chain: 51, the hub, home 33 and 44.
    let out = traveller
        .at(&p51.base)
        .get(&format!("/logout?id_token_hint={id_token_51}"))
        .await;
    assert_eq!(out.status.as_u16(), 200, "{}", out.body);
    for (node, app) in [(&p51, &app51), (&p44, &app44), (&p33, &app33)] {
        let silent = authorize_url(node, app, &[("prompt", "none")]);
        let (back, _) = traveller.travel(&node.base, &silent, app).await;
        let at_app = back
            .location
            .unwrap_or_else(|| panic!("a page: {}", back.body));
        assert_eq!(
            query_of(&at_app).get("error").map(String::as_str),
            Some("login_required"),
            "still logged in at {}",
            node.base
        );
    }
}
