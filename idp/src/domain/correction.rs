//! 身份认证结果纠错: a citizen who finds their data or an account linkage wrong files a
//! correction request; an operator fixes it or rejects it, always with a reason.
use super::free_text::{self, TextError};

/// How long a citizen's description may be.
pub const MAX_DETAIL_CHARS: usize = 1000;
/// How long an operator's reason may be.
pub const MAX_REASON_CHARS: usize = 500;
/// Open requests one citizen may have at once: enough for real problems, not a flood.
pub const MAX_OPEN_PER_CITIZEN: usize = 5;

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// The name on the account.
    Name,
    /// The account is linked to another province's account that is not theirs.
    Link,
    /// Anything else (an operator fixes it by hand and says how).
    Other,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::Name, Topic::Link, Topic::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Name => "name",
            Topic::Link => "link",
            Topic::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    Fixed,
    Rejected,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Fixed => "fixed",
            State::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [State::Open, State::Fixed, State::Rejected]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A request as the citizen files it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub topic: Topic,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    #[error("unknown topic")]
    Topic,
    #[error("description: {0}")]
    Detail(TextError),
    #[error("too many open requests")]
    TooMany,
}

/// Checks a filing, given how many open requests the citizen already has.
pub fn file(topic: &str, detail: &str, open_already: usize) -> Result<Filing, FilingError> {
    let topic = Topic::parse(topic).ok_or(FilingError::Topic)?;
    let detail = free_text::required(detail, MAX_DETAIL_CHARS).map_err(FilingError::Detail)?;
    if open_already >= MAX_OPEN_PER_CITIZEN {
        return Err(FilingError::TooMany);
    }
    Ok(Filing { topic, detail })
}

/// What the operator does to the citizen's account when fixing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Set the account's name.
    Rename(String),
    /// Remove the account's links to other provinces' accounts (the citizen links again, to
    /// the right one, at their next roaming login).
    Unlink,
    /// Done outside the provider; the reason says what was done.
    Manual,
}

/// An operator's decision on an open request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Fix(Fix),
    Reject,
}

impl Decision {
    pub fn state(&self) -> State {
        match self {
            Decision::Fix(_) => State::Fixed,
            Decision::Reject => State::Rejected,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("decision must be fix or reject")]
    Decision,
    #[error("reason: {0}")]
    Reason(TextError),
    #[error("a name correction needs the corrected name (1 to 64 characters)")]
    Name,
    #[error("the request was decided already")]
    Decided,
    #[error("an operator does not decide their own request")]
    OwnRequest,
}

/// Checks an operator's decision on a request of `topic` in `state`: a reason always; a
/// corrected name for a name fix.
pub fn decide(
    topic: Topic,
    state: State,
    decision: &str,
    reason: &str,
    new_name: Option<&str>,
) -> Result<(Decision, String), DecisionError> {
    if state != State::Open {
        return Err(DecisionError::Decided);
    }
    let reason = free_text::required(reason, MAX_REASON_CHARS).map_err(DecisionError::Reason)?;
    let decision = match decision {
        "reject" => Decision::Reject,
        "fix" => Decision::Fix(match topic {
            Topic::Name => Fix::Rename(
                free_text::required(new_name.unwrap_or(""), 64)
                    .ok()
                    .filter(|n| !n.contains(['\n', '\r', '\t']))
                    .ok_or(DecisionError::Name)?,
            ),
            Topic::Link => Fix::Unlink,
            Topic::Other => Fix::Manual,
        }),
        _ => return Err(DecisionError::Decision),
    };
    Ok((decision, reason))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_filing_needs_a_known_topic_a_description_and_room() {
        let ok = file("name", " 我的名字少了一个字 ", 0).unwrap();
        assert_eq!(ok.topic, Topic::Name);
        assert_eq!(ok.detail, "我的名字少了一个字");
        assert_eq!(file("salary", "x", 0), Err(FilingError::Topic));
        assert_eq!(
            file("link", " ", 0),
            Err(FilingError::Detail(TextError::Empty))
        );
        let long = "字".repeat(MAX_DETAIL_CHARS + 1);
        assert_eq!(
            file("other", &long, 0),
            Err(FilingError::Detail(TextError::TooLong(MAX_DETAIL_CHARS)))
        );
        assert!(file("other", "x", MAX_OPEN_PER_CITIZEN - 1).is_ok());
        assert_eq!(
            file("other", "x", MAX_OPEN_PER_CITIZEN),
            Err(FilingError::TooMany)
        );
    }

    #[test]
    fn a_decision_needs_a_reason_and_a_name_fix_needs_the_name() {
        let (d, reason) = decide(
            Topic::Name,
            State::Open,
            "fix",
            "核对户籍信息",
            Some("张三丰"),
        )
        .unwrap();
        assert_eq!(d, Decision::Fix(Fix::Rename("张三丰".into())));
        assert_eq!(reason, "核对户籍信息");
        assert_eq!(
            decide(Topic::Name, State::Open, "fix", "ok", None),
            Err(DecisionError::Name)
        );
        assert_eq!(
            decide(Topic::Name, State::Open, "fix", "ok", Some("a\nb")),
            Err(DecisionError::Name)
        );
        assert_eq!(
            decide(Topic::Link, State::Open, "fix", "ok", None)
                .unwrap()
                .0,
            Decision::Fix(Fix::Unlink)
        );
        assert_eq!(
            decide(
                Topic::Other,
                State::Open,
                "reject",
                "查无此事",
                Some("ignored")
            )
            .unwrap()
            .0,
            Decision::Reject
        );
        assert_eq!(
            decide(Topic::Other, State::Open, "reject", "  ", None),
            Err(DecisionError::Reason(TextError::Empty))
        );
        assert_eq!(
            decide(Topic::Other, State::Open, "approve", "ok", None),
            Err(DecisionError::Decision)
        );
        assert_eq!(
            decide(Topic::Other, State::Fixed, "reject", "ok", None),
            Err(DecisionError::Decided)
        );
    }
}
