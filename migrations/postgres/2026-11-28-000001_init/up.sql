-- Times are Unix seconds (BIGINT), set by the application's clock on both backends.
CREATE TABLE users (
    sub TEXT PRIMARY KEY,
    id_number_lookup TEXT NOT NULL UNIQUE,
    id_number_sealed BYTEA NOT NULL,
    name TEXT NOT NULL,
    phone TEXT UNIQUE,
    email TEXT,
    address TEXT,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    auth_method TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    jwks TEXT,
    jwks_uri TEXT,
    request_object_alg TEXT,
    backchannel_logout_uri TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    registration_token_hash TEXT,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE client_counters (
    client_id TEXT PRIMARY KEY,
    logins BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE initial_access_tokens (
    token_hash TEXT PRIMARY KEY,
    approve BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    sealed_private BYTEA NOT NULL,
    kek_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    publish_until BIGINT
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL UNIQUE,
    sub TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX sessions_sub ON sessions (sub);

CREATE TABLE auth_requests (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    request TEXT NOT NULL,
    -- Which session logged in for this request and which citizen consented: a login or a
    -- consent counts only for that same session and citizen.
    login_sid TEXT,
    consent_sub TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- One row per authorization: born with its code, later the family of its refresh tokens.
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    code_hash TEXT UNIQUE,
    client_id TEXT NOT NULL,
    sub TEXT NOT NULL,
    sid TEXT,
    scope TEXT NOT NULL,
    claims TEXT,
    nonce TEXT,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    auth_time BIGINT NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    code_expires_at BIGINT NOT NULL,
    code_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX grants_sid ON grants (sid);
CREATE INDEX grants_sub_client ON grants (sub, client_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- jti of client assertions (private_key_jwt) already seen, against replay.
CREATE TABLE used_jtis (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE TABLE consents (
    sub TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (sub, client_id)
);

CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_kind ON audit_log (kind);

-- The chain head, kept apart so that removing entries from the end is detected; its row is
-- also the lock that orders writers from every replica.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
