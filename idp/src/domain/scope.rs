//! Scopes we understand and the claims each releases (OIDC Core 5.4).
use std::collections::BTreeSet;

pub const OPENID: &str = "openid";
pub const OFFLINE_ACCESS: &str = "offline_access";
pub const ID_NUMBER: &str = "id_number";
/// The government app's own scope: with it, the app's DPoP-bound tokens may approve QR logins and
/// kiosk codes and manage the citizen's devices. Only an operator grants it
/// (`idp client create --government-app`); dynamic registration refuses it.
pub const GOV_APP: &str = "gov_app";

/// `licence:{type}` (一证通办): the citizen's licences of that type, at userinfo, with consent.
pub const LICENCE_PREFIX: &str = "licence:";

/// A licence scope's type, if `scope` is one (syntax only: unknown types release nothing).
pub fn licence_type(scope: &str) -> Option<&str> {
    scope.strip_prefix(LICENCE_PREFIX).filter(|t| {
        !t.is_empty()
            && t.len() <= 64
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    })
}

/// Scopes that, like the ID number, cross to any app (first-party too) only with the citizen's
/// own yes.
pub fn needs_consent_always(scope: &str) -> bool {
    scope == ID_NUMBER || licence_type(scope).is_some()
}

/// Scopes no app can give itself by dynamic registration.
pub const OPERATOR_ONLY: &[&str] = &[GOV_APP];

/// Every scope the provider knows. Unknown scope values in a request are ignored (OIDC Core 3.1.2.1).
pub const SUPPORTED: &[&str] = &[
    OPENID,
    "profile",
    "email",
    "address",
    "phone",
    OFFLINE_ACCESS,
    ID_NUMBER,
    GOV_APP,
];

/// What an app may ask for when its registration names no scopes: everything but the ID number,
/// which an operator grants explicitly.
pub const DEFAULT_APP_SCOPES: &[&str] = &[
    OPENID,
    "profile",
    "email",
    "address",
    "phone",
    OFFLINE_ACCESS,
];

pub fn default_app_scopes() -> Vec<String> {
    DEFAULT_APP_SCOPES.iter().map(|s| (*s).to_owned()).collect()
}

/// Scopes that describe a person and so never apply to a client acting for itself.
pub const USER_SCOPES: &[&str] = SUPPORTED;

/// Claims released by each scope.
pub fn claims_of(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &["name"],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        ID_NUMBER => &["id_number"],
        _ => &[],
    }
}

/// The scope whose consent covers a claim (for claims asked for by name, OIDC Core 5.5).
pub fn scope_for_claim(claim: &str) -> Option<&'static str> {
    SUPPORTED
        .iter()
        .copied()
        .find(|s| claims_of(s).contains(&claim))
}

pub const ALL_CLAIMS: &[&str] = &[
    "sub",
    "name",
    "email",
    "email_verified",
    "address",
    "phone_number",
    "phone_number_verified",
    "id_number",
];

/// An ordered, de-duplicated set of scope values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    pub fn parse(text: &str) -> Self {
        Self(
            text.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
    pub fn insert(&mut self, scope: &str) {
        self.0.insert(scope.to_owned());
    }
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|s| keep(s));
    }
    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.union(&other.0).cloned().collect())
    }
    pub fn released_claims(&self) -> BTreeSet<&'static str> {
        self.iter().flat_map(claims_of).copied().collect()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedupes_and_orders() {
        let s = ScopeSet::parse("phone openid  openid profile");
        assert_eq!(s.to_string(), "openid phone profile");
        assert!(s.released_claims().contains("phone_number"));
        assert!(!s.released_claims().contains("id_number"));
    }
}
