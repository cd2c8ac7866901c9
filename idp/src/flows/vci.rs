//! OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow: an operator makes
//! an offer for a licence (a QR code, plus a transaction code told apart), the wallet redeems
//! the code and transaction code at the token endpoint, fetches a `c_nonce`, and proves
//! possession of its key at the credential endpoint.
use super::licences::{self, OpenLicence};
use super::token::TokenError;
use super::token_check::Presentation;
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::licence::{Holder, LicenceState};
use crate::services::Services;
use crate::store::credential_offers::CredentialOfferRow;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde_json::{json, Map, Value};
use sha2::Sha256;

pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// An offer handed out at a counter is scanned at once; ten minutes is generous.
const OFFER_SECS: i64 = 600;
const TX_CODE_DIGITS: usize = 6;
/// Wrong transaction codes before the offer is burnt (a million codes, five guesses).
const TX_CODE_TRIES: i64 = 5;
const TOKEN_SECS: i64 = 300;
const NONCE_SECS: i64 = 300;
/// A proof's `iat` may be this old (or this far ahead, for clock skew).
const PROOF_WINDOW_SECS: i64 = 300;
/// Credentials per request (one per proof, each bound to its own wallet key).
const MAX_PROOFS: usize = 10;

/// What `idp licence offer` prints.
#[derive(Debug, serde::Serialize)]
pub struct Offer {
    pub offer: String,
    pub tx_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error("the holder has no active licence of that type")]
    NoLicence,
    #[error("unknown licence type")]
    UnknownType,
}

/// An offer of the holder's newest active licence of `licence_type`.
pub fn offer(
    svc: &Services,
    holder: &Holder,
    licence_type: &str,
    actor: &str,
) -> Result<Result<Offer, OfferError>, Infra> {
    if svc.licence_types.get(licence_type).is_none() {
        return Ok(Err(OfferError::UnknownType));
    }
    let now = svc.now();
    let Some(licence) = svc
        .store
        .licences_of_holder(&licences::holder_lookup(svc, holder))?
        .into_iter()
        .rev()
        .find(|l| {
            l.licence_type == licence_type
                && l.state == LicenceState::Active.as_str()
                && l.valid_until > now
        })
    else {
        return Ok(Err(OfferError::NoLicence));
    };
    offer_licence(svc, &licence, actor).map(Ok)
}

/// An offer of one licence the caller has found to be its holder's, active and unexpired
/// (also the citizen's own 「添加到政务App」 on their account page).
pub fn offer_licence(
    svc: &Services,
    licence: &crate::store::licences::LicenceRow,
    actor: &str,
) -> Result<Offer, Infra> {
    let now = svc.now();
    let licence_type = licence.licence_type.as_str();
    let code = keys::random_token(32);
    let tx_code: String = (0..TX_CODE_DIGITS)
        .map(|_| char::from(b'0' + rand::rngs::OsRng.gen_range(0..10u8)))
        .collect();
    svc.store.insert_credential_offer(&CredentialOfferRow {
        code_hash: keys::sha256_b64(code.as_bytes()),
        licence_id: licence.id.clone(),
        tx_code_hash: keys::sha256_b64(tx_code.as_bytes()),
        attempts: 0,
        expires_at: now + OFFER_SECS,
        spent_at: None,
        created_at: now,
    })?;
    svc.audit.append(AuditEvent::new(
        "licence.offered",
        actor,
        None,
        json!({ "licence": licence.id, "type": licence_type }),
    ))?;
    let body = json!({
        "credential_issuer": svc.config.issuer,
        "credential_configuration_ids": [licence_type],
        "grants": { PRE_AUTHORIZED_GRANT: {
            "pre-authorized_code": code,
            "tx_code": { "input_mode": "numeric", "length": TX_CODE_DIGITS,
                "description": "柜台或网页显示的 6 位交易码 / the 6-digit code the counter or web page gave you" },
        }},
    });
    let offer = format!(
        "openid-credential-offer://?credential_offer={}",
        url::form_urlencoded::byte_serialize(body.to_string().as_bytes()).collect::<String>()
    );
    Ok(Offer { offer, tx_code })
}

fn oauth(error: &'static str, description: &str) -> TokenError {
    TokenError::OAuth {
        error,
        description: description.to_owned(),
    }
}

/// The token endpoint's pre-authorized code grant (anonymous: the code is the credential).
/// The transaction code is checked before the code is spent; five attempts use the offer up.
pub fn redeem(
    svc: &Services,
    params: &crate::domain::params::Params,
) -> Result<super::token::TokenResponse, TokenError> {
    let code = params
        .get("pre-authorized_code")
        .ok_or_else(|| oauth("invalid_request", "pre-authorized_code is required"))?;
    let now = svc.now();
    let code_hash = keys::sha256_b64(code.as_bytes());
    let offer = svc
        .store
        .credential_offer(&code_hash)?
        .filter(|o| o.spent_at.is_none() && o.expires_at > now)
        .ok_or_else(|| {
            oauth(
                "invalid_grant",
                "the pre-authorized code is unknown, used or expired",
            )
        })?;
    let tx_code = params.get("tx_code").ok_or_else(|| {
        oauth(
            "invalid_request",
            "this offer needs its transaction code (tx_code)",
        )
    })?;
    // The attempt is counted before the comparison, atomically: a burst of concurrent guesses
    // shares the same five tries as guesses one after another.
    if !svc
        .store
        .reserve_offer_attempt(&code_hash, TX_CODE_TRIES, now)?
    {
        return Err(oauth(
            "invalid_grant",
            "the pre-authorized code is unknown, used, expired or out of attempts",
        ));
    }
    let tx_hash = keys::sha256_b64(tx_code.as_bytes());
    if !keys::constant_time_eq(tx_hash.as_bytes(), offer.tx_code_hash.as_bytes()) {
        svc.audit.append(AuditEvent::new(
            "licence.tx_code_wrong",
            "anonymous",
            None,
            json!({ "licence": offer.licence_id, "attempt": offer.attempts + 1 }),
        ))?;
        return Err(oauth("invalid_grant", "the transaction code is wrong"));
    }
    if !svc.store.spend_credential_offer(&code_hash, now)? {
        return Err(oauth(
            "invalid_grant",
            "the pre-authorized code is unknown, used or expired",
        ));
    }
    let token = keys::random_token(32);
    svc.store.insert_credential_token(
        &keys::sha256_b64(token.as_bytes()),
        &offer.licence_id,
        now + TOKEN_SECS,
        now,
    )?;
    let licence_type = svc
        .store
        .licence(&offer.licence_id)?
        .map(|l| l.licence_type)
        .unwrap_or_default();
    Ok(super::token::TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: TOKEN_SECS,
        refresh_token: None,
        id_token: None,
        scope: format!("licence:{licence_type}"),
        issued_token_type: None,
    })
}

fn nonce_mac(svc: &Services, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&svc.secrets.vci_nonce[..])
        .expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    keys::sha256_b64(&mac.finalize().into_bytes())
}

/// A fresh `c_nonce`: random, with its expiry, MACed (any replica can check it, none stores it).
pub fn nonce(svc: &Services) -> String {
    let body = format!("{}.{}", keys::random_token(16), svc.now() + NONCE_SECS);
    let mac = nonce_mac(svc, &body);
    format!("{body}.{mac}")
}

fn nonce_is_fresh(svc: &Services, nonce: &str) -> bool {
    let Some((body, mac)) = nonce.rsplit_once('.') else {
        return false;
    };
    let expires = body
        .rsplit_once('.')
        .and_then(|(_, e)| e.parse::<i64>().ok());
    keys::constant_time_eq(nonce_mac(svc, body).as_bytes(), mac.as_bytes())
        && expires.is_some_and(|e| e > svc.now())
}

/// Errors of the credential endpoint (OpenID4VCI 8.3.1).
#[derive(Debug, thiserror::Error)]
pub enum CredentialRequestError {
    /// 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
    #[error("invalid_token: {0}")]
    InvalidToken(&'static str),
    /// 403 `insufficient_scope` (OpenID4VCI 8.3.1.1 defers to RFC 6750 3.1).
    #[error("insufficient_scope: {0}")]
    InsufficientScope(&'static str),
    #[error("{error}: {description}")]
    Request {
        error: &'static str,
        description: String,
    },
    /// An access token from the authorization code flow that does not pass (Bearer or DPoP).
    #[error(transparent)]
    Bearer(super::token_check::BearerError),
    #[error(transparent)]
    Infra(#[from] Infra),
}

impl From<crate::store::error::StoreError> for CredentialRequestError {
    fn from(e: crate::store::error::StoreError) -> Self {
        Self::Infra(e.into())
    }
}

fn refuse(error: &'static str, description: impl Into<String>) -> CredentialRequestError {
    CredentialRequestError::Request {
        error,
        description: description.into(),
    }
}

/// The credential endpoint: one SD-JWT VC per proof of possession. The access token is either
/// the opaque one a pre-authorized code gave (it names one licence), or one of our access tokens
/// from the authorization code flow, whose `licence:{type}` scopes the citizen consented to (the
/// citizen's newest current licence of the asked type is issued).
pub fn credential(
    svc: &Services,
    access_token: &str,
    how: &Presentation<'_>,
    request: &Value,
) -> Result<Value, CredentialRequestError> {
    let now = svc.now();
    let request = request.as_object().ok_or_else(|| {
        refuse(
            "invalid_credential_request",
            "the body must be a JSON object",
        )
    })?;
    if request.contains_key("proof") {
        return Err(refuse(
            "invalid_credential_request",
            "send proofs (an object of arrays), not proof",
        ));
    }
    let configuration = request
        .get("credential_configuration_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            refuse(
                "invalid_credential_request",
                "credential_configuration_id is required",
            )
        })?;
    // Who fetched it, for the audit: the citizen and their app, or the holder of an offer.
    let (row, actor, client_id) = if access_token.contains('.') {
        citizens_licence(svc, access_token, how, configuration, now)?
    } else {
        if how.dpop_scheme {
            return Err(CredentialRequestError::InvalidToken(
                "this access token is not DPoP-bound: present it as a Bearer token",
            ));
        }
        let licence_id = svc
            .store
            .credential_token_licence(&keys::sha256_b64(access_token.as_bytes()), now)?
            .ok_or(CredentialRequestError::InvalidToken(
                "the access token is unknown or expired",
            ))?;
        let row = svc
            .store
            .licence(&licence_id)?
            .ok_or(Infra::Corrupt("a credential token names a missing licence"))?;
        if configuration != row.licence_type {
            return Err(CredentialRequestError::InsufficientScope(
                "this token is for another credential configuration",
            ));
        }
        (row, "anonymous".to_owned(), None)
    };
    let proofs = request
        .get("proofs")
        .and_then(Value::as_object)
        .ok_or_else(|| refuse("invalid_proof", "proofs is required (key binding)"))?;
    if proofs.len() != 1 {
        return Err(refuse("invalid_proof", "proofs has exactly one proof type"));
    }
    let jwts = proofs
        .get("jwt")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty() && a.len() <= MAX_PROOFS)
        .ok_or_else(|| {
            refuse(
                "invalid_proof",
                format!("proofs.jwt: an array of 1 to {MAX_PROOFS} proof JWTs"),
            )
        })?;
    let mut holder_keys = Vec::with_capacity(jwts.len());
    for jwt in jwts {
        let jwt = jwt
            .as_str()
            .ok_or_else(|| refuse("invalid_proof", "a proof is not a string"))?;
        holder_keys.push(check_proof(svc, jwt)?);
    }
    let licence: OpenLicence = licences::open(svc, row)?;
    let mut credentials = Vec::with_capacity(holder_keys.len());
    for jwk in &holder_keys {
        match super::credentials::credential(svc, &licence, jwk)? {
            Ok(c) => credentials.push(json!({ "credential": c })),
            Err(why) => return Err(refuse("credential_request_denied", why.to_string())),
        }
    }
    svc.audit
        .append(AuditEvent::new(
            "licence.issued",
            &actor,
            client_id.as_deref(),
            json!({ "licence": licence.row.id, "count": credentials.len() }),
        ))
        .map_err(Infra::from)?;
    Ok(json!({ "credentials": credentials }))
}

/// OpenID4VCI F.1: a self-signed proof JWT over our `c_nonce`, for us, recent. Its `jwk` is
/// the key the credential binds to.
fn check_proof(svc: &Services, jwt: &str) -> Result<Map<String, Value>, CredentialRequestError> {
    let (verified, key) = keys::verify_self_signed(jwt, &[keys::Alg::ES256], PROOF_TYP)
        .map_err(|e| refuse("invalid_proof", format!("the proof JWT: {e}")))?;
    let claims = &verified.claims;
    if claims.get("aud").and_then(Value::as_str) != Some(svc.config.issuer.as_str()) {
        return Err(refuse(
            "invalid_proof",
            "the proof's aud must be this credential issuer",
        ));
    }
    let now = svc.now();
    match claims.get("iat").and_then(Value::as_i64) {
        Some(iat) if (now - PROOF_WINDOW_SECS..=now + PROOF_WINDOW_SECS).contains(&iat) => {}
        _ => {
            return Err(refuse(
                "invalid_proof",
                "the proof's iat is missing or not recent",
            ))
        }
    }
    match claims.get("nonce").and_then(Value::as_str) {
        Some(n) if nonce_is_fresh(svc, n) => {}
        _ => {
            return Err(refuse(
                "invalid_nonce",
                "get a fresh c_nonce from the nonce endpoint",
            ))
        }
    }
    Ok(key.public_jwk())
}

/// `/.well-known/openid-credential-issuer`.
pub fn metadata(svc: &Services) -> Value {
    let configurations: Map<String, Value> = svc
        .licence_types
        .all()
        .map(|t| {
            let claims: Vec<Value> = t
                .claims
                .iter()
                .map(|c| json!({ "path": [c.name], "mandatory": c.required, "display": [
                    { "name": c.zh, "locale": "zh-CN" }, { "name": c.en, "locale": "en" }] }))
                .collect();
            (
                t.id.clone(),
                json!({
                    "format": "dc+sd-jwt",
                    "vct": t.vct,
                    "scope": format!("licence:{}", t.id),
                    "cryptographic_binding_methods_supported": ["jwk"],
                    "credential_signing_alg_values_supported": ["ES256"],
                    "proof_types_supported": { "jwt": { "proof_signing_alg_values_supported": ["ES256"] } },
                    "credential_metadata": {
                        "display": [{ "name": t.name.zh, "locale": "zh-CN" }, { "name": t.name.en, "locale": "en" }],
                        "claims": claims,
                    },
                }),
            )
        })
        .collect();
    json!({
        "credential_issuer": svc.config.issuer,
        "credential_endpoint": svc.config.endpoint("/credential"),
        "nonce_endpoint": svc.config.endpoint("/credential/nonce"),
        "batch_credential_issuance": { "batch_size": MAX_PROOFS },
        "display": [{ "name": "国家政务服务平台", "locale": "zh-CN" }, { "name": "National Government Services Platform", "locale": "en" }],
        "credential_configurations_supported": configurations,
    })
}

/// The authorization code flow: the licence of the token's citizen for `configuration`, which a
/// consented `licence:{type}` scope of the token must cover.
fn citizens_licence(
    svc: &Services,
    token: &str,
    how: &Presentation<'_>,
    configuration: &str,
    now: i64,
) -> Result<(crate::store::licences::LicenceRow, String, Option<String>), CredentialRequestError> {
    let caller =
        super::token_check::citizen(svc, token, how).map_err(CredentialRequestError::Bearer)?;
    // A credential is the licence itself, presentable anywhere: only the government app (the
    // citizen's wallet), holding a DPoP-bound token, may fetch one. Other apps read licence
    // claims at userinfo (一证通办) and get nothing they could show as the citizen.
    if !caller.bound || !caller.scopes.contains(crate::domain::scope::GOV_APP) {
        return Err(CredentialRequestError::InsufficientScope(
            "only the government app, with a DPoP-bound token, fetches credentials",
        ));
    }
    if svc.licence_types.get(configuration).is_none() {
        return Err(refuse(
            "unknown_credential_configuration",
            "no credential configuration has that id",
        ));
    }
    if !caller.scopes.contains(&format!(
        "{}{configuration}",
        crate::domain::scope::LICENCE_PREFIX
    )) {
        return Err(CredentialRequestError::InsufficientScope(
            "the access token's scope does not cover this credential configuration",
        ));
    }
    let Some(lookup) = caller.user.id_number_lookup.as_deref() else {
        return Err(refuse(
            "credential_request_denied",
            "the citizen holds no current licence of this type",
        ));
    };
    let row = svc
        .store
        .licences_of_holder(lookup)?
        .into_iter()
        .rev()
        .find(|l| {
            l.licence_type == configuration
                && l.state == LicenceState::Active.as_str()
                && l.valid_from <= now
                && now < l.valid_until
        })
        .ok_or_else(|| {
            refuse(
                "credential_request_denied",
                "the citizen holds no current licence of this type",
            )
        })?;
    Ok((row, caller.user.sub, Some(caller.client_id)))
}
