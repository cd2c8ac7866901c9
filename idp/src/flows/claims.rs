//! The claims about a citizen that a grant releases: by scope (OIDC Core 5.4) and by the
//! `claims` request parameter (5.5). The ID number needs its own scope, never just a request.
use super::users;
use crate::domain::scope::{self, ScopeSet};
use crate::services::Services;
use crate::store::users::UserRow;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// Names asked for in one member (`userinfo` or `id_token`) of the claims parameter.
pub fn requested(claims_param: Option<&str>, member: &str) -> BTreeSet<String> {
    let Some(value) = claims_param.and_then(|c| serde_json::from_str::<Value>(c).ok()) else {
        return BTreeSet::new();
    };
    value
        .get(member)
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .filter(|k| scope::ALL_CLAIMS.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The `id_token` member of a claims parameter reduced to the names this provider knows, as a
/// claims parameter again (`None` when none is left): all [`requested`] ever reads of it.
pub fn id_token_request(claims_param: &Value) -> Option<String> {
    let names: Map<String, Value> = claims_param
        .get("id_token")
        .and_then(Value::as_object)?
        .keys()
        .filter(|k| scope::ALL_CLAIMS.contains(&k.as_str()))
        .map(|k| (k.clone(), Value::Null))
        .collect();
    (!names.is_empty()).then(|| serde_json::json!({ "id_token": names }).to_string())
}

pub fn user_claims(
    svc: &Services,
    user: &UserRow,
    scopes: &ScopeSet,
    extra: Option<&BTreeSet<String>>,
) -> Map<String, Value> {
    // Only what a granted (and so consented) scope covers is ever released; `extra` narrows the
    // ID token to the claims asked for there.
    let granted = scopes.released_claims();
    let names: BTreeSet<&str> = match extra {
        Some(wanted) => wanted
            .iter()
            .map(String::as_str)
            .filter(|n| granted.contains(n))
            .collect(),
        None => granted,
    };
    let mut out = Map::new();
    for name in names {
        let value = match name {
            "name" => Some(json!(user.name)),
            "email" => user.email.as_ref().map(|e| json!(e)),
            "email_verified" => user.email.as_ref().map(|_| json!(false)),
            "address" => user.address.as_ref().map(|a| json!({ "formatted": a })),
            "phone_number" => user.phone.as_ref().map(|p| json!(format!("+86{p}"))),
            "phone_number_verified" => user.phone.as_ref().map(|_| json!(false)),
            "id_number" if scopes.contains(scope::ID_NUMBER) => {
                users::reveal_id_number(svc, user).map(|n| json!(n))
            }
            _ => None,
        };
        if let Some(v) = value {
            out.insert(name.to_owned(), v);
        }
    }
    out
}
