//! A licence record as operators import it, checked against its type, and the life of a
//! licence afterwards (suspend, reinstate, revoke).
use super::credit_code::CreditCode;
use super::id_number::IdNumber;
use super::licence_type::{ClaimKind, HolderKind, LicenceTypes};
use serde_json::{Map, Value};

/// Longest claim value accepted (a business scope can be long; nothing else comes close).
const MAX_CLAIM_CHARS: usize = 2000;
const DAY: i64 = 86_400;
/// Dates on licences are China Standard Time (UTC+8).
const CST_OFFSET: i64 = 8 * 3600;

/// One record of `idp licence import FILE.json`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRecord {
    #[serde(rename = "type")]
    pub licence_type: String,
    pub holder: String,
    pub claims: Map<String, Value>,
    #[serde(default)]
    pub valid_from: Option<Value>,
    #[serde(default)]
    pub valid_until: Option<Value>,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Holder {
    Person(IdNumber),
    Company(CreditCode),
}

impl Holder {
    /// The number as printed (an ID number is personal data: seal it, never log it).
    pub fn expose(&self) -> &str {
        match self {
            Holder::Person(id) => id.expose(),
            Holder::Company(code) => code.as_str(),
        }
    }
}

impl std::fmt::Debug for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Holder::Person(_) => f.write_str("Holder::Person(<redacted>)"),
            Holder::Company(code) => write!(f, "Holder::Company({code:?})"),
        }
    }
}

/// A record that passed every check.
#[derive(Debug, Clone)]
pub struct NewLicence {
    pub licence_type: String,
    pub holder: Holder,
    /// Every value a string, every name one of the type's claims.
    pub claims: Map<String, Value>,
    pub valid_from: i64,
    pub valid_until: i64,
}

/// Checks one record; every problem found, each naming its field.
pub fn check_record(
    types: &LicenceTypes,
    record: &ImportRecord,
    now: i64,
) -> Result<NewLicence, Vec<String>> {
    let mut problems = Vec::new();
    let Some(kind) = types.get(&record.licence_type) else {
        return Err(vec![format!(
            "type: unknown licence type {:?}",
            record.licence_type
        )]);
    };
    let holder = match kind.holder {
        HolderKind::Person => IdNumber::parse(&record.holder)
            .map(Holder::Person)
            .map_err(|e| e.to_string()),
        HolderKind::Company => CreditCode::parse(&record.holder)
            .map(Holder::Company)
            .map_err(|e| e.to_string()),
    };
    let holder = match holder {
        Ok(h) => Some(h),
        Err(why) => {
            problems.push(format!("holder: {why}"));
            None
        }
    };
    let mut claims = Map::new();
    for (name, value) in &record.claims {
        let Some(spec) = kind.claim(name) else {
            problems.push(format!("claims.{name}: not a claim of {}", kind.id));
            continue;
        };
        let Some(text) = value.as_str().map(str::trim).filter(|t| !t.is_empty()) else {
            problems.push(format!("claims.{name}: must be a non-empty string"));
            continue;
        };
        if text.chars().count() > MAX_CLAIM_CHARS || text.chars().any(char::is_control) {
            problems.push(format!(
                "claims.{name}: at most {MAX_CLAIM_CHARS} characters, no control characters"
            ));
            continue;
        }
        if spec.kind == ClaimKind::Date && parse_date(text).is_none() {
            problems.push(format!("claims.{name}: must be a date YYYY-MM-DD"));
            continue;
        }
        claims.insert(name.clone(), Value::String(text.to_owned()));
    }
    // The claim that repeats the holder's number must agree with it (and is filled in from it).
    if let (Some(field), Some(holder)) = (&kind.holder_claim, &holder) {
        match claims.get(field).and_then(Value::as_str) {
            None => {
                claims.insert(field.clone(), Value::String(holder.expose().to_owned()));
            }
            Some(v) if v.eq_ignore_ascii_case(holder.expose()) => {}
            Some(_) => problems.push(format!("claims.{field}: differs from the holder")),
        }
    }
    // A wrong holder was reported already: its claim is not missing on top.
    let holder_field = kind.holder_claim.as_deref().filter(|_| holder.is_none());
    for spec in kind.claims.iter().filter(|c| c.required) {
        if Some(spec.name.as_str()) == holder_field {
            continue;
        }
        if !claims.contains_key(&spec.name) && !record.claims.contains_key(&spec.name) {
            problems.push(format!("claims.{}: required ({})", spec.name, spec.zh));
        }
    }
    let valid_from = match &record.valid_from {
        None => Some(now),
        Some(v) => instant(v, false).or_else(|| {
            problems.push("valid_from: a date YYYY-MM-DD or unix seconds".into());
            None
        }),
    };
    let valid_until = match (&record.valid_until, valid_from) {
        (None, Some(from)) => Some(from + i64::from(kind.validity_days) * DAY),
        (None, None) => None,
        (Some(v), _) => instant(v, true).or_else(|| {
            problems.push("valid_until: a date YYYY-MM-DD or unix seconds".into());
            None
        }),
    };
    if let (Some(from), Some(until)) = (valid_from, valid_until) {
        if until <= from {
            problems.push("valid_until: must be after valid_from".into());
        } else if until <= now {
            problems.push("valid_until: the licence has already expired".into());
        }
    }
    match (holder, valid_from, valid_until) {
        (Some(holder), Some(valid_from), Some(valid_until)) if problems.is_empty() => {
            Ok(NewLicence {
                licence_type: kind.id.clone(),
                holder,
                claims,
                valid_from,
                valid_until,
            })
        }
        _ => Err(problems),
    }
}

/// Unix seconds, or a CST date: its first second, or for an end date the first second after it
/// (a licence valid until 2030-01-31 is valid all that day).
fn instant(value: &Value, end: bool) -> Option<i64> {
    match value {
        // Up to the end of year 9999, like the dates: no arithmetic overflows on them.
        Value::Number(n) => n.as_i64().filter(|s| *s > 0 && *s < 253_402_300_800),
        Value::String(s) => {
            parse_date(s).map(|days| days * DAY - CST_OFFSET + if end { DAY } else { 0 })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn parse_date(text: &str) -> Option<i64> {
    if text.len() != 10 {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some((date - epoch).num_days())
}

/// Where a licence stands; its Token Status List value is what verifiers see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceState {
    Active,
    Suspended,
    Revoked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceAction {
    Suspend,
    Reinstate,
    Revoke,
}

impl LicenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenceState::Active => "active",
            LicenceState::Suspended => "suspended",
            LicenceState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }

    /// Token Status List values: 0 VALID, 1 INVALID, 2 SUSPENDED.
    pub fn status_value(self) -> u8 {
        match self {
            LicenceState::Active => 0,
            LicenceState::Revoked => 1,
            LicenceState::Suspended => 2,
        }
    }

    /// The state after `action`, or why it cannot apply. Revocation is final.
    pub fn apply(self, action: LicenceAction) -> Result<Self, &'static str> {
        match (self, action) {
            (LicenceState::Revoked, _) => Err("the licence is revoked; revocation is final"),
            (LicenceState::Active, LicenceAction::Suspend) => Ok(LicenceState::Suspended),
            (LicenceState::Suspended, LicenceAction::Suspend) => {
                Err("the licence is already suspended")
            }
            (LicenceState::Suspended, LicenceAction::Reinstate) => Ok(LicenceState::Active),
            (LicenceState::Active, LicenceAction::Reinstate) => Err("the licence is not suspended"),
            (_, LicenceAction::Revoke) => Ok(LicenceState::Revoked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const ID: &str = "11010519491231002X";

    fn record(value: Value) -> ImportRecord {
        serde_json::from_value(value).expect("record shape")
    }

    fn resident(claims: Value) -> ImportRecord {
        record(
            json!({"type": "resident_id", "holder": ID, "claims": claims,
            "valid_from": "2020-01-01", "valid_until": "2040-01-01"}),
        )
    }

    fn full_claims() -> Value {
        json!({"name": "张三", "sex": "男", "birth_date": "1949-12-31",
            "address": "北京市西城区", "issuing_authority": "北京市公安局西城分局"})
    }

    #[test]
    fn a_good_record_passes_and_the_holder_claim_is_filled_in() {
        let types = LicenceTypes::built_in();
        let ok = check_record(&types, &resident(full_claims()), NOW).expect("valid");
        assert_eq!(ok.claims["id_number"], json!(ID));
        // 2020-01-01 00:00 CST, and the whole of 2040-01-01 CST.
        assert_eq!(ok.valid_from, 1_577_808_000);
        assert_eq!(ok.valid_until, 2_208_960_000 + DAY);
    }

    #[test]
    fn every_problem_of_a_record_is_reported() {
        let types = LicenceTypes::built_in();
        let mut claims = full_claims();
        claims["id_number"] = json!("110105194912310037");
        claims["colour"] = json!("red");
        claims["birth_date"] = json!("31/12/1949");
        claims.as_object_mut().expect("object").remove("address");
        let problems = check_record(&types, &resident(claims), NOW).expect_err("invalid");
        for expected in [
            "claims.id_number: differs from the holder",
            "claims.colour: not a claim",
            "claims.birth_date: must be a date",
            "claims.address: required",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{expected}: {problems:?}"
            );
        }
    }

    #[test]
    fn holders_are_checked_by_the_kind_of_licence() {
        let types = LicenceTypes::built_in();
        let company = record(json!({"type": "business_licence", "holder": ID, "claims": {}}));
        let problems =
            check_record(&types, &company, NOW).expect_err("an ID number is no credit code");
        assert!(problems[0].starts_with("holder:"), "{problems:?}");
        assert!(
            !problems.iter().any(|p| p.starts_with("claims.credit_code")),
            "the holder's own claim is not reported missing on top: {problems:?}"
        );
        let wrong_id = resident(full_claims());
        let wrong_id = ImportRecord {
            holder: "110105194912310037".into(),
            ..wrong_id
        };
        let problems = check_record(&types, &wrong_id, NOW).expect_err("bad check digit");
        assert!(problems[0].starts_with("holder:"), "{problems:?}");
    }

    #[test]
    fn dates_must_make_sense() {
        let types = LicenceTypes::built_in();
        let mut r = resident(full_claims());
        r.valid_until = Some(json!("2019-01-01"));
        let problems = check_record(&types, &r, NOW).expect_err("ends before it starts");
        assert!(
            problems.iter().any(|p| p.contains("after valid_from")),
            "{problems:?}"
        );
        r.valid_from = Some(json!(1_000));
        r.valid_until = Some(json!(2_000));
        let problems = check_record(&types, &r, NOW).expect_err("long expired");
        assert!(
            problems.iter().any(|p| p.contains("already expired")),
            "{problems:?}"
        );
        r.valid_from = None;
        r.valid_until = None;
        let ok = check_record(&types, &r, NOW).expect("defaults");
        assert_eq!((ok.valid_from, ok.valid_until), (NOW, NOW + 7300 * DAY));
    }

    #[test]
    fn revocation_is_final_and_suspension_reversible() {
        use LicenceAction::*;
        use LicenceState::*;
        assert_eq!(Active.apply(Suspend), Ok(Suspended));
        assert_eq!(Suspended.apply(Reinstate), Ok(Active));
        assert_eq!(Suspended.apply(Revoke), Ok(Revoked));
        assert!(Revoked.apply(Reinstate).is_err());
        assert!(Revoked.apply(Revoke).is_err());
        assert!(Active.apply(Reinstate).is_err());
        assert_eq!(
            [Active, Revoked, Suspended].map(LicenceState::status_value),
            [0, 1, 2]
        );
    }
}
