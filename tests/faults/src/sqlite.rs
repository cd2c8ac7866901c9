//! Looking into a SQLite file the provider wrote, the way an operator would after a crash.
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use std::path::Path;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn open(file: &Path) -> SqliteConnection {
    SqliteConnection::establish(&file.display().to_string())
        .unwrap_or_else(|e| panic!("open {}: {e}", file.display()))
}

/// SQLite's own verdict on the whole file: "ok", or the list of what is wrong.
pub fn integrity_check(file: &Path) -> String {
    let lines: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
            .load(&mut open(file))
            .expect("PRAGMA integrity_check");
    lines
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A number answered by `sql` (select it `AS n`).
pub fn count(file: &Path, sql: &str) -> i64 {
    let rows: Vec<Number> = diesel::sql_query(sql)
        .load(&mut open(file))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first()
        .map(|r| r.n)
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// The values of one text column (select it `AS line`).
pub fn texts(file: &Path, sql: &str) -> Vec<String> {
    let rows: Vec<Line> = diesel::sql_query(sql)
        .load(&mut open(file))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|l| l.line).collect()
}
