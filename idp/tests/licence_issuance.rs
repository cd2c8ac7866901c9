//! OpenID for Verifiable Credential Issuance as a wallet speaks it over HTTP: an offer with a
//! pre-authorized code and a transaction code, the token endpoint, the nonce endpoint, and the
//! credential endpoint with proofs of possession; and every way a request can be wrong.
#![allow(clippy::unwrap_used)]
mod common;

use common::browser::Browser;
use common::flow;
use common::{app, id_number, ClientSpec, TestServer, PASSWORD};
use idp::clock::Clock as _;
use idp::domain::client::{AuthMethod, GrantType};
use idp::domain::licence::{Holder, ImportRecord};
use idp::flows::{licence_issuer, licences, vci};
use serde_json::{json, Value};
use wallet_verifier::sd_jwt::{present, Expect, StatusCheck, Verifier};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

struct Counter {
    server: TestServer,
    http: reqwest::Client,
    citizen: String,
}

impl Counter {
    async fn open() -> Self {
        let server = TestServer::start().await;
        let citizen = id_number(44, 3);
        let record: ImportRecord = serde_json::from_value(json!({
            "type": "medical_insurance", "holder": citizen,
            "claims": {"name": "王五", "insured_region": "广州市", "insurance_type": "城乡居民医保"}}))
        .unwrap();
        server
            .with(move |s| {
                licences::import(s, &[record], "operator:test")
                    .unwrap()
                    .unwrap()
            })
            .await;
        Self {
            server,
            http: reqwest::Client::new(),
            citizen,
        }
    }

    /// (pre-authorized code, transaction code), from the offer URI as a wallet parses it.
    async fn offer(&self) -> (String, String) {
        let holder =
            Holder::Person(idp::domain::id_number::IdNumber::parse(&self.citizen).unwrap());
        let offer = self
            .server
            .with(move |s| {
                vci::offer(s, &holder, "medical_insurance", "operator:test")
                    .unwrap()
                    .unwrap()
            })
            .await;
        let url = url::Url::parse(&offer.offer).unwrap();
        assert_eq!(url.scheme(), "openid-credential-offer");
        let (_, body) = url
            .query_pairs()
            .find(|(k, _)| k == "credential_offer")
            .unwrap();
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["credential_issuer"], json!(self.server.base));
        assert_eq!(
            body["credential_configuration_ids"],
            json!(["medical_insurance"])
        );
        let grant = &body["grants"][GRANT];
        assert_eq!(grant["tx_code"]["length"], 6);
        assert_eq!(offer.tx_code.len(), 6);
        (
            grant["pre-authorized_code"].as_str().unwrap().to_owned(),
            offer.tx_code,
        )
    }

    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(self.server.url("/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    async fn redeem(&self, code: &str, tx_code: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", GRANT),
            ("pre-authorized_code", code),
            ("tx_code", tx_code),
        ])
        .await
    }

    async fn nonce(&self) -> String {
        let r = self
            .http
            .post(self.server.url("/credential/nonce"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        r.json::<Value>().await.unwrap()["c_nonce"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn proof(&self, key: &keys::SigningKey, aud: &str, nonce: &str, typ: &str) -> String {
        let claims = json!({"aud": aud, "iat": self.server.clock.now(), "nonce": nonce});
        key.sign_self_contained(typ, claims.as_object().unwrap())
            .unwrap()
    }

    async fn credential(&self, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.server.url("/credential"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A fresh access token for the licence.
    async fn access_token(&self) -> String {
        let (code, tx) = self.offer().await;
        let (status, body) = self.redeem(&code, &tx).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }
}

#[actix_rt::test]
async fn a_wallet_receives_a_licence_from_an_offer_and_a_verifier_accepts_it() {
    let counter = Counter::open().await;
    let meta: Value = reqwest::get(counter.server.url("/.well-known/openid-credential-issuer"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["credential_issuer"], json!(counter.server.base));
    let config = &meta["credential_configurations_supported"]["medical_insurance"];
    assert_eq!(config["format"], "dc+sd-jwt");
    assert_eq!(config["vct"], "urn:cn:gov:licence:medical-insurance:1");
    assert_eq!(
        meta["credential_endpoint"],
        json!(counter.server.url("/credential"))
    );

    let (code, tx) = counter.offer().await;
    let (status, token) = counter.redeem(&code, &tx).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    // The code is spent: a second redemption fails.
    let (status, again) = counter.redeem(&code, &tx).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let wallet = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let second = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let nonce = counter.nonce().await;
    let body = json!({"credential_configuration_id": "medical_insurance", "proofs": {"jwt": [
        counter.proof(&wallet, &counter.server.base, &nonce, vci::PROOF_TYP),
        counter.proof(&second, &counter.server.base, &nonce, vci::PROOF_TYP)]}});
    let (status, issued) = counter
        .credential(token["access_token"].as_str().unwrap(), body)
        .await;
    assert_eq!(status, 200, "{issued}");
    let credentials = issued["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 2, "one credential per proof");

    let root = counter
        .server
        .with(|s| licence_issuer::issuer(s).unwrap().root_der.clone())
        .await;
    let verifier = Verifier::new(vec![root]).unwrap();
    let now = counter.server.clock.now();
    let credential = credentials[0]["credential"].as_str().unwrap();
    let verified =
        show_and_verify(&verifier, credential, &["insured_region"], &wallet, now).unwrap();
    assert_eq!(verified.claims["insured_region"], "广州市");
    assert_eq!(verified.holder_thumbprint, wallet.verifier().thumbprint());
    // The second credential is bound to the second key, not the first.
    let second = credentials[1]["credential"].as_str().unwrap();
    assert!(show_and_verify(&verifier, second, &["name"], &wallet, now).is_err());
    counter.server.stop().await;
}

#[actix_rt::test]
async fn the_transaction_code_is_checked_before_the_code_is_spent_and_guessing_burns_it() {
    let counter = Counter::open().await;
    let (code, tx) = counter.offer().await;
    let (status, body) = counter
        .token(&[("grant_type", GRANT), ("pre-authorized_code", &code)])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    let wrong = if tx == "000000" { "000001" } else { "000000" };
    let (status, body) = counter.redeem(&code, wrong).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // One wrong guess spent nothing.
    let (status, body) = counter.redeem(&code, &tx).await;
    assert_eq!(status, 200, "{body}");

    let (code, tx) = counter.offer().await;
    for _ in 0..5 {
        let (status, _) = counter.redeem(&code, wrong).await;
        assert_eq!(status, 400);
    }
    let (status, body) = counter.redeem(&code, &tx).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "five guesses burn the offer: {body}"
    );

    // Ten wrong guesses at once still use up only the same five tries: the right code after
    // them gets nothing.
    let (code, tx) = counter.offer().await;
    let url = counter.server.url("/token");
    let guesses: Vec<_> = (0..10)
        .map(|i| {
            let (url, code) = (url.clone(), code.clone());
            let guess = format!("{:06}", (tx.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .form(&[
                        ("grant_type", GRANT),
                        ("pre-authorized_code", &code),
                        ("tx_code", &guess),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for guess in guesses {
        assert_eq!(guess.await.unwrap(), 400);
    }
    let (status, body) = counter.redeem(&code, &tx).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    let (code, tx) = counter.offer().await;
    counter.server.clock.advance(601);
    let (status, body) = counter.redeem(&code, &tx).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired: {body}"
    );
    let (status, body) = counter.redeem("no-such-code", &tx).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    counter.server.stop().await;
}

#[actix_rt::test]
async fn every_bad_credential_request_gets_its_own_error_and_nothing_is_issued() {
    let counter = Counter::open().await;
    let token = counter.access_token().await;
    let wallet = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let base = counter.server.base.clone();
    let nonce = counter.nonce().await;
    let good_proof = counter.proof(&wallet, &base, &nonce, vci::PROOF_TYP);
    let request = |proof: &str| json!({"credential_configuration_id": "medical_insurance", "proofs": {"jwt": [proof]}});

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"proofs": {"jwt": [good_proof]}}),
            "invalid_credential_request",
        ),
        (
            json!({"credential_configuration_id": "medical_insurance"}),
            "invalid_proof",
        ),
        (
            json!({"credential_configuration_id": "medical_insurance", "proof": {"proof_type": "jwt", "jwt": good_proof}}),
            "invalid_credential_request",
        ),
        (
            request(&counter.proof(&wallet, "https://elsewhere.example", &nonce, vci::PROOF_TYP)),
            "invalid_proof",
        ),
        (
            request(&counter.proof(&wallet, &base, &nonce, "JWT")),
            "invalid_proof",
        ),
        (
            request(&counter.proof(&wallet, &base, "forged.9999999999.AAAA", vci::PROOF_TYP)),
            "invalid_nonce",
        ),
        (request("not.a.jwt"), "invalid_proof"),
        (json!(["not", "an", "object"]), "invalid_credential_request"),
    ];
    for (body, expected) in cases {
        let (status, answer) = counter.credential(&token, body.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(expected)),
            "{body}: {answer}"
        );
    }
    // This token is for medical insurance only.
    let other =
        json!({"credential_configuration_id": "resident_id", "proofs": {"jwt": [good_proof]}});
    let (status, _) = counter.credential(&token, other).await;
    assert_eq!(status, 403, "insufficient_scope");
    // An expired nonce is refused as such.
    counter.server.clock.advance(301);
    let token = counter.access_token().await;
    let (status, answer) = counter
        .credential(
            &token,
            request(&counter.proof(&wallet, &base, &nonce, vci::PROOF_TYP)),
        )
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_nonce")),
        "{answer}"
    );

    // Tokens: none, unknown, expired.
    let r = reqwest::Client::new()
        .post(counter.server.url("/credential"))
        .json(&request(&good_proof))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, _) = counter
        .credential("no-such-token", request(&good_proof))
        .await;
    assert_eq!(status, 401);
    counter.server.clock.advance(301);
    let fresh = counter.nonce().await;
    let (status, _) = counter
        .credential(
            &token,
            request(&counter.proof(&wallet, &base, &fresh, vci::PROOF_TYP)),
        )
        .await;
    assert_eq!(status, 401, "the access token lived five minutes");

    let issued: i64 = counter
        .server
        .with(|s| {
            s.store
                .audit_recent(Some("licence.issued"), 10)
                .unwrap()
                .len() as i64
        })
        .await;
    assert_eq!(issued, 0, "nothing was issued");
    counter.server.stop().await;
}

/// The authorization code flow: the citizen logs in to the government app (the wallet) through
/// the provider, agrees to release a licence type, and the app fetches the citizen's own licence
/// with its DPoP-bound token. Any other app, even one the citizen let read the licence at
/// userinfo, gets no credential it could show as the citizen.
#[actix_rt::test]
async fn a_citizen_fetches_their_own_licence_through_the_provider() {
    let counter = Counter::open().await;
    let server = &counter.server;
    server.user(&counter.citizen, PASSWORD).await;
    let stranger = id_number(44, 4);
    server.another_user(&stranger, "陈七").await;
    let gov_app = server
        .client(ClientSpec {
            name: "国家政务服务App".into(),
            auth_method: AuthMethod::None,
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: [
                "openid",
                "gov_app",
                "licence:medical_insurance",
                "licence:resident_id",
            ]
            .map(String::from)
            .to_vec(),
            dpop: true,
            ..ClientSpec::default()
        })
        .await;
    let scope = "openid gov_app licence:medical_insurance";
    let (device, token) =
        app::logged_in_with_scope(server, &gov_app, &counter.citizen, PASSWORD, scope).await;
    let wallet = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let ask = |configuration: &str, nonce: &str| {
        json!({"credential_configuration_id": configuration, "proofs": {"jwt": [
            counter.proof(&wallet, &server.base, nonce, vci::PROOF_TYP)]}})
    };
    let (status, issued) = app::call(
        server,
        &server.base,
        &device,
        &token,
        "/credential",
        &ask("medical_insurance", &counter.nonce().await),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let root = server
        .with(|s| licence_issuer::issuer(s).unwrap().root_der.clone())
        .await;
    let now = server.clock.now();
    let credential = issued["credentials"][0]["credential"].as_str().unwrap();
    let verifier = Verifier::new(vec![root]).unwrap();
    let verified = show_and_verify(&verifier, credential, &["name"], &wallet, now).unwrap();
    assert_eq!(verified.claims["name"], "王五");
    let audited = server
        .with(|s| s.store.audit_recent(Some("licence.issued"), 1).unwrap())
        .await;
    assert_eq!(
        audited[0].event.client_id.as_deref(),
        Some(gov_app.client_id.as_str())
    );
    assert_ne!(
        audited[0].event.actor, "anonymous",
        "the citizen is named (by sub)"
    );

    // Not consented (the token covers medical insurance only), unknown, or not held.
    let (status, _) = app::call(
        server,
        &server.base,
        &device,
        &token,
        "/credential",
        &ask("resident_id", &counter.nonce().await),
    )
    .await;
    assert_eq!(status, 403, "insufficient_scope");
    let (status, answer) = app::call(
        server,
        &server.base,
        &device,
        &token,
        "/credential",
        &ask("passport", &counter.nonce().await),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("unknown_credential_configuration")),
        "{answer}"
    );
    let (other_device, other) =
        app::logged_in_with_scope(server, &gov_app, &stranger, PASSWORD, scope).await;
    let (status, answer) = app::call(
        server,
        &server.base,
        &other_device,
        &other,
        "/credential",
        &ask("medical_insurance", &counter.nonce().await),
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("credential_request_denied")),
        "{answer}"
    );
    // The same token as a Bearer token (no proof): refused.
    let (status, _) = counter
        .credential(&token, ask("medical_insurance", &counter.nonce().await))
        .await;
    assert_eq!(status, 401, "a DPoP-bound token needs its proof");

    // Another app, which the citizen let read the licence at userinfo: no credential.
    let form_app = server
        .client(ClientSpec {
            scopes: ["openid", "licence:medical_insurance"]
                .map(String::from)
                .to_vec(),
            ..ClientSpec::default()
        })
        .await;
    let bearer = flow::tokens(
        server,
        &Browser::new(&server.base),
        &form_app,
        &counter.citizen,
        PASSWORD,
        &[("scope", "openid licence:medical_insurance")],
    )
    .await;
    let info = flow::userinfo(server, Some(&bearer.str("access_token"))).await;
    assert!(
        info.json["licences"]["medical_insurance"].is_array(),
        "{}",
        info.json
    );
    let (status, answer) = counter
        .credential(
            &bearer.str("access_token"),
            ask("medical_insurance", &counter.nonce().await),
        )
        .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (403, Some("insufficient_scope")),
        "{answer}"
    );
    counter.server.stop().await;
}

/// The wallet shows `claims` of `credential` to a verifier that asked nonce "n" for "aud".
fn show_and_verify(
    verifier: &Verifier,
    credential: &str,
    claims: &[&str],
    wallet: &keys::SigningKey,
    now: i64,
) -> Result<wallet_verifier::sd_jwt::Verified, wallet_verifier::sd_jwt::Refusal> {
    let shown = present(credential, claims, wallet, "aud", "n", now).unwrap();
    let expect = Expect {
        nonce: "n",
        audience: "aud",
        now,
        max_age_secs: 60,
        status: StatusCheck::Skip,
    };
    verifier.verify(&shown, &expect)
}
