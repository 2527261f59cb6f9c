-- Substring search on title and artist without scanning the table: an FTS5 index of
-- trigrams, kept in step with `tracks` by triggers. Terms shorter than three characters
-- cannot use trigrams and fall back to a scan.
CREATE VIRTUAL TABLE tracks_search USING fts5 (
    title, artist, content = 'tracks', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO tracks_search (rowid, title, artist) SELECT id, title, artist FROM tracks;

CREATE TRIGGER tracks_search_insert AFTER INSERT ON tracks BEGIN
    INSERT INTO tracks_search (rowid, title, artist) VALUES (new.id, new.title, new.artist);
END;
CREATE TRIGGER tracks_search_delete AFTER DELETE ON tracks BEGIN
    INSERT INTO tracks_search (tracks_search, rowid, title, artist) VALUES ('delete', old.id, old.title, old.artist);
END;
CREATE TRIGGER tracks_search_update AFTER UPDATE OF title, artist ON tracks BEGIN
    INSERT INTO tracks_search (tracks_search, rowid, title, artist) VALUES ('delete', old.id, old.title, old.artist);
    INSERT INTO tracks_search (rowid, title, artist) VALUES (new.id, new.title, new.artist);
END;
