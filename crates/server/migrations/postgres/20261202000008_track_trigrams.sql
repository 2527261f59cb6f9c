-- Each track's search text by trigram (every run of three characters), one row per trigram
-- and track. The primary key keeps one trigram's tracks in id order, so a search walks the
-- tracks holding its term's rarest trigram in id order, checks each one's text with LIKE,
-- and stops after a page (see `db::tracks`). pg_trgm's GIN index, which this replaces, finds
-- every matching row at once but not in id order: a common term had to walk the whole
-- table in id order instead, testing each row, and a rarer one sort all its matches.
CREATE TABLE track_trigrams (
    trigram  text   NOT NULL,
    track_id bigint NOT NULL,
    PRIMARY KEY (trigram, track_id)
);
-- A search picks its trigram by PostgreSQL's statistics of this column: keep the shares of
-- the 1 000 most common trigrams rather than the default 100.
ALTER TABLE track_trigrams ALTER COLUMN trigram SET STATISTICS 1000;

-- The distinct trigrams of a text; a search takes its term's the same way (characters, not
-- bytes), so every trigram of a term found in a track's text is listed for that track.
CREATE FUNCTION trigrams_of(text) RETURNS SETOF text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT DISTINCT substr($1, i, 3) FROM generate_series(1, length($1) - 2) AS i
$$;

-- Kept in step with `tracks` in the same statement as every change to it, however it is
-- made (this server, `tracklist user`, plain SQL), one statement at a time.
CREATE FUNCTION track_trigrams_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO track_trigrams (trigram, track_id)
    SELECT t.trigram, added.id FROM added, trigrams_of(added.search_text) AS t(trigram);
    RETURN NULL;
END
$$;

CREATE FUNCTION track_trigrams_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM track_trigrams AS g
    USING removed, trigrams_of(removed.search_text) AS t(trigram)
    WHERE g.trigram = t.trigram AND g.track_id = removed.id;
    RETURN NULL;
END
$$;

-- Only the rows whose text changed: most updates change neither the title nor the artist.
CREATE FUNCTION track_trigrams_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM track_trigrams AS g
    USING removed, trigrams_of(removed.search_text) AS t(trigram)
    WHERE g.trigram = t.trigram AND g.track_id = removed.id
      AND NOT EXISTS (SELECT FROM added WHERE added.id = removed.id AND added.search_text = removed.search_text);
    INSERT INTO track_trigrams (trigram, track_id)
    SELECT t.trigram, added.id FROM added, trigrams_of(added.search_text) AS t(trigram)
    WHERE NOT EXISTS (SELECT FROM removed WHERE removed.id = added.id AND removed.search_text = added.search_text);
    RETURN NULL;
END
$$;

CREATE FUNCTION track_trigrams_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE track_trigrams;
    RETURN NULL;
END
$$;

CREATE TRIGGER track_trigrams_added AFTER INSERT ON tracks REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION track_trigrams_added();
CREATE TRIGGER track_trigrams_removed AFTER DELETE ON tracks REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION track_trigrams_removed();
CREATE TRIGGER track_trigrams_changed AFTER UPDATE ON tracks
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION track_trigrams_changed();
CREATE TRIGGER track_trigrams_emptied AFTER TRUNCATE ON tracks
    FOR EACH STATEMENT EXECUTE FUNCTION track_trigrams_emptied();

INSERT INTO track_trigrams (trigram, track_id)
SELECT t.trigram, tracks.id FROM tracks, trigrams_of(tracks.search_text) AS t(trigram);
ANALYZE track_trigrams;

DROP INDEX tracks_search_text_trgm;
