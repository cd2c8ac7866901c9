DROP TABLE credential_tokens;
DROP TABLE credential_offers;
DROP TABLE licence_certificates;
DROP TABLE licences;
DROP TABLE status_lists;
