-- Substring search on title and artist without scanning the table: trigram GIN indexes that
-- `lower(column) LIKE '%term%'` uses directly (pg_trgm ships with PostgreSQL).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tracks_title_trgm ON tracks USING gin (lower(title) gin_trgm_ops);
CREATE INDEX tracks_artist_trgm ON tracks USING gin (lower(artist) gin_trgm_ops);
