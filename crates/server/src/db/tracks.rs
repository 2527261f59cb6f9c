//! Queries on `tracks`.

use shared::{ListQuery, NewTrack, Track};
use sqlx::SqlitePool;

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

const COLUMNS: &str = "id, title, artist, album, year, label, created_by, created_at, updated_at";

/// A page of the catalogue in id order, optionally filtered by a case-insensitive substring
/// of the title or the artist.
pub async fn list(db: &SqlitePool, query: &ListQuery) -> sqlx::Result<Vec<Track>> {
    let rows: Vec<TrackRow> = match query.search() {
        Some(term) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM tracks
                 WHERE title LIKE ?1 ESCAPE '\\' OR artist LIKE ?1 ESCAPE '\\'
                 ORDER BY id LIMIT ?2 OFFSET ?3"
            ))
            .bind(like_pattern(term))
            .bind(query.limit)
            .bind(query.skip)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM tracks ORDER BY id LIMIT ? OFFSET ?"))
                .bind(query.limit)
                .bind(query.skip)
                .fetch_all(db)
                .await?
        }
    };
    Ok(rows.into_iter().map(Track::from).collect())
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

pub async fn get(db: &SqlitePool, id: i64) -> sqlx::Result<Option<Track>> {
    let row: Option<TrackRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM tracks WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(Track::from))
}

pub async fn insert(db: &SqlitePool, track: &NewTrack, created_by: Option<i64>) -> sqlx::Result<Track> {
    let row: TrackRow = sqlx::query_as(&format!(
        "INSERT INTO tracks (title, artist, album, year, label, created_by)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(&track.title)
    .bind(&track.artist)
    .bind(&track.album)
    .bind(track.year)
    .bind(&track.label)
    .bind(created_by)
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// Replaces the editable fields; `None` when the track is gone.
pub async fn update(db: &SqlitePool, id: i64, track: &NewTrack) -> sqlx::Result<Option<Track>> {
    let row: Option<TrackRow> = sqlx::query_as(&format!(
        "UPDATE tracks
         SET title = ?, artist = ?, album = ?, year = ?, label = ?,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ? RETURNING {COLUMNS}"
    ))
    .bind(&track.title)
    .bind(&track.artist)
    .bind(&track.album)
    .bind(track.year)
    .bind(&track.label)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Track::from))
}

/// Returns whether a track was deleted.
pub async fn delete(db: &SqlitePool, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM tracks WHERE id = ?").bind(id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM tracks").fetch_one(db).await
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_in_a_search_term_are_literal() {
        assert_eq!(like_pattern("100%_a\\"), "%100\\%\\_a\\\\%");
    }
}
