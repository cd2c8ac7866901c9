-- 身份认证结果纠错: a citizen reports wrong data or a wrong linkage; an operator fixes or
-- rejects it with a reason; the citizen sees the outcome. Every step is also in the audit log.
CREATE TABLE corrections (
    id TEXT PRIMARY KEY NOT NULL,
    sub TEXT NOT NULL,
    -- name, link, other.
    topic TEXT NOT NULL,
    detail TEXT NOT NULL,
    -- open, fixed, rejected.
    state TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    reason TEXT
);
CREATE INDEX corrections_state ON corrections (state, filed_at);
CREATE INDEX corrections_sub ON corrections (sub, filed_at);

-- 好差评: one rating per citizen and app (the latest counts), for the app's operators.
CREATE TABLE ratings (
    sub TEXT NOT NULL,
    client_id TEXT NOT NULL,
    -- good, average, bad.
    score TEXT NOT NULL,
    comment TEXT,
    rated_at BIGINT NOT NULL,
    PRIMARY KEY (sub, client_id)
);
CREATE INDEX ratings_client ON ratings (client_id, rated_at);
