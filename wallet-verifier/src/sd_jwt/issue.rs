//! Issuing an SD-JWT VC (what the provider hands to a wallet): every personal claim is a
//! top-level disclosure; the signed JWT carries only their digests, padded with decoys.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::disclosure::{decoy_digest, new_property, SD_ALG};
use super::{SdJwtError, SD_JWT_VC_TYP};

/// Claims that belong to the credential itself, never to the person: they stay in the clear
/// (SD-JWT VC forbids disclosing iss, nbf, exp, cnf, vct, status selectively), and `_sd`,
/// `_sd_alg`, `...` are SD-JWT syntax.
pub(crate) const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "vct",
    "vct#integrity",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "status",
    "_sd",
    "_sd_alg",
    "...",
];

/// `_sd` is padded with decoys to a multiple of this, so its length hides how many
/// claims a licence has (at least one decoy is always added). Four, not more: every digest
/// costs 60 characters of a presentation that must fit one QR code (2,953 bytes at level L).
const DIGEST_BUCKET: usize = 4;

/// Where a credential's status lives: entry `idx` of the status list at `uri`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRef {
    pub uri: String,
    pub idx: u64,
}

/// One credential to issue.
pub struct Issue<'a> {
    /// The issuer's ES256 key; `x5c[0]` must certify it.
    pub signer: &'a keys::SigningKey,
    /// DER certificates, leaf first, the root excluded.
    pub x5c: &'a [Vec<u8>],
    pub iss: &'a str,
    pub vct: &'a str,
    pub iat: i64,
    pub nbf: Option<i64>,
    pub exp: i64,
    /// The wallet's public key, copied to `cnf.jwk` (public members only).
    pub holder_jwk: &'a Map<String, Value>,
    pub status: Option<StatusRef>,
    /// Personal claims; every top-level one becomes selectively disclosable.
    pub claims: &'a Map<String, Value>,
}

impl fmt::Debug for Issue<'_> {
    /// Claim values are personal data: names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issue")
            .field("signer", self.signer)
            .field("iss", &self.iss)
            .field("vct", &self.vct)
            .field("iat", &self.iat)
            .field("nbf", &self.nbf)
            .field("exp", &self.exp)
            .field("status", &self.status)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// `<issuer-signed JWT>~<disclosure>~...~`: an SD-JWT without key binding, for the wallet.
pub fn issue(req: &Issue<'_>) -> Result<String, SdJwtError> {
    if req.signer.alg() != keys::Alg::ES256 {
        return Err(SdJwtError::Invalid("the issuer key must be ES256"));
    }
    if req.x5c.is_empty() {
        return Err(SdJwtError::Invalid(
            "x5c needs at least the issuer certificate",
        ));
    }
    if req.exp <= req.iat || req.nbf.is_some_and(|nbf| nbf >= req.exp) {
        return Err(SdJwtError::Invalid("exp must be after iat and nbf"));
    }
    if let Some(name) = req
        .claims
        .keys()
        .find(|k| REGISTERED_CLAIMS.contains(&k.as_str()))
    {
        return Err(SdJwtError::ReservedClaim(name.clone()));
    }
    let holder = holder_cnf_jwk(req.holder_jwk)?;

    let mut disclosures = Vec::with_capacity(req.claims.len());
    let mut digests = Vec::with_capacity(req.claims.len() + DIGEST_BUCKET);
    for (name, value) in req.claims {
        let (encoded, digest) = new_property(name, value);
        disclosures.push(encoded);
        digests.push(digest);
    }
    let decoys = DIGEST_BUCKET - digests.len() % DIGEST_BUCKET;
    digests.extend((0..decoys).map(|_| decoy_digest()));
    // Sorted, so the order says nothing about which digest is which claim.
    digests.sort_unstable();

    let mut payload = Map::new();
    payload.insert("iss".into(), req.iss.into());
    payload.insert("vct".into(), req.vct.into());
    payload.insert("iat".into(), req.iat.into());
    if let Some(nbf) = req.nbf {
        payload.insert("nbf".into(), nbf.into());
    }
    payload.insert("exp".into(), req.exp.into());
    payload.insert("cnf".into(), serde_json::json!({ "jwk": holder }));
    if let Some(status) = &req.status {
        payload.insert(
            "status".into(),
            serde_json::json!({"status_list": {"idx": status.idx, "uri": status.uri}}),
        );
    }
    payload.insert("_sd_alg".into(), SD_ALG.into());
    payload.insert("_sd".into(), digests.into());

    let jwt = req
        .signer
        .sign_jwt_with_header(SD_JWT_VC_TYP, &x5c_header(req.x5c), &payload)?;
    let mut out = String::with_capacity(
        jwt.len() + disclosures.iter().map(|d| d.len() + 1).sum::<usize>() + 1,
    );
    out.push_str(&jwt);
    out.push('~');
    for d in &disclosures {
        out.push_str(d);
        out.push('~');
    }
    Ok(out)
}

/// `{"x5c": [standard base64 DER, ...]}` (RFC 7515 4.1.6: not base64url).
pub(crate) fn x5c_header(chain: &[Vec<u8>]) -> Map<String, Value> {
    let certs: Vec<Value> = chain.iter().map(|c| STANDARD.encode(c).into()).collect();
    let mut extra = Map::new();
    extra.insert("x5c".into(), certs.into());
    extra
}

/// The holder's key as it goes into `cnf.jwk`: parsed (a JWK with private members is
/// refused, so a wallet's mistake cannot publish its private key) and cut to the members
/// that define the key.
fn holder_cnf_jwk(jwk: &Map<String, Value>) -> Result<Map<String, Value>, SdJwtError> {
    let key = keys::VerifyingKey::from_jwk(jwk)?;
    let mut public = key.public_jwk();
    public.retain(|k, _| matches!(k.as_str(), "kty" | "crv" | "x" | "y" | "n" | "e"));
    Ok(public)
}
