-- OAuth 2.0 Device Authorization Grant (RFC 8628): kiosks and TVs that show a code the citizen
-- approves elsewhere. Any replica can answer the polling while another takes the approval.
CREATE TABLE device_codes (
    -- SHA-256 of the device code: a database leak hands out no pending logins.
    device_code_hash TEXT PRIMARY KEY,
    -- Normalised (upper case, no separator); what the citizen types.
    user_code TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    -- pending | approved | denied | spent
    status TEXT NOT NULL,
    sub TEXT,
    sid TEXT,
    acr TEXT,
    amr TEXT,
    auth_time BIGINT,
    interval_secs BIGINT NOT NULL,
    last_poll_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX device_codes_expires ON device_codes (expires_at);
