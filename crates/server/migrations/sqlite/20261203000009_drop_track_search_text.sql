-- Searches too short for the trigram index now check each track's title and artist in the
-- server, folding case as Unicode does (SQLite's lower() folds only ASCII), so the virtual
-- lower-cased column they scanned is read by nothing. PostgreSQL keeps its own: its lower()
-- folds Unicode, and its trigram table is built from it.
ALTER TABLE tracks DROP COLUMN search_text;
