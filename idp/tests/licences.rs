//! Electronic licences end to end: the registry issues SD-JWT VCs of every shipped type, a
//! holder presents some claims, and an independent verifier (the wallet-verifier library, given
//! only the national root) checks them, with revocation and suspension read from the status
//! list the provider serves.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::{query_of, Browser};
use common::flow::{self, authorize_url, userinfo};
use common::{id_number, ClientSpec, TestServer, PASSWORD};
use idp::clock::Clock as _;
use idp::domain::licence::{ImportRecord, LicenceAction};
use idp::flows::{credentials, licence_issuer, licences};
use serde_json::{json, Map, Value};
use wallet_verifier::sd_jwt::{present, Expect, Refusal, StatusCheck, Verifier};

const AUD: &str = "https://counter.example.gov.cn";

fn records(citizen: &str) -> Vec<ImportRecord> {
    let values = json!([
        {"type": "resident_id", "holder": citizen, "claims": {"name": "李四", "sex": "女",
            "birth_date": "1980-01-02", "address": "浙江省杭州市西湖区", "issuing_authority": "杭州市公安局"}},
        {"type": "driving_licence", "holder": citizen, "claims": {"name": "李四", "sex": "女",
            "nationality": "中国", "birth_date": "1980-01-02", "first_issue_date": "2005-06-01",
            "vehicle_class": "C1", "issuing_authority": "杭州市公安局交通警察支队"}},
        {"type": "vehicle_licence", "holder": citizen, "claims": {"plate_number": "浙A12345",
            "vehicle_type": "小型轿车", "owner": "李四", "use_character": "非营运", "model": "比亚迪 BYD7152",
            "vin": "LGXC16DF0A0000001", "registration_date": "2020-03-04", "issue_date": "2020-03-04"}},
        {"type": "business_licence", "holder": "91330100799655058B", "claims": {
            "company_name": "杭州某某科技有限公司", "company_type": "有限责任公司", "legal_representative": "李四",
            "established": "2007-03-26", "address": "杭州市余杭区", "business_scope": "软件开发"}},
        {"type": "social_security_card", "holder": citizen, "claims": {"name": "李四",
            "card_number": "A12345678", "issuing_region": "330100", "issue_date": "2019-01-01"}},
        {"type": "medical_insurance", "holder": citizen, "claims": {"name": "李四",
            "insured_region": "杭州市", "insurance_type": "职工基本医疗保险"}},
    ]);
    serde_json::from_value(values).unwrap()
}

async fn import(server: &TestServer, records: Vec<ImportRecord>) -> Vec<licences::Imported> {
    server
        .with(move |s| {
            licences::import(s, &records, "operator:test")
                .unwrap()
                .unwrap()
        })
        .await
}

/// Issues licence `id` to a fresh wallet key: (credential, the key).
async fn issue_to_wallet(server: &TestServer, id: &str) -> (String, keys::SigningKey) {
    let holder = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let jwk = holder.public_jwk();
    let id = id.to_owned();
    let credential = server
        .with(move |s| {
            let row = s.store.licence(&id).unwrap().unwrap();
            let open = licences::open(s, row).unwrap();
            credentials::credential(s, &open, &jwk).unwrap()
        })
        .await
        .unwrap();
    (credential, holder)
}

/// A verifier that knows nothing but the root certificate, as a counter's would.
async fn verifier(server: &TestServer) -> Verifier {
    let root = server
        .with(|s| licence_issuer::issuer(s).unwrap().root_der.clone())
        .await;
    Verifier::new(vec![root]).unwrap()
}

/// Fetches and verifies the status list a verified credential points to, then verifies again
/// with it (what an online verifier does).
async fn verify_online(
    server: &TestServer,
    verifier: &Verifier,
    presentation: &str,
    nonce: &str,
) -> Result<Map<String, Value>, Refusal> {
    let now = server.clock.now();
    let expect = |status| Expect {
        nonce,
        audience: AUD,
        now,
        max_age_secs: 300,
        status,
    };
    let offline = verifier.verify(presentation, &expect(StatusCheck::Skip))?;
    let uri = offline.status.expect("every licence carries a status").uri;
    let response = reqwest::get(&uri).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/statuslist+jwt"
    );
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let list = verifier
        .verify_status_list_token(&response.text().await.unwrap(), &uri, now)
        .unwrap();
    Ok(verifier
        .verify(presentation, &expect(StatusCheck::List(&list)))?
        .claims)
}

#[actix_rt::test]
async fn every_shipped_type_is_issued_presented_with_chosen_claims_and_verified() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 7);
    let imported = import(&server, records(&citizen)).await;
    assert_eq!(imported.len(), 6);
    let verifier = verifier(&server).await;
    for licence in &imported {
        let (credential, holder) = issue_to_wallet(&server, &licence.id).await;
        let names = wallet_verifier::sd_jwt::disclosed_names(&credential);
        // Show two claims and hide the rest.
        let shown: Vec<&str> = names.iter().map(String::as_str).take(2).collect();
        let nonce = keys::random_token(16);
        let presentation = present(
            &credential,
            &shown,
            &holder,
            AUD,
            &nonce,
            server.clock.now(),
        )
        .unwrap();
        let claims = verify_online(&server, &verifier, &presentation, &nonce)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", licence.licence_type));
        let mut got: Vec<&str> = claims.keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut want = shown.clone();
        want.sort_unstable();
        assert_eq!(got, want, "{}", licence.licence_type);
        assert!(names.len() > 3, "{}: {names:?}", licence.licence_type);
    }
    // The holder claim was filled in from the holder's number.
    let (credential, holder) = issue_to_wallet(&server, &imported[0].id).await;
    let presentation = present(
        &credential,
        &["id_number"],
        &holder,
        AUD,
        "n-1",
        server.clock.now(),
    )
    .unwrap();
    let claims = verify_online(&server, &verifier, &presentation, "n-1")
        .await
        .unwrap();
    assert_eq!(claims["id_number"], json!(citizen));
    server.stop().await;
}

#[actix_rt::test]
async fn suspension_and_revocation_show_at_the_next_status_fetch() {
    let server = TestServer::start().await;
    let imported = import(&server, records(&id_number(33, 8))[..1].to_vec()).await;
    let id = imported[0].id.clone();
    let verifier = verifier(&server).await;
    let (credential, holder) = issue_to_wallet(&server, &id).await;
    let show = |nonce: &str| {
        present(
            &credential,
            &["name"],
            &holder,
            AUD,
            nonce,
            server.clock.now(),
        )
        .unwrap()
    };
    let change = |action| {
        let id = id.clone();
        server.with(move |s| licences::change(s, &id, action, "operator:test").unwrap())
    };

    assert!(verify_online(&server, &verifier, &show("a"), "a")
        .await
        .is_ok());
    change(LicenceAction::Suspend).await.unwrap();
    assert!(matches!(
        verify_online(&server, &verifier, &show("b"), "b").await,
        Err(Refusal::Suspended)
    ));
    // A suspended licence is not issued again either.
    let jwk = keys::SigningKey::generate(keys::Alg::ES256)
        .unwrap()
        .public_jwk();
    let again = id.clone();
    let refused = server
        .with(move |s| {
            let open = licences::open(s, s.store.licence(&again).unwrap().unwrap()).unwrap();
            credentials::credential(s, &open, &jwk).unwrap()
        })
        .await;
    assert_eq!(
        refused,
        Err(credentials::CredentialError::NotActive("suspended"))
    );

    change(LicenceAction::Reinstate).await.unwrap();
    assert!(verify_online(&server, &verifier, &show("c"), "c")
        .await
        .is_ok());
    change(LicenceAction::Revoke).await.unwrap();
    assert!(matches!(
        verify_online(&server, &verifier, &show("d"), "d").await,
        Err(Refusal::Revoked)
    ));
    assert!(
        change(LicenceAction::Reinstate).await.is_err(),
        "revocation is final"
    );
    let kinds: Vec<String> = server
        .with(|s| {
            s.store
                .audit_recent(None, 10)
                .unwrap()
                .into_iter()
                .map(|e| e.event.kind)
                .collect()
        })
        .await;
    for kind in [
        "licence.imported",
        "licence.suspended",
        "licence.active",
        "licence.revoked",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} not audited: {kinds:?}"
        );
    }
    server.stop().await;
}

#[actix_rt::test]
async fn status_indices_are_unique_and_not_in_issue_order() {
    let server = TestServer::start().await;
    let many: Vec<ImportRecord> = (0..300)
        .map(|i| records(&id_number(33, i))[5].clone())
        .collect();
    let imported = import(&server, many).await;
    let ids: Vec<String> = imported.iter().map(|l| l.id.clone()).collect();
    let indices: Vec<i64> = server
        .with(move |s| {
            ids.iter()
                .map(|id| s.store.licence(id).unwrap().unwrap().status_idx)
                .collect()
        })
        .await;
    let distinct: std::collections::HashSet<_> = indices.iter().collect();
    assert_eq!(distinct.len(), indices.len(), "an index was given twice");
    let ascending = indices.windows(2).filter(|w| w[0] < w[1]).count();
    // Random placement: about half the neighbours ascend; sequential would be all of them.
    assert!(
        ascending < 250,
        "{ascending} of 299 ascend: indices look sequential"
    );
    server.stop().await;
}

#[actix_rt::test]
async fn verifiers_find_the_issuer_and_nothing_else() {
    let server = TestServer::start().await;
    let meta: Value = reqwest::get(server.url("/.well-known/jwt-vc-issuer"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], json!(server.base));
    assert_eq!(meta["jwks"]["keys"][0]["x5c"].as_array().unwrap().len(), 1);
    for path in [
        "/status-lists/sl_nothing",
        "/status-lists/..%2Fjwks",
        "/status-lists/a%20b",
    ] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not_found", "{path}");
    }
    server.stop().await;
}

/// 一证通办: with the citizen's yes on the consent page, an app reads the licences of the types
/// it is registered for at userinfo, and nothing of anyone else's or of other types.
#[actix_rt::test]
async fn an_app_prefills_a_form_from_the_licences_the_citizen_agrees_to_release() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 9);
    let other = id_number(33, 10);
    server.user(&citizen, PASSWORD).await;
    let mut mine = records(&citizen);
    mine.extend(records(&other));
    let imported = import(&server, mine).await;
    // The citizen's vehicle licence is suspended: not released.
    let vehicle = imported
        .iter()
        .find(|l| l.licence_type == "vehicle_licence" && l.holder == citizen)
        .unwrap()
        .id
        .clone();
    server
        .with(move |s| {
            licences::change(s, &vehicle, LicenceAction::Suspend, "operator:test")
                .unwrap()
                .unwrap()
        })
        .await;
    let scopes = "openid licence:driving_licence licence:vehicle_licence licence:resident_id";
    let app = server
        .client(ClientSpec {
            scopes: [
                "openid",
                "licence:driving_licence",
                "licence:vehicle_licence",
            ]
            .map(String::from)
            .to_vec(),
            first_party: true,
            ..ClientSpec::default()
        })
        .await;
    let discovery: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("licence:driving_licence")));

    // Even a first-party app shows the consent page for licences, naming the licence.
    let browser = Browser::new(&server.base);
    let url = authorize_url(&server, &app, &[("scope", scopes)]);
    flow::login(&browser, &citizen, PASSWORD).await;
    let page = browser.follow(browser.get(&url).await).await;
    assert!(
        page.body.contains("您的电子证照（敏感信息）：驾驶证"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("居民身份证"),
        "a scope the app is not registered for is dropped"
    );
    let landed = browser
        .submit(&page, "decision", &[("decision", "allow")])
        .await;
    let code = query_of(landed.location.as_deref().unwrap())["code"].clone();
    let tokens = flow::redeem(&server, &app, &code, &[]).await;
    assert_eq!(
        tokens.json["scope"],
        "licence:driving_licence licence:vehicle_licence openid"
    );
    let info = userinfo(&server, Some(&tokens.str("access_token"))).await;
    let released = info.json["licences"].as_object().unwrap();
    assert_eq!(
        released.keys().collect::<Vec<_>>(),
        ["driving_licence"],
        "{}",
        info.json
    );
    let driving = &released["driving_licence"][0];
    assert_eq!(driving["vehicle_class"], "C1");
    assert_eq!(
        driving["licence_number"],
        json!(citizen),
        "the holder claim, the citizen's own"
    );
    assert_eq!(
        released["driving_licence"].as_array().unwrap().len(),
        1,
        "not the other citizen's"
    );

    // Declined: nothing is released.
    let fresh = Browser::new(&server.base);
    flow::login(&fresh, &citizen, PASSWORD).await;
    let url = authorize_url(&server, &app, &[("scope", scopes), ("prompt", "consent")]);
    let page = fresh.follow(fresh.get(&url).await).await;
    let landed = fresh
        .submit(&page, "decision", &[("decision", "deny")])
        .await;
    assert_eq!(
        query_of(landed.location.as_deref().unwrap())["error"],
        "access_denied"
    );
    // A client acting for itself can never hold a licence scope.
    let r = flow::as_client(
        &server,
        &app,
        "/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "licence:driving_licence"),
        ],
    )
    .await;
    assert_eq!(r.error(), "invalid_scope");
    server.stop().await;
}
