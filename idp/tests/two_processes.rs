//! Two `idp serve` processes (replicas) on one PostgreSQL database, with one flow hopping
//! between them at every step. Needs IDP_TEST_DATABASE (a PostgreSQL server); on SQLite the
//! same test runs with both processes on one database file.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{form_containing, query_of, Browser};
use common::replica::{cli, start};
use common::{id_number, PASSWORD};

#[actix_web::test]
async fn one_flow_hops_between_two_replicas_at_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let pg = common::postgres::TempDatabase::from_env();
    let db = match &pg {
        Some(p) => p.url.clone(),
        None => format!("sqlite://{}", dir.path().join("idp.db").display()),
    };
    let kek = dir.path().join("kek");
    cli(&db, &kek, &["migrate"], None);
    // Both replicas answer for one issuer, as behind a load balancer.
    let issuer_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer = format!("http://127.0.0.1:{issuer_port}");
    let (a, b) = (
        start(&db, &kek, &issuer).await,
        start(&db, &kek, &issuer).await,
    );

    // Admin commands write to the same database while both serve.
    let citizen = id_number(44, 21);
    cli(
        &db,
        &kek,
        &[
            "user",
            "create",
            "--id-number",
            &citizen,
            "--name",
            "李四",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let app = cli(
        &db,
        &kek,
        &[
            "client",
            "create",
            "--name",
            "跨副本",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--approve",
        ],
        None,
    );
    let (client_id, secret) = (
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    );

    // Cookies are per host, not per port: one browser session spans both replicas.
    let browser = Browser::new(&a.base);
    let verifier = "a".repeat(43);
    let challenge = idp::domain::pkce::s256(&verifier);
    let auth = format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri=http://127.0.0.1:9/cb&scope=openid%20profile%20offline_access&state=hop&nonce=n&code_challenge={challenge}&code_challenge_method=S256"
    );
    let step1 = browser.get(&format!("{}{auth}", a.base)).await;
    let login_path = step1.location.unwrap();
    let step2 = browser.get(&format!("{}{login_path}", b.base)).await;
    let form = form_containing(&step2.body, "password").unwrap();
    let mut fields = form.hidden.clone();
    fields.push(("username".into(), citizen.clone()));
    fields.push(("password".into(), PASSWORD.into()));
    let step3 = browser.post(&format!("{}/login", a.base), &fields).await;
    assert_eq!(
        step3.status, 303,
        "login on A with the form rendered by B (shared CSRF key)"
    );
    let step4 = browser
        .get(&format!("{}{}", b.base, step3.location.unwrap()))
        .await;
    let consent_path = step4.location.unwrap();
    assert!(consent_path.starts_with("/consent"), "{consent_path}");
    let step5 = browser.get(&format!("{}{consent_path}", a.base)).await;
    let form = form_containing(&step5.body, "decision").unwrap();
    let mut fields = form.hidden.clone();
    fields.push(("decision".into(), "allow".into()));
    let step6 = browser.post(&format!("{}/consent", b.base), &fields).await;
    let back = step6.location.unwrap();
    let q = query_of(&back);
    assert_eq!(q["state"], "hop");
    assert_eq!(q["iss"], issuer);

    let http = reqwest::Client::new();
    let tokens: serde_json::Value = http
        .post(format!("{}/token", a.base))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().expect("tokens from A");
    let info = http
        .get(format!("{}/userinfo", b.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200, "B accepts what A signed");
    // The code cannot be redeemed again on the other replica; the replay revokes the grant.
    let replay = http
        .post(format!("{}/token", b.base))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
    let info = http
        .get(format!("{}/userinfo", a.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401, "revocation seen by A too");

    // The audit chain written by two processes and the CLI is intact.
    let verified = cli(&db, &kek, &["audit", "verify"], None);
    assert_eq!(verified["intact"], true);
    assert!(verified["verified_entries"].as_i64().unwrap() >= 6);
    drop((a, b));
}

/// Replicas starting at once on an empty PostgreSQL database agree on one set of signing keys:
/// each counts the keys before inserting its own, and without a lock every one of them would
/// count none.
#[test]
fn replicas_starting_at_once_create_one_set_of_signing_keys() {
    let admin = std::env::var("IDP_TEST_DATABASE")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = common::postgres::TempDatabase::create(&admin);
    let store = idp::store::Store::open(&db.url, 8).unwrap();
    store.migrate().unwrap();
    let kek = keys::Kek::generate();
    // Each replica's keys are made first, so that the threads meet at the database.
    let sets: Vec<_> = (0..4)
        .map(|_| idp::flows::keyring::new_key_rows(&kek, 1_800_000_000).unwrap())
        .collect();
    let start = std::sync::Barrier::new(sets.len());
    let inserted: Vec<bool> = std::thread::scope(|s| {
        let threads: Vec<_> = sets
            .iter()
            .map(|set| {
                let (store, start) = (&store, &start);
                s.spawn(move || {
                    start.wait();
                    store.insert_first_signing_keys(set).unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(inserted.iter().filter(|&&won| won).count(), 1);
    let mut algs: Vec<String> = store
        .signing_keys()
        .unwrap()
        .into_iter()
        .map(|r| r.alg)
        .collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "RS256"]);
}
