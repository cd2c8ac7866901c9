//! The verifier: one presentation in, the disclosed claims or a precise [`Refusal`] out.
//! Order follows RFC 9901 7: issuer signature (via the x5c chain), disclosures, validity,
//! key binding, then status.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::chain_cache::ChainCache;
use super::claims::{check_validity, required_string};
use super::compact;
use super::disclosure::{self, SD_ALG};
use super::issue::REGISTERED_CLAIMS;
use super::jws::Jws;
use super::key_binding::{self, HolderKey};
use super::reconstruct::reconstruct;
use super::refusal::echo;
use super::x5c::{self, ValidatedChain};
use super::{Refusal, SdJwtError, StatusListToken, StatusRef, SD_JWT_VC_TYP};

/// Largest presentation looked at (bytes); refused before any parsing.
pub const MAX_PRESENTATION_LEN: usize = 64 * 1024;

/// Header members an issuer JWT may not carry: we never fetch keys (jku, x5u), never trust a
/// bare key (jwk), and understand no critical extension (crit). The key comes from x5c only.
const FORBIDDEN_ISSUER_HEADERS: &[&str] = &["jku", "x5u", "jwk", "crit"];

/// Verifies licence presentations and status list tokens against the national root(s).
/// Share one per process (it is `Sync`): its cache of validated chains is what makes the
/// hot path cheap.
pub struct Verifier {
    roots: Vec<Vec<u8>>,
    chains: ChainCache,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("trusted_roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

/// What the verifier expects of this presentation.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The nonce this verifier issued for this request (see [`super::NonceBook`]).
    pub nonce: &'a str,
    /// This verifier's identifier, as the wallet was told it.
    pub audience: &'a str,
    /// Unix seconds.
    pub now: i64,
    /// How old the KB-JWT may be (its `iat`), in seconds.
    pub max_age_secs: i64,
    pub status: StatusCheck<'a>,
}

/// Whether to check revocation, with a status list the caller fetched and verified.
#[derive(Debug, Clone, Copy)]
pub enum StatusCheck<'a> {
    /// Offline, or the caller checks elsewhere.
    Skip,
    /// The verified list for the credential's `status.status_list.uri`.
    List(&'a StatusListToken),
}

/// A presentation that passed every check.
pub struct Verified {
    pub iss: String,
    pub vct: String,
    /// The personal claims the holder disclosed (and any the issuer left in the clear);
    /// registered claims (iss, vct, iat, nbf, exp, cnf, status) are not repeated here.
    pub claims: Map<String, Value>,
    pub exp: i64,
    pub status: Option<StatusRef>,
    /// RFC 7638 thumbprint of the holder key (`cnf.jwk`) that signed the KB-JWT.
    pub holder_thumbprint: String,
}

impl fmt::Debug for Verified {
    /// Claim values are personal data: names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("iss", &self.iss)
            .field("vct", &self.vct)
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .field("exp", &self.exp)
            .field("status", &self.status)
            .field("holder_thumbprint", &self.holder_thumbprint)
            .finish()
    }
}

impl Verifier {
    /// A verifier trusting these self-signed root certificates (DER).
    pub fn new(trusted_roots: Vec<Vec<u8>>) -> Result<Verifier, SdJwtError> {
        if trusted_roots.is_empty() {
            return Err(SdJwtError::BadTrustedRoot("no trusted root given".into()));
        }
        for (i, der) in trusted_roots.iter().enumerate() {
            x5c::check_trusted_root(der)
                .map_err(|why| SdJwtError::BadTrustedRoot(format!("root {i}: {why}")))?;
        }
        Ok(Verifier {
            roots: trusted_roots,
            chains: ChainCache::default(),
        })
    }

    /// Verifies `<issuer JWT>~<disclosure>~...~<KB-JWT>`.
    pub fn verify(&self, presentation: &str, expect: &Expect<'_>) -> Result<Verified, Refusal> {
        if presentation.len() > MAX_PRESENTATION_LEN {
            return Err(Refusal::TooLarge {
                max: MAX_PRESENTATION_LEN,
            });
        }
        let parts = compact::split(presentation).ok_or(Refusal::Malformed(
            "expected <JWT>~<disclosure>~...~<KB-JWT>",
        ))?;
        // A last part without '.' is a disclosure: the trailing KB-JWT is missing.
        if parts.key_binding.is_empty() || !parts.key_binding.contains('.') {
            return Err(Refusal::MissingKeyBinding);
        }
        let now = expect.now;
        let jws = Jws::parse(parts.jwt)?;
        let chain = self.issuer_signed(&jws, SD_JWT_VC_TYP, now)?;
        let payload = jws.payload()?;

        match payload.get("_sd_alg") {
            None => {}
            Some(Value::String(alg)) if alg == SD_ALG => {}
            Some(Value::String(alg)) => return Err(Refusal::UnsupportedSdAlg(echo(alg))),
            Some(_) => return Err(Refusal::UnsupportedSdAlg("(not a string)".into())),
        }
        let iss = required_string(&payload, "iss")?.to_string();
        bind_issuer(&chain, &iss)?;
        let vct = required_string(&payload, "vct")?.to_string();
        let exp = check_validity(&payload, now)?;
        let holder = HolderKey::from_cnf(&payload)?;
        let status = status_ref(&payload)?;

        let disclosures = parts
            .disclosures
            .iter()
            .map(|d| disclosure::decode(d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut claims = reconstruct(payload, disclosures)?;

        key_binding::check(parts.key_binding, parts.hashed, &holder, expect)?;
        check_status(status.as_ref(), expect.status, now)?;

        claims.retain(|name, _| !REGISTERED_CLAIMS.contains(&name.as_str()));
        Ok(Verified {
            iss,
            vct,
            claims,
            exp,
            status,
            holder_thumbprint: holder.thumbprint().to_string(),
        })
    }

    /// Checks an issuer-signed JWS: `alg` ES256, `typ`, no forbidden header, the x5c chain
    /// up to a trusted root (cached), and the signature under the leaf's key.
    pub(crate) fn issuer_signed(
        &self,
        jws: &Jws<'_>,
        typ: &'static str,
        now: i64,
    ) -> Result<Arc<ValidatedChain>, Refusal> {
        let alg = jws.alg()?;
        if alg != "ES256" {
            return Err(Refusal::UnsupportedAlg(echo(alg)));
        }
        jws.require_typ(typ)?;
        jws.forbid(FORBIDDEN_ISSUER_HEADERS)?;
        let entries = x5c::header_chain(&jws.header)?;
        let id = x5c::chain_id(&entries);
        let chain = match self.chains.get(&id, now) {
            Some(chain) => chain,
            None => {
                let ders = x5c::decode_chain(&entries)?;
                let chain = Arc::new(x5c::validate(&ders, &self.roots, now)?);
                self.chains.insert(id, Arc::clone(&chain), now);
                chain
            }
        };
        if !chain
            .leaf_key
            .verify(jws.signing_input.as_bytes(), &jws.signature)
        {
            return Err(Refusal::BadIssuerSignature);
        }
        Ok(chain)
    }
}

/// SD-JWT VC (x5c): `iss` must be one of the names the leaf certifies: a URI SAN exactly, or a
/// `dns:` URI matching a dNSName SAN. A leaf without SANs names no issuer, so it vouches for
/// none: otherwise one issuer under the root could speak as another.
fn bind_issuer(chain: &ValidatedChain, iss: &str) -> Result<(), Refusal> {
    let by_uri = chain.san_uris.iter().any(|u| u == iss);
    let by_dns = iss
        .strip_prefix("dns:")
        .is_some_and(|host| chain.san_dns.contains(&host.to_ascii_lowercase()));
    if by_uri || by_dns {
        Ok(())
    } else {
        Err(Refusal::IssuerNotInCertificate(echo(iss)))
    }
}

/// `status.status_list.{idx, uri}`, if the credential has a status.
fn status_ref(payload: &Map<String, Value>) -> Result<Option<StatusRef>, Refusal> {
    let Some(status) = payload.get("status") else {
        return Ok(None);
    };
    let list = status.get("status_list");
    let idx = list.and_then(|l| l.get("idx")).and_then(Value::as_u64);
    let uri = list.and_then(|l| l.get("uri")).and_then(Value::as_str);
    match (idx, uri) {
        (Some(idx), Some(uri)) => Ok(Some(StatusRef {
            uri: uri.to_string(),
            idx,
        })),
        _ => Err(Refusal::InvalidClaim("status")),
    }
}

fn check_status(
    status: Option<&StatusRef>,
    check: StatusCheck<'_>,
    now: i64,
) -> Result<(), Refusal> {
    let (Some(status), StatusCheck::List(token)) = (status, check) else {
        return Ok(());
    };
    if token.uri != status.uri {
        return Err(Refusal::StatusListMismatch {
            expected: echo(&status.uri),
            given: echo(&token.uri),
        });
    }
    if let Some(exp) = token.exp.filter(|exp| *exp <= now) {
        return Err(Refusal::StatusListExpired { exp, now });
    }
    match token.list.get(status.idx) {
        None => Err(Refusal::StatusIndexOutOfRange(status.idx)),
        Some(super::status_list::VALID) => Ok(()),
        Some(super::status_list::INVALID) => Err(Refusal::Revoked),
        Some(super::status_list::SUSPENDED) => Err(Refusal::Suspended),
        Some(other) => Err(Refusal::UnknownStatus(other)),
    }
}
