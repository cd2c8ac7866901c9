-- Province nodes link roaming citizens by the hub's national subject, so the ID number crosses
-- the hub-to-province hop only when an app there asked for it and the citizen agreed: a roaming
-- account may have no ID number.
ALTER TABLE users ALTER COLUMN id_number_lookup DROP NOT NULL;
ALTER TABLE users ALTER COLUMN id_number_sealed DROP NOT NULL;
-- Who a citizen is at each upstream: (upstream code, the upstream's sub) -> the account here.
CREATE TABLE federated_identities (
    upstream_code TEXT NOT NULL,
    upstream_sub TEXT NOT NULL,
    sub TEXT NOT NULL REFERENCES users (sub),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (upstream_code, upstream_sub)
);
