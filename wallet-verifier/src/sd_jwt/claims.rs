//! Reading registered claims with their types checked.

use serde_json::{Map, Value};

use super::Refusal;

/// Future skew tolerated on `iat` of issuer JWTs, KB-JWTs and status lists (seconds).
pub(crate) const CLOCK_SKEW: i64 = 60;

/// A NumericDate (whole seconds; a fraction is cut off), absent or a finite number.
pub(crate) fn date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            (None, Some(f)) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f.floor() as i64)),
            _ => Err(Refusal::InvalidClaim(name)),
        },
        Some(_) => Err(Refusal::InvalidClaim(name)),
    }
}

pub(crate) fn required_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<i64, Refusal> {
    date(claims, name)?.ok_or(Refusal::MissingClaim(name))
}

/// A string claim, if present.
pub(crate) fn string<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::InvalidClaim(name)),
    }
}

pub(crate) fn required_string<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, Refusal> {
    string(claims, name)?.ok_or(Refusal::MissingClaim(name))
}

/// `exp` required and after `now`, `nbf` (if any) not after `now`, `iat` (if any) not
/// more than [`CLOCK_SKEW`] ahead. Returns `exp`.
pub(crate) fn check_validity(claims: &Map<String, Value>, now: i64) -> Result<i64, Refusal> {
    let exp = required_date(claims, "exp")?;
    if exp <= now {
        return Err(Refusal::Expired { exp, now });
    }
    if let Some(nbf) = date(claims, "nbf")? {
        if nbf > now {
            return Err(Refusal::NotYetValid { nbf, now });
        }
    }
    if let Some(iat) = date(claims, "iat")? {
        if iat > now + CLOCK_SKEW {
            return Err(Refusal::IssuedInFuture { iat, now });
        }
    }
    Ok(exp)
}
