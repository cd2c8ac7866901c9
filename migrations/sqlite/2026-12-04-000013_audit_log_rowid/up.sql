-- `seq BIGINT PRIMARY KEY` gave the audit log a second B-tree beside the table: in SQLite only
-- a column declared exactly `INTEGER PRIMARY KEY` is the rowid itself. Every audit commit wrote
-- that index's page too. The table is rebuilt with `seq` as its rowid; entries, their order and
-- the other indexes stay as they were (PostgreSQL has no such quirk and keeps its schema).
CREATE TABLE audit_log_by_seq (
    seq INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_log_by_seq (seq, at, kind, actor, client_id, detail, prev_hash, hash)
    SELECT seq, at, kind, actor, client_id, detail, prev_hash, hash FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_by_seq RENAME TO audit_log;
CREATE INDEX audit_log_kind ON audit_log (kind);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_client ON audit_log (client_id, at);
