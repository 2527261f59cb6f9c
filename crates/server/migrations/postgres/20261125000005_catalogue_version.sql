-- The catalogue's version: every change to `tracks` bumps it in the same transaction, so it
-- changes exactly when what a reader of the catalogue could see changes. Servers keep pages
-- of the catalogue against it (see `catalogue_cache.rs`) and read it before each page, so a
-- change made anywhere (another instance, the command line, plain SQL) shows at once.
-- An updated row, not a sequence: a sequence moves before the change commits, and a page
-- read in between would be kept under the new version with the old rows.
CREATE TABLE catalogue_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalogue_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER catalogue_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tracks
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version();
