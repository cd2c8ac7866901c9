//! 好差评: after using an app, a citizen may rate the experience. Asked once, never insisted on:
//! the form sits beside the app on the account page, and the latest rating is the one that counts.
use super::free_text::{self, TextError};

pub const MAX_COMMENT_CHARS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Score {
    Good,
    Average,
    Bad,
}

impl Score {
    pub const ALL: [Score; 3] = [Score::Good, Score::Average, Score::Bad];

    pub fn as_str(self) -> &'static str {
        match self {
            Score::Good => "good",
            Score::Average => "average",
            Score::Bad => "bad",
        }
    }

    pub fn parse(s: &str) -> Option<Score> {
        Score::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub score: Score,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("score must be good, average or bad")]
    Score,
    #[error("comment: {0}")]
    Comment(TextError),
}

pub fn rate(score: &str, comment: Option<&str>) -> Result<Rating, RatingError> {
    Ok(Rating {
        score: Score::parse(score).ok_or(RatingError::Score)?,
        comment: free_text::optional(comment, MAX_COMMENT_CHARS).map_err(RatingError::Comment)?,
    })
}

/// An app's ratings, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub good: u64,
    pub average: u64,
    pub bad: u64,
}

impl Tally {
    pub fn add(&mut self, score: Score) {
        match score {
            Score::Good => self.good += 1,
            Score::Average => self.average += 1,
            Score::Bad => self.bad += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.good + self.average + self.bad
    }

    /// 好评率: the share of good ratings, in whole percent; None before the first rating.
    pub fn good_percent(&self) -> Option<u64> {
        let total = self.total();
        (total > 0).then(|| (self.good * 100 + total / 2) / total)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_rating_has_a_known_score_and_an_optional_bounded_comment() {
        assert_eq!(
            rate("good", Some("  ")),
            Ok(Rating {
                score: Score::Good,
                comment: None
            })
        );
        assert_eq!(
            rate("bad", Some(" 太慢 ")).unwrap().comment.as_deref(),
            Some("太慢")
        );
        assert_eq!(rate("excellent", None), Err(RatingError::Score));
        assert_eq!(
            rate("average", Some(&"长".repeat(MAX_COMMENT_CHARS + 1))),
            Err(RatingError::Comment(TextError::TooLong(MAX_COMMENT_CHARS)))
        );
    }

    #[test]
    fn the_tally_counts_and_rounds_the_good_share() {
        let mut t = Tally::default();
        assert_eq!(t.good_percent(), None);
        for s in [Score::Good, Score::Good, Score::Bad] {
            t.add(s);
        }
        assert_eq!((t.good, t.average, t.bad, t.total()), (2, 0, 1, 3));
        assert_eq!(t.good_percent(), Some(67));
    }
}
