//! The wallet's licences: received from a credential offer (OpenID4VCI pre-authorized code),
//! kept with a holder key of their own (sealed under the wallet's local KEK; one key per
//! licence, so two verifiers cannot link two licences by key), and presented with only the
//! claims asked for plus a key-binding JWT.
use crate::sd_jwt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The audience of a licence shown as a QR code to whoever scans it (no verifier request).
pub const SHOWN_AUDIENCE: &str = "urn:cn:gov:licence:shown";

const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
const PROOF_TYP: &str = "openid4vci-proof+jwt";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLicence {
    /// Local name: 12 letters and digits of the holder key's thumbprint.
    pub id: String,
    pub issuer: String,
    pub vct: String,
    pub configuration: String,
    /// The SD-JWT as issued (`<jwt>~<disclosures>~`).
    pub credential: String,
    pub holder_key: keys::SealedKey,
}

#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    #[error("the offer is not an openid-credential-offer with a pre-authorized code: {0}")]
    BadOffer(String),
    #[error("{0}: {1}")]
    Http(&'static str, String),
    #[error("the issuer refused ({0}): {1}")]
    Refused(u16, Value),
    #[error("no licence {0} in this wallet")]
    Unknown(String),
    #[error("the licence store is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Key(#[from] keys::KeyError),
    #[error("{0}")]
    Format(#[from] sd_jwt::SdJwtError),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

/// The file next to the wallet state that holds the licences.
pub fn store_path(state: &Path) -> PathBuf {
    state.with_extension("licences.json")
}

pub fn load(path: &Path) -> Result<Vec<StoredLicence>, LicenceError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| LicenceError::Damaged(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(LicenceError::Damaged(e.to_string())),
    }
}

pub fn save(path: &Path, licences: &[StoredLicence]) -> Result<(), LicenceError> {
    let text =
        serde_json::to_string_pretty(licences).map_err(|e| LicenceError::Damaged(e.to_string()))?;
    crate::state::write_private(path, text.as_bytes())
        .map_err(|e| LicenceError::Write(path.to_owned(), e))
}

/// The parts of a credential offer the wallet uses.
#[derive(Debug)]
struct Offer {
    issuer: String,
    configuration: String,
    code: String,
}

fn parse_offer(offer: &str) -> Result<Offer, LicenceError> {
    let bad = |why: &str| LicenceError::BadOffer(why.to_owned());
    let url = url::Url::parse(offer.trim()).map_err(|_| bad("not a URL"))?;
    let (_, body) = url
        .query_pairs()
        .find(|(k, _)| k == "credential_offer")
        .ok_or_else(|| bad("no credential_offer parameter"))?;
    let body: Value =
        serde_json::from_str(&body).map_err(|_| bad("credential_offer is not JSON"))?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(Offer {
        issuer: text(&body["credential_issuer"]).ok_or_else(|| bad("no credential_issuer"))?,
        configuration: body["credential_configuration_ids"]
            .get(0)
            .and_then(text)
            .ok_or_else(|| bad("no credential_configuration_ids"))?,
        code: text(&body["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])
            .ok_or_else(|| bad("no pre-authorized code"))?,
    })
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, LicenceError> {
    let r = http
        .get(url)
        .send()
        .await
        .map_err(|e| LicenceError::Http("fetching metadata", e.to_string()))?;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if status != 200 {
        return Err(LicenceError::Refused(status, body));
    }
    Ok(body)
}

async fn json_answer(
    r: Result<reqwest::Response, reqwest::Error>,
    what: &'static str,
) -> Result<Value, LicenceError> {
    let r = r.map_err(|e| LicenceError::Http(what, e.to_string()))?;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        return Err(LicenceError::Refused(status, body));
    }
    Ok(body)
}

/// Receives the licence an offer names: token (with the transaction code), nonce, credential
/// bound to a new key of its own. Returns it, ready to store.
pub async fn receive(
    offer: &str,
    tx_code: &str,
    kek: &keys::Kek,
    now: i64,
) -> Result<StoredLicence, LicenceError> {
    let offer = parse_offer(offer)?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| LicenceError::Http("starting HTTP", e.to_string()))?;
    let base = offer.issuer.trim_end_matches('/');
    let meta = get_json(
        &http,
        &format!("{base}/.well-known/openid-credential-issuer"),
    )
    .await?;
    let configuration = &meta["credential_configurations_supported"][&offer.configuration];
    let vct = configuration["vct"]
        .as_str()
        .ok_or_else(|| {
            LicenceError::BadOffer("the issuer does not describe that credential".into())
        })?
        .to_owned();
    // The issuer is its own authorization server unless it names another.
    let server = meta["authorization_servers"][0]
        .as_str()
        .unwrap_or(base)
        .trim_end_matches('/')
        .to_owned();
    let discovery = get_json(&http, &format!("{server}/.well-known/openid-configuration")).await?;
    let token_endpoint = discovery["token_endpoint"].as_str().ok_or_else(|| {
        LicenceError::BadOffer("the authorization server has no token endpoint".into())
    })?;
    let token = json_answer(
        http.post(token_endpoint)
            .form(&[
                ("grant_type", PRE_AUTHORIZED_GRANT),
                ("pre-authorized_code", offer.code.as_str()),
                ("tx_code", tx_code.trim()),
            ])
            .send()
            .await,
        "redeeming the offer",
    )
    .await?;
    let access_token = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let nonce_endpoint = meta["nonce_endpoint"].as_str().unwrap_or_default();
    let nonce = json_answer(http.post(nonce_endpoint).send().await, "fetching a nonce").await?;
    let holder = keys::SigningKey::generate(keys::Alg::ES256)?;
    let mut claims = serde_json::Map::new();
    claims.insert("aud".into(), json!(offer.issuer));
    claims.insert("iat".into(), json!(now));
    claims.insert("nonce".into(), nonce["c_nonce"].clone());
    let proof = holder.sign_self_contained(PROOF_TYP, &claims)?;
    let credential_endpoint = meta["credential_endpoint"].as_str().unwrap_or_default();
    let issued = json_answer(
        http.post(credential_endpoint)
            .bearer_auth(&access_token)
            .json(&json!({ "credential_configuration_id": offer.configuration, "proofs": { "jwt": [proof] } }))
            .send()
            .await,
        "fetching the credential",
    )
    .await?;
    let credential = issued["credentials"][0]["credential"]
        .as_str()
        .ok_or_else(|| LicenceError::BadOffer("the issuer sent no credential".into()))?
        .to_owned();
    Ok(StoredLicence {
        // Letters and digits only: an id that starts with '-' would read as an option.
        id: holder
            .kid()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect(),
        issuer: offer.issuer,
        vct,
        configuration: offer.configuration,
        credential,
        holder_key: holder.seal(kek),
    })
}

pub fn find<'a>(
    licences: &'a [StoredLicence],
    id: &str,
) -> Result<&'a StoredLicence, LicenceError> {
    licences
        .iter()
        .find(|l| l.id == id || l.configuration == id)
        .ok_or_else(|| LicenceError::Unknown(id.to_owned()))
}

/// A presentation of `licence` with only `claims`, for `audience` and `nonce`.
pub fn present(
    licence: &StoredLicence,
    claims: &[&str],
    audience: &str,
    nonce: &str,
    kek: &keys::Kek,
    now: i64,
) -> Result<String, LicenceError> {
    let holder = keys::SigningKey::unseal(&licence.holder_key, kek)?;
    Ok(sd_jwt::present(
        &licence.credential,
        claims,
        &holder,
        audience,
        nonce,
        now,
    )?)
}

/// What the wallet shows of a licence in its list (claim names, never values).
pub fn summary(licence: &StoredLicence) -> Value {
    json!({
        "id": licence.id,
        "type": licence.configuration,
        "vct": licence.vct,
        "issuer": licence.issuer,
        "claims": sd_jwt::disclosed_names(&licence.credential),
    })
}

/// The nonce in a presentation's key-binding JWT (unverified: a verifier that asked nothing
/// checks it is fresh instead, and the signature is verified with everything else).
pub fn holder_nonce(presentation: &str) -> Option<String> {
    use base64::Engine as _;
    let kb = presentation.rsplit('~').next()?;
    let payload = kb.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("nonce")?.as_str().map(str::to_owned)
}

/// Answers a verifier's OpenID4VP request (`openid4vp://?client_id=...&request_uri=...`): finds
/// the licence of the asked type, and with `consent` posts only the asked claims, bound to this
/// verifier (`aud` = its client_id) and its nonce. Without consent, says who asks for what.
pub async fn answer(
    link: &str,
    kept: &[StoredLicence],
    kek: &keys::Kek,
    now: i64,
    consent: bool,
) -> Result<Value, LicenceError> {
    let bad = |why: String| LicenceError::BadOffer(why);
    let (client_id, request_uri) = crate::oid4vp::parse_link(link).map_err(bad)?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| LicenceError::Http("starting HTTP", e.to_string()))?;
    let object = http
        .get(&request_uri)
        .send()
        .await
        .map_err(|e| LicenceError::Http("fetching the request", e.to_string()))?
        .text()
        .await
        .map_err(|e| LicenceError::Http("fetching the request", e.to_string()))?;
    let request = crate::oid4vp::parse_request_object(&object, &client_id).map_err(bad)?;
    let licence = kept
        .iter()
        .find(|l| l.vct == request.vct)
        .ok_or_else(|| LicenceError::Unknown(request.vct.clone()))?;
    let asks = json!({ "verifier": request.response_uri, "licence": licence.configuration, "claims": request.claims });
    if !consent {
        return Ok(json!({ "asks": asks, "hint": "answer with --yes to show these claims" }));
    }
    let names: Vec<&str> = request.claims.iter().map(String::as_str).collect();
    let shown = present(licence, &names, &client_id, &request.nonce, kek, now)?;
    answer_post(&http, &request, &shown)
        .await
        .map(|verdict| json!({ "asks": asks, "verifier_says": verdict }))
}

async fn answer_post(
    http: &reqwest::Client,
    request: &crate::oid4vp::Request,
    shown: &str,
) -> Result<Value, LicenceError> {
    let vp_token = crate::oid4vp::vp_token(shown);
    json_answer(
        http.post(&request.response_uri)
            .form(&[
                ("vp_token", vp_token.as_str()),
                ("state", request.state.as_str()),
            ])
            .send()
            .await,
        "answering the verifier",
    )
    .await
}
