-- Redeeming a code sets grants.code_used_at, which no index covers. With room left in each page
-- PostgreSQL updates the row in place (a HOT update) instead of writing a new version into the
-- table and all four of its indexes. Applies to pages written from now on.
ALTER TABLE grants SET (fillfactor = 80);
