-- The catalogue's version: every change to `tracks` bumps it in the same transaction, so it
-- changes exactly when what a reader of the catalogue could see changes. Servers keep pages
-- of the catalogue against it (see `catalogue_cache.rs`) and read it before each page, so a
-- change made anywhere (another instance, the command line, plain SQL) shows at once.
CREATE TABLE catalogue_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 0);

CREATE TRIGGER catalogue_version_insert AFTER INSERT ON tracks BEGIN
    UPDATE catalogue_version SET version = version + 1;
END;
CREATE TRIGGER catalogue_version_update AFTER UPDATE ON tracks BEGIN
    UPDATE catalogue_version SET version = version + 1;
END;
CREATE TRIGGER catalogue_version_delete AFTER DELETE ON tracks BEGIN
    UPDATE catalogue_version SET version = version + 1;
END;
