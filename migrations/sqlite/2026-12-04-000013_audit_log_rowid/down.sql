CREATE TABLE audit_log_by_key (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_log_by_key (seq, at, kind, actor, client_id, detail, prev_hash, hash)
    SELECT seq, at, kind, actor, client_id, detail, prev_hash, hash FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_by_key RENAME TO audit_log;
CREATE INDEX audit_log_kind ON audit_log (kind);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_client ON audit_log (client_id, at);
