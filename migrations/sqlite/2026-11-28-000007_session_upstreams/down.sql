DROP TABLE session_upstreams;
DROP INDEX upstreams_issuer;
