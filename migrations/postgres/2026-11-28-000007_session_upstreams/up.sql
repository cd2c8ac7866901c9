-- Federation: which upstream session a local session came from, so that a logout anywhere along
-- the chain (OpenID Connect Back-Channel Logout from the upstream, or this node's own logout
-- reported upstream) ends the sessions that belong together.
CREATE TABLE session_upstreams (
    -- The local session (sessions.sid).
    sid TEXT PRIMARY KEY,
    upstream_code TEXT NOT NULL,
    -- The upstream's `sid` claim from the ID token that started the local session.
    upstream_sid TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX session_upstreams_by_upstream ON session_upstreams (upstream_code, upstream_sid);
-- Logout tokens name their upstream by issuer.
CREATE INDEX upstreams_issuer ON upstreams (issuer);
