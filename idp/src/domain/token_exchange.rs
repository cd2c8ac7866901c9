//! OAuth 2.0 Token Exchange (RFC 8693) as the hub offers it for cross-region work (跨省通办):
//! a service that holds a citizen's access token from this provider gets a token for another
//! service's API, on the citizen's behalf (delegation: the `act` claim names the service).
use super::params::Params;
use super::scope::{self, ScopeSet};
use serde_json::{json, Map, Value};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A token exchange request, checked for form (RFC 8693 2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRequest {
    pub subject_token: String,
    /// The client id of the API the new token is for.
    pub audience: String,
    pub scope: Option<String>,
}

/// RFC 8693 2.2.2 names the error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeError {
    pub error: &'static str,
    pub description: &'static str,
}

const fn fail(error: &'static str, description: &'static str) -> ExchangeError {
    ExchangeError { error, description }
}

pub fn parse(params: &Params) -> Result<ExchangeRequest, ExchangeError> {
    let subject_token = params
        .get("subject_token")
        .filter(|t| !t.is_empty() && t.len() <= 16 * 1024)
        .ok_or(fail("invalid_request", "subject_token is required"))?;
    match params.get("subject_token_type") {
        Some(ACCESS_TOKEN_TYPE) => {}
        Some(_) => {
            return Err(fail(
                "invalid_request",
                "subject_token_type must be urn:ietf:params:oauth:token-type:access_token",
            ))
        }
        None => return Err(fail("invalid_request", "subject_token_type is required")),
    }
    if params.get("actor_token").is_some() || params.get("actor_token_type").is_some() {
        return Err(fail(
            "invalid_request",
            "actor tokens are not accepted: the authenticated client is the actor",
        ));
    }
    if params
        .get("requested_token_type")
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(fail(
            "invalid_request",
            "only access tokens are issued (requested_token_type)",
        ));
    }
    if params.get("resource").is_some() {
        return Err(fail(
            "invalid_target",
            "name the API by its client id in audience; resource is not supported",
        ));
    }
    let audience = params
        .get("audience")
        .filter(|a| !a.is_empty() && a.len() <= 256)
        .ok_or(fail(
            "invalid_target",
            "audience (the API's client id) is required",
        ))?;
    Ok(ExchangeRequest {
        subject_token: subject_token.to_owned(),
        audience: audience.to_owned(),
        scope: params.get("scope").map(str::to_owned),
    })
}

/// Scopes that mean something only between the citizen and the app that logged them in.
const NOT_DELEGATED: &[&str] = &[scope::OPENID, scope::OFFLINE_ACCESS, scope::GOV_APP];

/// The new token's scope: what was asked for (default: all the subject token has, less what is
/// never delegated), never more than the subject token has.
pub fn exchanged_scope(
    subject: &ScopeSet,
    requested: Option<&str>,
) -> Result<ScopeSet, ExchangeError> {
    let mut delegable = subject.clone();
    delegable.retain(|s| !NOT_DELEGATED.contains(&s));
    let scopes = match requested {
        None => delegable,
        Some(text) => {
            let asked = ScopeSet::parse(text);
            if !asked.is_subset_of(&delegable) {
                return Err(fail(
                    "invalid_scope",
                    "the scope is more than the subject token allows to delegate",
                ));
            }
            asked
        }
    };
    if scopes.is_empty() {
        return Err(fail(
            "invalid_scope",
            "nothing in the subject token's scope can be delegated",
        ));
    }
    Ok(scopes)
}

/// Turns access token claims into those of a delegated token: for `audience`, acting `actor`
/// (RFC 8693 4.1; an `act` the subject token carried nests inside, as the earlier actor).
pub fn delegate(
    claims: &mut Map<String, Value>,
    audience: &str,
    actor: &str,
    prior_act: Option<&Value>,
) {
    claims.insert("aud".into(), json!(audience));
    let mut act = Map::new();
    act.insert("sub".into(), json!(actor));
    if let Some(prior) = prior_act {
        act.insert("act".into(), prior.clone());
    }
    claims.insert("act".into(), Value::Object(act));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    const OK: [(&str, &str); 3] = [
        ("subject_token", "t"),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
        ("audience", "api-44"),
    ];

    #[test]
    fn a_well_formed_request_names_token_and_audience() {
        let r = parse(&params(&OK)).expect("valid");
        assert_eq!(
            (r.subject_token.as_str(), r.audience.as_str()),
            ("t", "api-44")
        );
    }

    #[test]
    fn malformed_requests_get_the_rfc_8693_error() {
        let with = |extra: (&str, &str)| {
            let mut p = OK.to_vec();
            p.retain(|(k, _)| *k != extra.0);
            if !extra.1.is_empty() {
                p.push(extra);
            }
            parse(&params(&p)).map(|_| ()).map_err(|e| e.error)
        };
        assert_eq!(with(("subject_token", "")), Err("invalid_request"));
        assert_eq!(with(("subject_token_type", "")), Err("invalid_request"));
        assert_eq!(
            with((
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token"
            )),
            Err("invalid_request")
        );
        assert_eq!(with(("actor_token", "a")), Err("invalid_request"));
        assert_eq!(
            with((
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token"
            )),
            Err("invalid_request")
        );
        assert_eq!(
            with(("resource", "https://api.example")),
            Err("invalid_target")
        );
        assert_eq!(with(("audience", "")), Err("invalid_target"));
    }

    #[test]
    fn a_delegated_scope_never_grows() {
        let subject = ScopeSet::parse("openid profile api.read offline_access gov_app");
        let all = exchanged_scope(&subject, None).expect("some");
        assert_eq!(all.to_string(), "api.read profile");
        assert!(exchanged_scope(&subject, Some("api.read")).is_ok());
        for wider in ["api.write", "openid", "api.read offline_access", "gov_app"] {
            assert_eq!(
                exchanged_scope(&subject, Some(wider)).map_err(|e| e.error),
                Err("invalid_scope"),
                "{wider}"
            );
        }
        let nothing = ScopeSet::parse("openid offline_access");
        assert!(exchanged_scope(&nothing, None).is_err());
    }

    #[test]
    fn the_actor_chain_nests() {
        let mut c = Map::new();
        c.insert("aud".into(), json!("issuer"));
        delegate(
            &mut c,
            "api-44",
            "svc-51",
            Some(&json!({ "sub": "gateway" })),
        );
        assert_eq!(c["aud"], "api-44");
        assert_eq!(
            c["act"],
            json!({ "sub": "svc-51", "act": { "sub": "gateway" } })
        );
    }
}
