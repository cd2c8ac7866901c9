-- Federation: the identity providers this node sends citizens to (a hub's provinces, cities and
-- counties by GB/T 2260 region code; a province's hub as code 00). Plain trust configuration, so
-- that OpenID Federation trust chains can replace it later.
CREATE TABLE upstreams (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Compared exactly with the iss of the upstream's ID tokens.
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    -- Sealed with a KEK-derived key, the code as associated data.
    client_secret_sealed BYTEA NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
