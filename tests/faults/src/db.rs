//! Reading what the provider stored, on either backend, to check what survived a fault.
use crate::postgres::Cluster;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Db<'a> {
    Sqlite(PathBuf),
    Postgres(&'a Cluster, &'a str),
}

impl Db<'_> {
    /// A number answered by `sql` (select it `AS n`).
    pub fn count(&self, sql: &str) -> i64 {
        match self {
            Db::Sqlite(file) => crate::sqlite::count(file, sql),
            Db::Postgres(cluster, db) => cluster.count(db, sql),
        }
    }

    /// The values of one text column (select it `AS line`).
    pub fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite(file) => crate::sqlite::texts(file, sql),
            Db::Postgres(cluster, db) => cluster
                .query(db, sql)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}
