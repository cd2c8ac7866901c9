-- Province nodes link roaming citizens by the hub's national subject, so the ID number crosses
-- the hub-to-province hop only when an app there asked for it and the citizen agreed: a roaming
-- account may have no ID number.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    sub TEXT PRIMARY KEY,
    id_number_lookup TEXT UNIQUE,
    id_number_sealed BLOB,
    name TEXT NOT NULL,
    phone TEXT UNIQUE,
    email TEXT,
    address TEXT,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO users_new SELECT sub, id_number_lookup, id_number_sealed, name, phone, email, address,
    password_hash, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
-- Who a citizen is at each upstream: (upstream code, the upstream's sub) -> the account here.
CREATE TABLE federated_identities (
    upstream_code TEXT NOT NULL,
    upstream_sub TEXT NOT NULL,
    sub TEXT NOT NULL REFERENCES users (sub),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (upstream_code, upstream_sub)
);
COMMIT;
PRAGMA foreign_keys = ON;
