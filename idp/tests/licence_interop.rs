//! Interoperability of our licences with the OpenWallet Foundation SD-JWT implementations: npm
//! `@sd-jwt/sd-jwt-vc` and PyPI `sd-jwt`, each driven as a separate process through the scripts
//! in `tests/interop/sd-jwt/` (installed by its `install.sh`; scripts/test.sh runs it).
//!
//! For each implementation and for a person's licence and the business licence:
//! - their verifier accepts a credential we issued and a presentation our wallet code made,
//!   and reads the very claim values we put in (Chinese text included);
//! - their verifier refuses a tampered disclosure, a tampered issuer-signed JWT, and a
//!   presentation checked against another nonce or audience; npm's also fetches our Token
//!   Status List and refuses a revoked licence;
//! - their wallet presents a credential we issued (the holder key is theirs), and our verifier
//!   accepts it with exactly the claims they chose, and refuses it for a wrong nonce.
#![allow(clippy::unwrap_used)]
mod common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{id_number, TestServer};
use idp::clock::Clock as _;
use idp::domain::licence::{ImportRecord, LicenceAction};
use idp::flows::{credentials, licence_issuer, licences};
use serde_json::{json, Map, Value};
use wallet_verifier::sd_jwt::{disclosed_names, present, Expect, Refusal, StatusCheck, Verifier};

const AUD: &str = "https://counter.example.gov.cn";
const CREDIT_CODE: &str = "91330100799655058B";

/// One of the OWF implementations, as a program that answers one JSON request per run.
#[derive(Clone)]
struct Owf {
    name: &'static str,
    program: PathBuf,
    script: PathBuf,
    /// Whether its verifier fetches and checks the Token Status List itself (npm's does, at
    /// every verification; PyPI sd-jwt has no status lists).
    checks_status: bool,
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/sd-jwt")
}

impl Owf {
    fn node() -> Self {
        let dir = interop_dir();
        assert!(
            dir.join("node_modules/@sd-jwt/sd-jwt-vc").is_dir()
                && dir.join("node_modules/@sd-jwt/crypto-nodejs").is_dir(),
            "npm @sd-jwt/sd-jwt-vc is not installed: run tests/interop/sd-jwt/install.sh \
             (scripts/test.sh does)"
        );
        Self::checked(Self {
            name: "npm @sd-jwt/sd-jwt-vc",
            program: "node".into(),
            script: dir.join("owf-node.mjs"),
            checks_status: true,
        })
    }

    fn python() -> Self {
        let dir = interop_dir();
        let python = dir.join(".venv/bin/python");
        assert!(
            python.is_file(),
            "PyPI sd-jwt is not installed: run tests/interop/sd-jwt/install.sh \
             (scripts/test.sh does)"
        );
        Self::checked(Self {
            name: "PyPI sd-jwt",
            program: python,
            script: dir.join("owf_python.py"),
            checks_status: false,
        })
    }

    /// Fails (never skips) when the program or the library cannot run.
    fn checked(self) -> Self {
        let answer = self.run(&json!({"mode": "keygen"}));
        if let Err(e) = &answer {
            panic!(
                "{} does not run ({e}): run tests/interop/sd-jwt/install.sh (scripts/test.sh does)",
                self.name
            );
        }
        self
    }

    fn run(&self, request: &Value) -> Result<Value, String> {
        let mut child = Command::new(&self.program)
            .arg(&self.script)
            .current_dir(interop_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            serde_json::from_slice(&out.stdout)
                .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    /// Runs off the test's thread: their verifier may fetch a status list from our server.
    async fn call(&self, request: Value) -> Result<Value, String> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.run(&request))
            .await
            .unwrap()
    }

    async fn keygen(&self) -> (Map<String, Value>, Value) {
        let keys = self.call(json!({"mode": "keygen"})).await.unwrap();
        (
            keys["public_jwk"].as_object().unwrap().clone(),
            keys["private_jwk"].clone(),
        )
    }

    async fn verify(
        &self,
        sd_jwt: &str,
        issuer_jwk: &Value,
        kb: Option<(&str, &str)>,
    ) -> Result<Value, String> {
        let mut request = json!({"mode": "verify", "sd_jwt": sd_jwt, "issuer_jwk": issuer_jwk});
        if let Some((nonce, aud)) = kb {
            request["nonce"] = nonce.into();
            request["aud"] = aud.into();
        }
        self.call(request).await
    }

    async fn present(
        &self,
        credential: &str,
        holder: &Value,
        disclose: &[&str],
        nonce: &str,
    ) -> String {
        let answer = self
            .call(
                json!({"mode": "present", "credential": credential, "holder_jwk": holder,
                "disclose": disclose, "nonce": nonce, "aud": AUD}),
            )
            .await
            .unwrap_or_else(|e| panic!("{} could not present: {e}", self.name));
        answer["presentation"].as_str().unwrap().to_owned()
    }
}

/// A licence to try: its import record and the claims a presentation shows.
struct Case {
    record: Value,
    holder_claim: (&'static str, String),
    show: &'static [&'static str],
}

fn cases(citizen: &str) -> Vec<Case> {
    vec![
        Case {
            record: json!({"type": "resident_id", "holder": citizen, "claims": {"name": "李四",
                "sex": "女", "birth_date": "1980-01-02", "address": "浙江省杭州市西湖区",
                "issuing_authority": "杭州市公安局"}}),
            holder_claim: ("id_number", citizen.to_owned()),
            show: &["name", "birth_date"],
        },
        Case {
            record: json!({"type": "business_licence", "holder": CREDIT_CODE, "claims": {
                "company_name": "杭州某某科技有限公司", "company_type": "有限责任公司",
                "legal_representative": "李四", "established": "2007-03-26",
                "address": "杭州市余杭区", "business_scope": "软件开发"}}),
            holder_claim: ("credit_code", CREDIT_CODE.to_owned()),
            show: &["company_name", "credit_code", "legal_representative"],
        },
    ]
}

/// Real time: the external libraries read the system clock, so the server's clock is set to it.
fn real_now() -> i64 {
    idp::clock::SystemClock.now()
}

/// Issues licence `id` to the wallet public key `jwk`.
async fn issue(server: &TestServer, id: &str, jwk: Map<String, Value>) -> String {
    let id = id.to_owned();
    server
        .with(move |s| {
            let row = s.store.licence(&id).unwrap().unwrap();
            let open = licences::open(s, row).unwrap();
            credentials::credential(s, &open, &jwk).unwrap()
        })
        .await
        .unwrap()
}

fn decode_json(b64: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap()
}

/// The SD-JWT with the disclosure of `name` given another value (its salt kept): the digest no
/// longer matches any the issuer signed.
fn tamper_disclosure(sd_jwt: &str, name: &str, value: &str) -> String {
    let mut parts: Vec<String> = sd_jwt.split('~').map(str::to_owned).collect();
    let last = parts.len() - 1;
    let mut found = false;
    for part in &mut parts[1..last] {
        let mut disclosure = decode_json(part);
        if disclosure[1] == name {
            disclosure[2] = value.into();
            *part = URL_SAFE_NO_PAD.encode(disclosure.to_string());
            found = true;
        }
    }
    assert!(found, "no disclosure of {name}");
    parts.join("~")
}

/// The SD-JWT with its issuer-signed payload changed and the issuer's signature kept.
fn tamper_payload(sd_jwt: &str) -> String {
    let (jwt, rest) = sd_jwt.split_once('~').unwrap();
    let segments: Vec<&str> = jwt.split('.').collect();
    let mut payload = decode_json(segments[1]);
    payload["exp"] = (payload["exp"].as_i64().unwrap() + 86_400 * 365).into();
    let forged = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{forged}.{}~{rest}", segments[0], segments[2])
}

fn sorted(names: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().map(Into::into).collect();
    v.sort();
    v
}

async fn interoperates(owf: Owf) {
    let server = TestServer::start().await;
    server.clock.set(real_now());
    let citizen = id_number(33, 7);
    let cases = cases(&citizen);
    let records: Vec<ImportRecord> = cases
        .iter()
        .map(|c| serde_json::from_value(c.record.clone()).unwrap())
        .collect();
    let imported = server
        .with(move |s| {
            licences::import(s, &records, "operator:test")
                .unwrap()
                .unwrap()
        })
        .await;
    let (issuer_jwk, root, iss) = server
        .with(|s| {
            let issuer = licence_issuer::issuer(s).unwrap();
            (
                Value::Object(issuer.key.public_jwk()),
                issuer.root_der.clone(),
                s.config.issuer.clone(),
            )
        })
        .await;
    let verifier = Verifier::new(vec![root]).unwrap();
    let who = owf.name;

    for (case, licence) in cases.iter().zip(&imported) {
        let kind = &licence.licence_type;
        let mut expected = case.record["claims"].as_object().unwrap().clone();
        expected.insert(
            case.holder_claim.0.into(),
            case.holder_claim.1.clone().into(),
        );

        // (a) Our credential, issued to a key their library made, verifies there.
        let (their_public, their_private) = owf.keygen().await;
        let credential = issue(&server, &licence.id, their_public.clone()).await;
        let read = owf
            .verify(&credential, &issuer_jwk, None)
            .await
            .unwrap_or_else(|e| panic!("{who} refused our {kind} credential: {e}"));
        assert_eq!(read["header"]["typ"], "dc+sd-jwt", "{who} {kind}");
        assert_eq!(read["claims"]["iss"], json!(iss), "{who} {kind}");
        assert_eq!(
            read["claims"]["cnf"]["jwk"],
            json!(their_public),
            "{who} {kind}"
        );
        for (name, value) in &expected {
            assert_eq!(&read["claims"][name], value, "{who} {kind}: {name}");
        }
        let disclosed: Vec<String> = serde_json::from_value(read["disclosed"].clone()).unwrap();
        assert_eq!(
            disclosed,
            sorted(disclosed_names(&credential)),
            "{who} {kind}"
        );
        assert!(
            read["x5c_san"]
                .as_str()
                .unwrap()
                .contains(&format!("URI:{iss}")),
            "{who} {kind}: the issuer certificate names iss: {}",
            read["x5c_san"]
        );

        // (a) A presentation our wallet code made verifies there, with exactly its claims.
        let ours = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
        let our_credential = issue(&server, &licence.id, ours.public_jwk()).await;
        let nonce = keys::random_token(16);
        let shown = present(&our_credential, case.show, &ours, AUD, &nonce, real_now()).unwrap();
        let read = owf
            .verify(&shown, &issuer_jwk, Some((&nonce, AUD)))
            .await
            .unwrap_or_else(|e| panic!("{who} refused our {kind} presentation: {e}"));
        let disclosed: Vec<String> = serde_json::from_value(read["disclosed"].clone()).unwrap();
        assert_eq!(disclosed, sorted(case.show.iter().copied()), "{who} {kind}");
        for name in case.show {
            assert_eq!(
                read["claims"][name], expected[*name],
                "{who} {kind}: {name}"
            );
        }
        assert_eq!(read["kb"]["nonce"], json!(nonce), "{who} {kind}");
        assert_eq!(read["kb"]["aud"], AUD, "{who} {kind}");

        // (b) Tampering is refused. Both libraries, at the pinned versions, silently skip a
        // disclosure whose digest the issuer never signed (the claim just goes missing); RFC
        // 9901 7.1 says to reject the SD-JWT, so the scripts add that check after the library's.
        // In a presentation the KB-JWT's sd_hash catches it in the library itself.
        let name = case.show[0];
        let refusals = [
            (
                "a tampered disclosure in the credential",
                tamper_disclosure(&credential, name, "王五"),
                None,
            ),
            (
                "a tampered disclosure in a presentation",
                tamper_disclosure(&shown, name, "王五"),
                Some((nonce.as_str(), AUD)),
            ),
            (
                "a tampered issuer-signed payload",
                tamper_payload(&credential),
                None,
            ),
            (
                "a presentation checked against another nonce",
                shown.clone(),
                Some(("another-nonce", AUD)),
            ),
            (
                "a presentation checked against another audience",
                shown.clone(),
                Some((nonce.as_str(), "https://elsewhere.example")),
            ),
        ];
        for (what, input, kb) in refusals {
            match owf.verify(&input, &issuer_jwk, kb).await {
                Ok(read) => panic!("{who} accepted {what} ({kind}): {}", read["claims"]),
                Err(e) => eprintln!("{who} refuses {what} ({kind}): {e}"),
            }
        }

        // (c) Their presentation of our credential verifies with ours, with exactly their choice.
        let nonce = keys::random_token(16);
        let theirs = owf
            .present(&credential, &their_private, case.show, &nonce)
            .await;
        let expect = |nonce| Expect {
            nonce,
            audience: AUD,
            now: real_now(),
            max_age_secs: 60,
            status: StatusCheck::Skip,
        };
        let verified = verifier
            .verify(&theirs, &expect(&nonce))
            .unwrap_or_else(|e| panic!("we refused {who}'s {kind} presentation: {e}"));
        assert_eq!(
            sorted(verified.claims.keys().cloned()),
            sorted(case.show.iter().copied()),
            "{who} {kind}"
        );
        for name in case.show {
            assert_eq!(
                verified.claims[*name], expected[*name],
                "{who} {kind}: {name}"
            );
        }
        assert_eq!(verified.iss, iss);
        assert_eq!(
            verified.holder_thumbprint,
            keys::jwk_thumbprint(&their_public).unwrap(),
            "{who} {kind}"
        );
        // All of it, and nothing at all (`<jwt>~<kb-jwt>`), too.
        let everything = disclosed_names(&credential);
        let everything: Vec<&str> = everything.iter().map(String::as_str).collect();
        for chosen in [&everything[..], &[]] {
            let presentation = owf
                .present(&credential, &their_private, chosen, &nonce)
                .await;
            let verified = verifier
                .verify(&presentation, &expect(&nonce))
                .unwrap_or_else(|e| {
                    panic!("we refused {who}'s {kind} presentation of {chosen:?}: {e}")
                });
            assert_eq!(
                sorted(verified.claims.keys().cloned()),
                sorted(chosen.iter().copied()),
                "{who} {kind}"
            );
        }

        // (d) Made for another nonce, it is refused.
        let wrong = owf
            .present(&credential, &their_private, case.show, "another-nonce")
            .await;
        assert!(
            matches!(
                verifier.verify(&wrong, &expect(&nonce)),
                Err(Refusal::WrongNonce)
            ),
            "{who} {kind}"
        );
    }

    if owf.checks_status {
        // Revoked: their verifier reads it from our status list.
        let id = imported[0].id.clone();
        let (their_public, _) = owf.keygen().await;
        let credential = issue(&server, &id, their_public).await;
        server
            .with(move |s| {
                licences::change(s, &id, LicenceAction::Revoke, "operator:test")
                    .unwrap()
                    .unwrap()
            })
            .await;
        let refused = owf.verify(&credential, &issuer_jwk, None).await;
        let e = refused.expect_err("a revoked licence passed their status check");
        assert!(e.contains("Status is not valid"), "{who}: {e}");
    }
    server.stop().await;
}

#[actix_rt::test]
async fn our_licences_interoperate_with_npm_sd_jwt_vc() {
    interoperates(Owf::node()).await;
}

#[actix_rt::test]
async fn our_licences_interoperate_with_pypi_sd_jwt() {
    interoperates(Owf::python()).await;
}
