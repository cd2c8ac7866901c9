DROP INDEX ratings_client;
DROP TABLE ratings;
DROP INDEX corrections_sub;
DROP INDEX corrections_state;
DROP TABLE corrections;
