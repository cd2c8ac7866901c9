//! Status List Tokens (`statuslist+jwt`): signed by an issuer certificate under the national
//! root, like the credentials they describe, so a verifier needs no other trust.

use serde_json::{Map, Value};

use super::claims::{date, required_date, required_string, CLOCK_SKEW};
use super::issue::x5c_header;
use super::jws::Jws;
use super::refusal::echo;
use super::status_list::StatusListError;
use super::{Refusal, SdJwtError, StatusList, Verifier, STATUS_LIST_TYP};

/// Largest status list token looked at: a full list (16 MiB) that did not compress,
/// base64url, plus headers.
pub const MAX_STATUS_LIST_TOKEN_LEN: usize = 24 * 1024 * 1024;

/// A verified status list token.
#[derive(Debug, Clone)]
pub struct StatusListToken {
    /// Its `sub`: the URI credentials refer to.
    pub uri: String,
    pub list: StatusList,
    pub iat: i64,
    pub exp: Option<i64>,
    /// Seconds the verifier may cache it before fetching again.
    pub ttl: Option<i64>,
}

/// Signs the list published at `uri`: header `typ` statuslist+jwt with `x5c`; claims `sub`,
/// `iat`, `exp` and `ttl` if given, `status_list {bits, lst}`.
pub fn sign_status_list(
    signer: &keys::SigningKey,
    x5c: &[Vec<u8>],
    uri: &str,
    list: &StatusList,
    iat: i64,
    exp: Option<i64>,
    ttl: Option<i64>,
) -> Result<String, SdJwtError> {
    if signer.alg() != keys::Alg::ES256 {
        return Err(SdJwtError::Invalid("the status list key must be ES256"));
    }
    if x5c.is_empty() {
        return Err(SdJwtError::Invalid(
            "x5c needs at least the signing certificate",
        ));
    }
    if exp.is_some_and(|exp| exp <= iat) || ttl.is_some_and(|ttl| ttl <= 0) {
        return Err(SdJwtError::Invalid(
            "exp must be after iat, and ttl positive",
        ));
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), uri.into());
    claims.insert("iat".into(), iat.into());
    if let Some(exp) = exp {
        claims.insert("exp".into(), exp.into());
    }
    if let Some(ttl) = ttl {
        claims.insert("ttl".into(), ttl.into());
    }
    claims.insert(
        "status_list".into(),
        serde_json::json!({"bits": list.bits(), "lst": list.to_lst()?}),
    );
    Ok(signer.sign_jwt_with_header(STATUS_LIST_TYP, &x5c_header(x5c), &claims)?)
}

impl Verifier {
    /// Verifies a status list token fetched from `uri`: ES256 over an x5c chain to a trusted
    /// root, `sub` == `uri`, `iat` not in the future, `exp` (if any) after `now`.
    pub fn verify_status_list_token(
        &self,
        token: &str,
        uri: &str,
        now: i64,
    ) -> Result<StatusListToken, Refusal> {
        if token.len() > MAX_STATUS_LIST_TOKEN_LEN {
            return Err(Refusal::TooLarge {
                max: MAX_STATUS_LIST_TOKEN_LEN,
            });
        }
        let jws = Jws::parse(token)?;
        self.issuer_signed(&jws, STATUS_LIST_TYP, now)?;
        let claims = jws.payload()?;

        let sub = required_string(&claims, "sub")?;
        if sub != uri {
            return Err(Refusal::WrongSubject {
                expected: echo(uri),
                found: echo(sub),
            });
        }
        let iat = required_date(&claims, "iat")?;
        if iat > now + CLOCK_SKEW {
            return Err(Refusal::IssuedInFuture { iat, now });
        }
        let exp = date(&claims, "exp")?;
        if let Some(exp) = exp.filter(|exp| *exp <= now) {
            return Err(Refusal::StatusListExpired { exp, now });
        }
        let ttl = date(&claims, "ttl")?;
        if ttl.is_some_and(|ttl| ttl <= 0) {
            return Err(Refusal::InvalidClaim("ttl"));
        }
        Ok(StatusListToken {
            uri: uri.to_string(),
            list: decode_list(&claims)?,
            iat,
            exp,
            ttl,
        })
    }
}

/// The `status_list {bits, lst}` claim.
fn decode_list(claims: &Map<String, Value>) -> Result<StatusList, Refusal> {
    let Some(Value::Object(sl)) = claims.get("status_list") else {
        return Err(Refusal::MissingClaim("status_list"));
    };
    let bits = sl
        .get("bits")
        .and_then(Value::as_u64)
        .and_then(|b| u8::try_from(b).ok())
        .ok_or(Refusal::BadStatusList("bits is not 1, 2, 4 or 8"))?;
    let lst = sl
        .get("lst")
        .and_then(Value::as_str)
        .ok_or(Refusal::BadStatusList("lst is not a string"))?;
    StatusList::from_lst(bits, lst).map_err(|e| {
        Refusal::BadStatusList(match e {
            StatusListError::BadBits(_) => "bits is not 1, 2, 4 or 8",
            StatusListError::TooLarge => "the list inflates beyond 16 MiB",
            StatusListError::Empty => "the list is empty",
            _ => "lst is not base64url of a zlib stream",
        })
    })
}
