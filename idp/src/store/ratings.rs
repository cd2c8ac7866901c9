//! Service ratings (好差评): one per citizen and app.
use super::schema::ratings;
use super::{Store, StoreResult};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ratings)]
pub struct RatingRow {
    pub sub: String,
    pub client_id: String,
    pub score: String,
    pub comment: Option<String>,
    pub rated_at: i64,
}

/// An app's ratings: every (score, rated at), and the newest rows with a comment.
pub type AppRatingRows = (Vec<(String, i64)>, Vec<RatingRow>);

impl Store {
    /// Stores a citizen's rating of an app, replacing their earlier one.
    pub fn put_rating(&self, row: &RatingRow) -> StoreResult<()> {
        let mut conn = self.conn()?;
        super::connection::write_transaction(&mut conn, |conn| {
            diesel::delete(ratings::table.find((&row.sub, &row.client_id))).execute(conn)?;
            diesel::insert_into(ratings::table)
                .values(row)
                .execute(conn)?;
            Ok(())
        })?;
        Ok(())
    }

    /// A citizen's ratings, by app.
    pub fn ratings_of(&self, sub: &str) -> StoreResult<Vec<RatingRow>> {
        Ok(ratings::table
            .filter(ratings::sub.eq(sub))
            .select(RatingRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// Every score an app has with when it was given, and the newest comments: (scores,
    /// latest `comments` rows).
    pub fn ratings_of_app(&self, client_id: &str, comments: i64) -> StoreResult<AppRatingRows> {
        let mut conn = self.conn()?;
        let scores = ratings::table
            .filter(ratings::client_id.eq(client_id))
            .select((ratings::score, ratings::rated_at))
            .load(&mut *conn)?;
        let latest = ratings::table
            .filter(ratings::client_id.eq(client_id))
            .filter(ratings::comment.is_not_null())
            .order(ratings::rated_at.desc())
            .limit(comments)
            .select(RatingRow::as_select())
            .load(&mut *conn)?;
        Ok((scores, latest))
    }

    /// Scores of every app, for the console's app list: (client_id, score).
    pub fn all_rating_scores(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(ratings::table
            .select((ratings::client_id, ratings::score))
            .load(&mut *self.conn()?)?)
    }
}
