//! Kinds of electronic licence (电子证照): what each holds, who holds it, how long it lasts.
//! Six ship built in (`licence_types.json`); operators add or replace types with a file of the
//! same shape (`IDP_LICENCE_TYPES_FILE`).
use serde::Deserialize;
use std::collections::BTreeMap;

const BUILT_IN: &str = include_str!("licence_types.json");

/// Who a licence belongs to, and so what its `holder` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HolderKind {
    /// A citizen, by ID number (GB 11643).
    Person,
    /// An organisation, by unified social credit code (GB 32100).
    Company,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimKind {
    #[default]
    Text,
    /// `YYYY-MM-DD`.
    Date,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    pub name: String,
    pub zh: String,
    pub en: String,
    #[serde(default)]
    pub kind: ClaimKind,
    pub required: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayName {
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceType {
    /// Short stable name: CLI argument, scope suffix, database value.
    pub id: String,
    /// The SD-JWT VC type of credentials of this kind.
    pub vct: String,
    pub holder: HolderKind,
    /// The claim that repeats the holder's number (filled in from it when absent).
    #[serde(default)]
    pub holder_claim: Option<String>,
    pub name: DisplayName,
    /// Default validity when a record gives no `valid_until`.
    pub validity_days: u32,
    pub claims: Vec<ClaimSpec>,
}

impl LicenceType {
    pub fn claim(&self, name: &str) -> Option<&ClaimSpec> {
        self.claims.iter().find(|c| c.name == name)
    }
}

/// Every licence type this node knows, by id.
#[derive(Debug, Clone)]
pub struct LicenceTypes(BTreeMap<String, LicenceType>);

#[derive(Debug, thiserror::Error)]
pub enum LicenceTypesError {
    #[error("licence types: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("licence type {0}: {1}")]
    Invalid(String, &'static str),
}

impl LicenceTypes {
    pub fn built_in() -> Self {
        // The embedded file is tested below; a failure here is a build defect.
        Self::parse(BUILT_IN, None).unwrap_or_else(|e| panic!("built-in licence types: {e}"))
    }

    /// The built-in types with the operator's (JSON array, same shape) added or replacing.
    pub fn with_operator_file(text: &str) -> Result<Self, LicenceTypesError> {
        Self::parse(text, Some(Self::built_in()))
    }

    fn parse(text: &str, base: Option<Self>) -> Result<Self, LicenceTypesError> {
        let mut types = base.map(|b| b.0).unwrap_or_default();
        for t in serde_json::from_str::<Vec<LicenceType>>(text)? {
            check(&t)?;
            types.insert(t.id.clone(), t);
        }
        Ok(Self(types))
    }

    pub fn get(&self, id: &str) -> Option<&LicenceType> {
        self.0.get(id)
    }

    pub fn by_vct(&self, vct: &str) -> Option<&LicenceType> {
        self.0.values().find(|t| t.vct == vct)
    }

    pub fn all(&self) -> impl Iterator<Item = &LicenceType> {
        self.0.values()
    }
}

fn check(t: &LicenceType) -> Result<(), LicenceTypesError> {
    let bad = |why| Err(LicenceTypesError::Invalid(t.id.clone(), why));
    let simple = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !simple(&t.id) {
        return bad("id must be 1-64 of a-z, 0-9, _");
    }
    if t.vct.is_empty() || t.vct.len() > 255 || t.vct.contains(char::is_whitespace) {
        return bad("vct must be a URI");
    }
    if t.claims.is_empty() {
        return bad("a licence type has claims");
    }
    let mut names = std::collections::BTreeSet::new();
    for c in &t.claims {
        // Registered JWT claim names would collide with the credential's own.
        if !simple(&c.name) || RESERVED.contains(&c.name.as_str()) {
            return bad("a claim name must be 1-64 of a-z, 0-9, _ and not a JWT claim name");
        }
        if !names.insert(c.name.as_str()) {
            return bad("a claim name appears twice");
        }
    }
    if let Some(h) = &t.holder_claim {
        if t.claim(h).is_none() {
            return bad("holder_claim must be one of the claims");
        }
    }
    if t.validity_days == 0 {
        return bad("validity_days must be at least 1");
    }
    Ok(())
}

/// Claim names the SD-JWT VC itself uses.
const RESERVED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "vct",
    "cnf",
    "status",
    "_sd",
    "_sd_alg",
    "valid_from",
    "valid_until",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_six_shipped_types_load() {
        let types = LicenceTypes::built_in();
        let ids: Vec<&str> = types.all().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "business_licence",
                "driving_licence",
                "medical_insurance",
                "resident_id",
                "social_security_card",
                "vehicle_licence"
            ]
        );
        let business = types.get("business_licence").expect("shipped");
        assert_eq!(business.holder, HolderKind::Company);
        assert_eq!(business.name.zh, "营业执照");
        assert!(types.by_vct("urn:cn:gov:licence:resident-id:1").is_some());
    }

    #[test]
    fn an_operator_file_adds_and_replaces() {
        let file = r#"[{"id":"fishing_permit","vct":"urn:x:fishing","holder":"person",
            "name":{"zh":"捕捞许可证","en":"Fishing permit"},"validity_days":365,
            "claims":[{"name":"waters","zh":"水域","en":"Waters","required":true}]}]"#;
        let types = LicenceTypes::with_operator_file(file).expect("valid");
        assert!(types.get("fishing_permit").is_some());
        assert!(types.get("resident_id").is_some());
    }

    #[test]
    fn a_broken_operator_file_is_refused_with_the_reason() {
        let cases = [
            (
                r#"[{"id":"X","vct":"u","holder":"person","name":{"zh":"a","en":"a"},"validity_days":1,"claims":[{"name":"a","zh":"a","en":"a","required":true}]}]"#,
                "id must be",
            ),
            (
                r#"[{"id":"x","vct":"u","holder":"person","name":{"zh":"a","en":"a"},"validity_days":1,"claims":[{"name":"exp","zh":"a","en":"a","required":true}]}]"#,
                "not a JWT claim",
            ),
            (
                r#"[{"id":"x","vct":"u","holder":"person","holder_claim":"b","name":{"zh":"a","en":"a"},"validity_days":1,"claims":[{"name":"a","zh":"a","en":"a","required":true}]}]"#,
                "holder_claim",
            ),
            (
                r#"[{"id":"x","vct":"u","holder":"robot","name":{"zh":"a","en":"a"},"validity_days":1,"claims":[]}]"#,
                "unknown variant",
            ),
        ];
        for (file, why) in cases {
            let e = LicenceTypes::with_operator_file(file)
                .expect_err(why)
                .to_string();
            assert!(e.contains(why), "{e}");
        }
    }
}
