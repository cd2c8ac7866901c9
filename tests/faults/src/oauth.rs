//! The relying party's side: authorization URLs with PKCE, and the token endpoint.
use crate::browser::{read, Page};
use base64::Engine;
use sha2::{Digest, Sha256};

/// A valid GB 11643 ID number: region `region` (2 digits), a serial making it unique.
pub fn id_number(region: u32, serial: u32) -> String {
    let first17 = format!(
        "{region:02}0105198{:01}{:02}{:02}{:03}",
        serial / 28_000 % 10,
        1 + serial / 1000 % 12,
        1 + serial % 28,
        serial % 1000
    );
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How the provider stores a code or token: base64url(SHA-256), never the value itself.
pub fn stored_hash(secret: &str) -> String {
    b64(&Sha256::digest(secret.as_bytes()))
}

/// An app registered at a node.
#[derive(Debug, Clone)]
pub struct App {
    pub base: String,
    pub client_id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// One authorization request: the URL to open and its PKCE verifier.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub verifier: String,
}

impl App {
    /// An authorization request for `scope`, with `extra` parameters (e.g. prompt=none).
    pub fn authorize(&self, scope: &str, extra: &[(&str, &str)]) -> Request {
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let verifier = format!("{}{n:020}", "v".repeat(43));
        let challenge = b64(&Sha256::digest(verifier.as_bytes()));
        let mut url = url::Url::parse(&format!("{}/authorize", self.base)).expect("base URL");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", &format!("s{n}"))
            .append_pair("nonce", &format!("n{n}"))
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(extra);
        Request {
            url: url.into(),
            verifier,
        }
    }

    async fn token(
        &self,
        http: &reqwest::Client,
        form: &[(&str, &str)],
    ) -> Result<Page, reqwest::Error> {
        let url = format!("{}/token", self.base);
        let resp = http
            .post(&url)
            .basic_auth(&self.client_id, Some(&self.secret))
            .form(form)
            .send()
            .await?;
        read(&url, resp).await
    }

    pub async fn redeem(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
    ) -> Result<Page, reqwest::Error> {
        self.token(
            http,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        refresh_token: &str,
    ) -> Result<Page, reqwest::Error> {
        self.token(
            http,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }
}

/// The code in a redirect to the app, if it carries one.
pub fn code_of(page: &Page) -> Option<String> {
    crate::browser::query_of(&page.next()?).get("code").cloned()
}
