//! A national root, a provincial issuer under it, a holder, and a five-claim ID card.
#![allow(dead_code, clippy::unwrap_used)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use keys::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use wallet_verifier::sd_jwt::{
    self, Expect, Issue, StatusCheck, StatusListToken, StatusRef, Verifier,
};

pub const NOW: i64 = 1_800_000_000;
pub const YEAR: i64 = 365 * 24 * 3600;
pub const ISS: &str = "https://zj.gov.cn.example/licences";
pub const VCT: &str = "urn:cn:gov:licence:id-card";
pub const AUD: &str = "https://verifier.example/hotel-checkin";
pub const NONCE: &str = "n-0S6_WzA2Mj";
pub const STATUS_URI: &str = "https://hub.gov.cn.example/status/1";

pub struct Pki {
    pub root_key: SigningKey,
    pub root: Vec<u8>,
    pub issuer_key: SigningKey,
    pub leaf: Vec<u8>,
}

impl Pki {
    pub fn new() -> Pki {
        let root_key = SigningKey::generate(Alg::ES256).unwrap();
        let root =
            keys::root_certificate(&root_key, "国家电子证照根CA", NOW - YEAR, NOW + 10 * YEAR)
                .unwrap();
        let issuer_key = SigningKey::generate(Alg::ES256).unwrap();
        let leaf = keys::issuer_certificate(
            &root_key,
            &root,
            "浙江省电子证照签发",
            ISS,
            &issuer_key.verifier(),
            NOW - YEAR,
            NOW + 2 * YEAR,
        )
        .unwrap();
        Pki {
            root_key,
            root,
            issuer_key,
            leaf,
        }
    }

    pub fn verifier(&self) -> Verifier {
        Verifier::new(vec![self.root.clone()]).unwrap()
    }

    pub fn chain(&self) -> Vec<Vec<u8>> {
        vec![self.leaf.clone()]
    }

    /// An SD-JWT VC for `holder` with the five ID card claims.
    pub fn issue(&self, holder: &SigningKey, status: Option<StatusRef>) -> String {
        self.issue_custom(holder, status, &id_card(), NOW - 3600, NOW + YEAR)
    }

    pub fn issue_custom(
        &self,
        holder: &SigningKey,
        status: Option<StatusRef>,
        claims: &Map<String, Value>,
        iat: i64,
        exp: i64,
    ) -> String {
        let chain = self.chain();
        sd_jwt::issue(&Issue {
            signer: &self.issuer_key,
            x5c: &chain,
            iss: ISS,
            vct: VCT,
            iat,
            nbf: Some(iat),
            exp,
            holder_jwk: &holder.public_jwk(),
            status,
            claims,
        })
        .unwrap()
    }

    /// An ID card signed by this issuer's key but carrying `chain` as its x5c.
    pub fn issue_with_chain(&self, holder: &SigningKey, chain: &[Vec<u8>]) -> String {
        sd_jwt::issue(&Issue {
            signer: &self.issuer_key,
            x5c: chain,
            iss: ISS,
            vct: VCT,
            iat: NOW,
            nbf: None,
            exp: NOW + YEAR,
            holder_jwk: &holder.public_jwk(),
            status: None,
            claims: &id_card(),
        })
        .unwrap()
    }

    /// A status list token for STATUS_URI, signed by this issuer.
    pub fn status_token(&self, list: &sd_jwt::StatusList) -> String {
        sd_jwt::sign_status_list(
            &self.issuer_key,
            &self.chain(),
            STATUS_URI,
            list,
            NOW - 60,
            Some(NOW + 3600),
            Some(600),
        )
        .unwrap()
    }
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

pub fn id_card() -> Map<String, Value> {
    obj(json!({
        "姓名": "张三",
        "公民身份号码": "11010519491231002X",
        "出生日期": "1949-12-31",
        "性别": "男",
        "住址": {"省": "浙江省", "市": "杭州市"},
    }))
}

pub fn holder() -> SigningKey {
    SigningKey::generate(Alg::ES256).unwrap()
}

pub fn expect(status: StatusCheck<'_>) -> Expect<'_> {
    Expect {
        nonce: NONCE,
        audience: AUD,
        now: NOW,
        max_age_secs: 300,
        status,
    }
}

pub fn expect_list(token: &StatusListToken) -> Expect<'_> {
    expect(StatusCheck::List(token))
}

pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn b64url_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// `{"x5c": [...]}` for a hand-made issuer JWT.
pub fn x5c(chain: &[Vec<u8>]) -> Map<String, Value> {
    let certs: Vec<Value> = chain.iter().map(|c| STANDARD.encode(c).into()).collect();
    obj(json!({ "x5c": certs }))
}

/// (issuer JWT, disclosures) of an issued credential or a presentation.
pub fn split(sd_jwt: &str) -> (String, Vec<String>) {
    let mut parts: Vec<String> = sd_jwt.split('~').map(str::to_string).collect();
    parts.pop(); // KB-JWT or the empty string after the last '~'
    let jwt = parts.remove(0);
    (jwt, parts)
}

/// The issuer JWT's payload, unverified.
pub fn payload(jwt: &str) -> Map<String, Value> {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(p)).unwrap()
}

/// `<jwt>~<d>~...~` from parts.
pub fn join(jwt: &str, disclosures: &[String]) -> String {
    let mut s = format!("{jwt}~");
    for d in disclosures {
        s.push_str(d);
        s.push('~');
    }
    s
}

/// The disclosure of claim `name`.
pub fn disclosure_of(disclosures: &[String], name: &str) -> String {
    disclosures
        .iter()
        .find(|d| {
            let v: Value = serde_json::from_slice(&b64url_decode(d)).unwrap();
            v[1] == name
        })
        .unwrap()
        .clone()
}

/// Binds an SD-JWT (ending in '~') for the standard audience and nonce at NOW.
pub fn bind(sd_jwt: &str, holder: &SigningKey) -> String {
    sd_jwt::key_binding(sd_jwt, holder, AUD, NONCE, NOW).unwrap()
}
