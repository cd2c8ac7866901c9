-- Passkeys (WebAuthn credentials with user verification): several per citizen.
CREATE TABLE passkeys (
    -- The credential id, base64url: how an assertion names its credential.
    cred_id TEXT PRIMARY KEY,
    sub TEXT NOT NULL REFERENCES users (sub),
    -- The WebAuthn user handle the authenticator returns (an opaque keyed hash of sub).
    user_handle TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The serialised credential: public key, sign counter, backup flags.
    credential TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    -- Set when the sign counter went backwards (a possible clone): refused until removed.
    suspended_at BIGINT
);
CREATE INDEX passkeys_sub ON passkeys (sub);

-- Registration and login ceremonies in flight: single use, short-lived, finishable on any
-- replica.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- The citizen binding a passkey (registration only).
    sub TEXT,
    -- The parked authorization request a login continues, if any.
    request_id TEXT,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);
