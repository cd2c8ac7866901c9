//! 好差评: a citizen rates an app they have signed in to; operators see each app's tally and
//! the newest comments.
use super::Infra;
use crate::domain::rating::{self, RatingError, Score, Tally};
use crate::services::Services;
use crate::store::ratings::RatingRow;
use std::collections::HashMap;

/// How many comments the console shows per app.
const COMMENTS_SHOWN: i64 = 10;
/// Days the console's ratings chart covers.
pub const DAYS_CHARTED: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Only an app the citizen has signed in to (and still authorizes) can be rated by them.
    #[error("you have not used that app")]
    NotUsed,
    #[error("{0}")]
    Invalid(RatingError),
}

pub fn rate(
    svc: &Services,
    sub: &str,
    client_id: &str,
    score: &str,
    comment: Option<&str>,
) -> Result<Result<(), RateError>, Infra> {
    let rating = match rating::rate(score, comment) {
        Ok(r) => r,
        Err(e) => return Ok(Err(RateError::Invalid(e))),
    };
    if !svc
        .store
        .consents_of(sub)?
        .iter()
        .any(|c| c.client_id == client_id)
    {
        return Ok(Err(RateError::NotUsed));
    }
    svc.store.put_rating(&RatingRow {
        sub: sub.to_owned(),
        client_id: client_id.to_owned(),
        score: rating.score.as_str().to_owned(),
        comment: rating.comment,
        rated_at: svc.now(),
    })?;
    Ok(Ok(()))
}

/// A citizen's own ratings: client_id → (score, comment).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MyRating {
    pub client_id: String,
    pub score: String,
    pub comment: Option<String>,
    pub rated_at: i64,
}

pub fn of_citizen(svc: &Services, sub: &str) -> Result<Vec<MyRating>, Infra> {
    Ok(svc
        .store
        .ratings_of(sub)?
        .into_iter()
        .map(|r| MyRating {
            client_id: r.client_id,
            score: r.score,
            comment: r.comment,
            rated_at: r.rated_at,
        })
        .collect())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Comment {
    pub score: String,
    pub comment: String,
    pub at: i64,
}

/// An app's ratings for its operators: counts and the newest comments (no names: a rating is
/// the citizen's opinion, not a way to find them).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AppRatings {
    pub tally: Tally,
    pub comments: Vec<Comment>,
    /// Start of the first charted day (Unix seconds, a midnight in China Standard Time).
    pub from: i64,
    /// Ratings given (or last changed) on each of the last `DAYS_CHARTED` days, and the bad ones.
    pub per_day: Vec<u32>,
    pub bad_per_day: Vec<u32>,
}

fn tally<'a>(scores: impl Iterator<Item = &'a str>) -> Tally {
    let mut t = Tally::default();
    scores.filter_map(Score::parse).for_each(|s| t.add(s));
    t
}

pub fn of_app(svc: &Services, client_id: &str) -> Result<AppRatings, Infra> {
    let (scores, latest) = svc.store.ratings_of_app(client_id, COMMENTS_SHOWN)?;
    // Days as the operators read them: China Standard Time, midnight to midnight.
    let (day, cst) = (86_400, 8 * 3600);
    let from = ((svc.now() + cst) / day - (DAYS_CHARTED as i64 - 1)) * day - cst;
    let (mut per_day, mut bad_per_day) = (vec![0u32; DAYS_CHARTED], vec![0u32; DAYS_CHARTED]);
    for (score, at) in &scores {
        let Ok(i) = usize::try_from((at - from).div_euclid(day)) else {
            continue;
        };
        if i < DAYS_CHARTED {
            per_day[i] += 1;
            if score == Score::Bad.as_str() {
                bad_per_day[i] += 1;
            }
        }
    }
    Ok(AppRatings {
        from,
        per_day,
        bad_per_day,
        tally: tally(scores.iter().map(|(s, _)| s.as_str())),
        comments: latest
            .into_iter()
            .filter_map(|r| {
                Some(Comment {
                    comment: r.comment?,
                    score: r.score,
                    at: r.rated_at,
                })
            })
            .collect(),
    })
}

/// Every app's tally, for the console's app list.
pub fn tallies(svc: &Services) -> Result<HashMap<String, Tally>, Infra> {
    let mut out: HashMap<String, Tally> = HashMap::new();
    for (client_id, score) in svc.store.all_rating_scores()? {
        if let Some(s) = Score::parse(&score) {
            out.entry(client_id).or_default().add(s);
        }
    }
    Ok(out)
}
