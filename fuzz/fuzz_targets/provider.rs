//! The provider as the idp targets meet it: the real `Services` (a throwaway SQLite file, a
//! clock that never moves) and a small app registry, made once per fuzzing process.
#![allow(dead_code)]
use idp::clock::ManualClock;
use idp::config::Config;
use idp::domain::client::{AuthMethod, Client, ClientStatus, GrantType, RequestObjectAlg};
use idp::domain::subject::SubjectType;
use idp::services::{Services, Shared};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const NOW: i64 = 1_800_000_000;
pub const ISSUER: &str = "https://idp.example";

pub fn services() -> &'static Shared {
    static SVC: OnceLock<Shared> = OnceLock::new();
    SVC.get_or_init(|| {
        let dir = scratch_dir();
        let config = Config {
            issuer: ISSUER.into(),
            database_url: format!("sqlite://{}", dir.join("idp.db").display()),
            pool_size: 2,
            ..Config::default()
        };
        Services::open(config, Arc::new(ManualClock::new(NOW))).expect("the provider starts")
    })
}

/// A folder per process (`-jobs=2` runs two), under the system temp folder. libFuzzer leaves by
/// `exit`, so nothing is dropped: each start removes the folders of processes that are gone.
fn scratch_dir() -> PathBuf {
    let base = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("idp-fuzz-") {
                if !PathBuf::from(format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
    let dir = base.join(format!("idp-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// The key the apps sign request objects with; their registered `jwks` holds its public half.
pub fn app_key() -> &'static keys::SigningKey {
    static KEY: OnceLock<keys::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| keys::SigningKey::generate(keys::Alg::ES256).expect("a key"))
}

/// A key no app registered.
pub fn stranger_key() -> &'static keys::SigningKey {
    static KEY: OnceLock<keys::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| keys::SigningKey::generate(keys::Alg::ES256).expect("a key"))
}

pub const WEB_APP: &str = "web-app";
pub const NATIVE_APP: &str = "native-app";
pub const PENDING_APP: &str = "pending-app";

pub const WEB_REDIRECTS: &[&str] = &[
    "https://app.example/cb",
    "https://app.example/cb?tenant=1",
    "http://127.0.0.1:9000/cb",
];
pub const NATIVE_REDIRECTS: &[&str] = &["cn.gov.app:/oauth", "http://localhost/cb"];

fn client(
    client_id: &str,
    auth_method: AuthMethod,
    redirects: &[&str],
    status: ClientStatus,
    request_object_alg: Option<RequestObjectAlg>,
) -> Client {
    let jwks = keys::KeySet::new(vec![app_key().verifier()]).jwks();
    Client {
        client_id: client_id.into(),
        name: client_id.into(),
        auth_method,
        redirect_uris: redirects.iter().map(|s| (*s).to_owned()).collect(),
        post_logout_redirect_uris: vec!["https://app.example/bye".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: ["openid", "profile", "phone", "id_number", "licence:driving"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        id_token_alg: keys::Alg::ES256,
        jwks: Some(jwks),
        // Never a jwks_uri: a fuzzer must not make the provider call out.
        jwks_uri: None,
        request_object_alg,
        backchannel_logout_uri: None,
        status,
        status_reason: None,
        created_at: NOW - 86_400,
        dpop_bound: false,
        first_party: false,
        subject: SubjectType::Public,
        federation_region: None,
    }
}

/// A confidential web app (unsigned request objects allowed), a public native app that
/// registered ES256 for request objects, and an app still waiting for review.
pub fn registry() -> &'static [Client] {
    static APPS: OnceLock<Vec<Client>> = OnceLock::new();
    APPS.get_or_init(|| {
        vec![
            client(
                WEB_APP,
                AuthMethod::ClientSecretBasic,
                WEB_REDIRECTS,
                ClientStatus::Approved,
                None,
            ),
            client(
                NATIVE_APP,
                AuthMethod::None,
                NATIVE_REDIRECTS,
                ClientStatus::Approved,
                Some(RequestObjectAlg::Signed(keys::Alg::ES256)),
            ),
            client(
                PENDING_APP,
                AuthMethod::ClientSecretBasic,
                WEB_REDIRECTS,
                ClientStatus::Pending,
                None,
            ),
        ]
    })
}

/// `flows::authorize::load_client` without the database: by `client_id`, at most 128 bytes.
pub fn lookup(client_id: Option<&str>) -> Option<&'static Client> {
    let id = client_id.filter(|id| id.len() <= 128)?;
    registry().iter().find(|c| c.client_id == id)
}

/// Findings reported against the idp crate and not fixed there yet (fuzz/regressions/README.md).
/// While one is listed its property is not asserted, so fuzzing goes on to find the next; delete
/// the line together with the fix, and CI's replay of the kept input then guards it.
/// `FUZZ_STRICT=1` asserts them all, to see them fail; `FUZZ_STRICT=name,...` only those.
const OPEN: &[&str] = &[];

pub fn open(finding: &str) -> bool {
    static STRICT: OnceLock<Option<String>> = OnceLock::new();
    let strict = STRICT.get_or_init(|| std::env::var("FUZZ_STRICT").ok());
    let asserted = strict
        .as_deref()
        .is_some_and(|s| s == "1" || s.split(',').any(|name| name == finding));
    OPEN.contains(&finding) && !asserted
}
