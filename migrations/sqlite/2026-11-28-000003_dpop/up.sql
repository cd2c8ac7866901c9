-- The DPoP key (RFC 7638 thumbprint) a public client's refresh tokens are bound to (RFC 9449 5).
ALTER TABLE grants ADD COLUMN dpop_jkt TEXT;
