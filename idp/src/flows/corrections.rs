//! 身份认证结果纠错: the citizen files, an operator fixes or rejects with a reason, the citizen
//! sees the outcome on their account page. Each step is audited; the citizen's own words stay in
//! the request (their personal data, exported and erased with the account), not in the log.
use super::Infra;
use crate::domain::audit::AuditEvent;
use crate::domain::correction::{self, Decision, DecisionError, FilingError, Fix, State, Topic};
use crate::services::Services;
use crate::store::corrections::{AccountChange, CorrectionRow};

/// The review queue holds this many at a time (oldest first).
const QUEUE_LIMIT: i64 = 100;

/// A request as its citizen or an operator sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Correction {
    pub id: String,
    pub topic: String,
    pub detail: String,
    pub state: String,
    pub filed_at: i64,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
}

impl From<CorrectionRow> for Correction {
    fn from(r: CorrectionRow) -> Self {
        Correction {
            id: r.id,
            topic: r.topic,
            detail: r.detail,
            state: r.state,
            filed_at: r.filed_at,
            decided_at: r.decided_at,
            reason: r.reason,
        }
    }
}

/// An open request with what an operator needs to judge it: the account as it is now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueEntry {
    pub sub: String,
    pub name: String,
    /// Provinces (upstream codes) the account is linked to.
    pub links: Vec<String>,
    pub request: Correction,
}

/// Files a request for the citizen `sub`; returns its id.
pub fn file(
    svc: &Services,
    sub: &str,
    topic: &str,
    detail: &str,
) -> Result<Result<String, FilingError>, Infra> {
    let open = svc
        .store
        .corrections_of(sub)?
        .iter()
        .filter(|c| c.state == State::Open.as_str())
        .count();
    let filing = match correction::file(topic, detail, open) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let id = format!("cor_{}", keys::random_token(12));
    svc.store.insert_correction(&CorrectionRow {
        id: id.clone(),
        sub: sub.to_owned(),
        topic: filing.topic.as_str().to_owned(),
        detail: filing.detail,
        state: State::Open.as_str().to_owned(),
        filed_at: svc.now(),
        decided_at: None,
        decided_by: None,
        reason: None,
    })?;
    svc.audit.append(AuditEvent::new(
        "correction.filed",
        sub,
        None,
        serde_json::json!({ "correction": id, "topic": filing.topic.as_str() }),
    ))?;
    Ok(Ok(id))
}

/// A citizen's own requests, newest first.
pub fn of_citizen(svc: &Services, sub: &str) -> Result<Vec<Correction>, Infra> {
    Ok(svc
        .store
        .corrections_of(sub)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The open requests, oldest first.
pub fn queue(svc: &Services) -> Result<Vec<QueueEntry>, Infra> {
    let mut out = Vec::new();
    for row in svc
        .store
        .corrections_in_state(State::Open.as_str(), QUEUE_LIMIT)?
    {
        let name = svc
            .store
            .user_by_sub(&row.sub)?
            .map(|u| u.name)
            .unwrap_or_default();
        let links = svc
            .store
            .federated_links_of(&row.sub)?
            .into_iter()
            .map(|(code, _)| code)
            .collect();
        out.push(QueueEntry {
            sub: row.sub.clone(),
            name,
            links,
            request: row.into(),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("no correction request has that id")]
    Unknown,
    #[error("{0}")]
    Invalid(DecisionError),
}

/// An operator's decision: `decision` is `fix` or `reject`, with a reason; a name fix carries
/// the corrected name. The account change and the decision are one transaction.
pub fn decide(
    svc: &Services,
    id: &str,
    decision: &str,
    reason: &str,
    new_name: Option<&str>,
    actor: &str,
) -> Result<Result<State, DecideError>, Infra> {
    let Some(row) = svc.store.correction(id)? else {
        return Ok(Err(DecideError::Unknown));
    };
    let topic =
        Topic::parse(&row.topic).ok_or(Infra::Corrupt("a correction has an unknown topic"))?;
    let state =
        State::parse(&row.state).ok_or(Infra::Corrupt("a correction has an unknown state"))?;
    // Nobody judges their own case: another operator must look at it.
    if actor == format!("operator:{}", row.sub) {
        return Ok(Err(DecideError::Invalid(DecisionError::OwnRequest)));
    }
    let (decision, reason) = match correction::decide(topic, state, decision, reason, new_name) {
        Ok(d) => d,
        Err(e) => return Ok(Err(DecideError::Invalid(e))),
    };
    let (change, fix) = match &decision {
        Decision::Reject => (AccountChange::None, None),
        Decision::Fix(Fix::Rename(name)) => (AccountChange::Rename(name.clone()), Some("rename")),
        Decision::Fix(Fix::Unlink) => (AccountChange::Unlink, Some("unlink")),
        Decision::Fix(Fix::Manual) => (AccountChange::None, Some("manual")),
    };
    let to = decision.state();
    if !svc
        .store
        .decide_correction(id, to.as_str(), actor, &reason, &change, svc.now())?
    {
        return Ok(Err(DecideError::Invalid(DecisionError::Decided)));
    }
    svc.audit.append(AuditEvent::new(
        &format!("correction.{}", to.as_str()),
        actor,
        None,
        serde_json::json!({ "correction": id, "sub": row.sub, "topic": topic.as_str(), "fix": fix }),
    ))?;
    Ok(Ok(to))
}
