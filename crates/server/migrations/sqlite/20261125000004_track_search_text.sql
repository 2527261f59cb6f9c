-- The same lower-cased text PostgreSQL stores, computed when read: terms too short for the
-- trigram index scan it. U+001F joins the two: search terms never contain control
-- characters, so no match can span the title and the artist.
ALTER TABLE tracks ADD COLUMN search_text TEXT
    GENERATED ALWAYS AS (lower(title) || char(31) || lower(artist)) VIRTUAL;
