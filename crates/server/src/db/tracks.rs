//! Queries on `tracks`.

use shared::{ListQuery, NewTrack, Track};

use super::{Db, now_text, on_backend};

#[derive(Debug, sqlx::FromRow)]
struct TrackRow {
    id: i64,
    title: String,
    artist: String,
    album: Option<String>,
    year: Option<i32>,
    label: Option<String>,
    created_by: Option<i64>,
    created_at: String,
    updated_at: String,
}

impl From<TrackRow> for Track {
    fn from(row: TrackRow) -> Self {
        Self {
            id: row.id,
            title: row.title,
            artist: row.artist,
            album: row.album,
            year: row.year,
            label: row.label,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, title, artist, album, year, label, created_by, created_at, updated_at"
    };
}

/// A page of the catalogue in id order, optionally filtered by a case-insensitive substring
/// of the title or the artist. Searches use the trigram indexes (FTS5 on SQLite, pg_trgm on
/// PostgreSQL); SQLite terms under three characters, which trigrams cannot cover, scan.
pub async fn list(db: &Db, query: &ListQuery) -> sqlx::Result<Vec<Track>> {
    const ALL: &str = concat!("SELECT ", columns!(), " FROM tracks ORDER BY id LIMIT $1 OFFSET $2");
    const SCAN: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM tracks WHERE lower(title) LIKE $3 ESCAPE '\\' OR lower(artist) LIKE $3 ESCAPE '\\'",
        " ORDER BY id LIMIT $1 OFFSET $2"
    );
    const FTS: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM tracks WHERE id IN (SELECT rowid FROM tracks_search WHERE tracks_search MATCH $3)",
        " ORDER BY id LIMIT $1 OFFSET $2"
    );
    let Some(term) = query.search() else {
        let rows: Vec<TrackRow> = on_backend!(db, pool => sqlx::query_as(ALL).bind(query.limit).bind(query.skip).fetch_all(pool).await?);
        return Ok(rows.into_iter().map(Track::from).collect());
    };
    let term = term.to_lowercase();
    let (sql, pattern) = match db {
        Db::Sqlite(_) if term.chars().count() >= 3 => (FTS, fts_phrase(&term)),
        _ => (SCAN, like_pattern(&term)),
    };
    let rows: Vec<TrackRow> = on_backend!(db, pool => {
        sqlx::query_as(sql).bind(query.limit).bind(query.skip).bind(&pattern).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Track::from).collect())
}

/// An FTS5 phrase matching `term` anywhere (trigram tokenizer), quotes doubled.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// `%term%` with the term's own `%`, `_` and `\` taken literally.
fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Track>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM tracks WHERE id = $1");
    let row: Option<TrackRow> =
        on_backend!(db, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await?);
    Ok(row.map(Track::from))
}

pub async fn insert(db: &Db, track: &NewTrack, created_by: Option<i64>) -> sqlx::Result<Track> {
    const SQL: &str = concat!(
        "INSERT INTO tracks (title, artist, album, year, label, created_by)",
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        columns!()
    );
    let row: TrackRow = on_backend!(db, pool => {
        sqlx::query_as(SQL)
            .bind(&track.title)
            .bind(&track.artist)
            .bind(&track.album)
            .bind(track.year)
            .bind(&track.label)
            .bind(created_by)
            .fetch_one(pool)
            .await?
    });
    Ok(row.into())
}

/// Replaces the editable fields; `None` when the track is gone.
pub async fn update(db: &Db, id: i64, track: &NewTrack) -> sqlx::Result<Option<Track>> {
    const SQL: &str = concat!(
        "UPDATE tracks SET title = $1, artist = $2, album = $3, year = $4, label = $5, updated_at = $6",
        " WHERE id = $7 RETURNING ",
        columns!()
    );
    let row: Option<TrackRow> = on_backend!(db, pool => {
        sqlx::query_as(SQL)
            .bind(&track.title)
            .bind(&track.artist)
            .bind(&track.album)
            .bind(track.year)
            .bind(&track.label)
            .bind(now_text())
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(Track::from))
}

/// Returns whether a track was deleted.
pub async fn delete(db: &Db, id: i64) -> sqlx::Result<bool> {
    const SQL: &str = "DELETE FROM tracks WHERE id = $1";
    let affected = on_backend!(db, pool => sqlx::query(SQL).bind(id).execute(pool).await?.rows_affected());
    Ok(affected == 1)
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    on_backend!(db, pool => sqlx::query_scalar("SELECT count(*) FROM tracks").fetch_one(pool).await)
}

#[cfg(test)]
mod tests {
    use super::{fts_phrase, like_pattern};

    #[test]
    fn like_wildcards_in_a_search_term_are_literal() {
        assert_eq!(like_pattern("100%_a\\"), "%100\\%\\_a\\\\%");
    }

    #[test]
    fn an_fts_phrase_quotes_its_quotes() {
        assert_eq!(fts_phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
