-- QR-code login: a browser shows a code, the citizen's government app approves it. Any replica
-- may serve the browser's status polling while another takes the app's answer.
CREATE TABLE qr_logins (
    -- SHA-256 of the login id in the QR code (192 random bits).
    id_hash TEXT PRIMARY KEY,
    -- SHA-256 of a cookie only the browser that showed the code holds: only it can finish.
    binding_hash TEXT NOT NULL,
    -- The parked authorization request the login continues, if any.
    request_id TEXT,
    -- waiting | scanned | approved | denied | done
    status TEXT NOT NULL,
    -- Who approved (from the app's DPoP-bound token).
    sub TEXT,
    acr TEXT,
    amr TEXT,
    -- Shown in the app: where and what asks (coarse).
    client_ip TEXT NOT NULL,
    browser TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX qr_logins_updated ON qr_logins (updated_at);
