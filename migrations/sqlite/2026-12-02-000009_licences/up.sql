-- Electronic licences (电子证照): the registry operators import into, the Token Status List
-- shards their status is published in, and the licence issuer's certificates.
-- Shards of the Token Status List, each of a fixed capacity.
CREATE TABLE status_lists (
    id TEXT PRIMARY KEY,
    capacity BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE licences (
    id TEXT PRIMARY KEY,
    licence_type TEXT NOT NULL,
    -- Keyed hash of the holder's ID number or credit code: finds a holder's licences.
    holder_lookup TEXT NOT NULL,
    -- The holder's number and the claims (JSON), sealed under a KEK-derived key, the id as
    -- associated data: personal data is never stored in clear.
    holder_sealed BLOB NOT NULL,
    claims_sealed BLOB NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    -- active, suspended or revoked.
    state TEXT NOT NULL,
    -- Where verifiers read the state: a random index in one of the status list shards.
    status_list TEXT NOT NULL REFERENCES status_lists (id),
    status_idx BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (status_list, status_idx)
);
CREATE INDEX licences_by_holder ON licences (holder_lookup);

-- The licence issuer's key and certificate, and the national root CA that certifies it.
CREATE TABLE licence_certificates (
    role TEXT PRIMARY KEY,
    cert_der BLOB NOT NULL,
    -- PKCS#8 sealed under the KEK, the role as associated data.
    sealed_private BLOB NOT NULL,
    kek_id TEXT NOT NULL,
    not_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- OpenID for Verifiable Credential Issuance: pre-authorized codes handed to a holder (by QR at a
-- counter, say) with a transaction code sent apart, and the access tokens they turn into.
CREATE TABLE credential_offers (
    code_hash TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL REFERENCES licences (id),
    tx_code_hash TEXT NOT NULL,
    -- Redemption attempts, each counted before its transaction code is compared.
    attempts BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    spent_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE credential_tokens (
    token_hash TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL REFERENCES licences (id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
