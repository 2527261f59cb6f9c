//! Queries on `tracks`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use serde::Serialize;
use shared::{ListQuery, NewTrack, Track};

use super::shared_reads::SharedReads;
use super::trigram_shares::{self, TrigramShares};
use super::{Db, PgReaders, Readers, on_backend};
use crate::clock::now_text;
use crate::db;

/// The one mapping from a row of [`columns!`] to a [`Track`] (or a [`TrackRow`]), by position
/// in that list, for either driver: `$get` is sqlx's `try_get`, rusqlite's `get`, or
/// [`sqlite::GetBorrowed::get_borrowed`], and `?` turns its error into the enclosing function's. By
/// position, not by name: rusqlite finds a named column by comparing names one by one, which
/// for a page of 20 rows was 18% of a list request.
macro_rules! track_from_row {
    ($row:expr, $get:ident) => {
        track_from_row!(Track, $row, $get)
    };
    ($track:ident, $row:expr, $get:ident) => {
        $track {
            id: $row.$get(0)?,
            title: $row.$get(1)?,
            artist: $row.$get(2)?,
            album: $row.$get(3)?,
            year: $row.$get(4)?,
            label: $row.$get(5)?,
            created_by: $row.$get(6)?,
            created_at: $row.$get(7)?,
            updated_at: $row.$get(8)?,
        }
    };
}

/// A track's columns, in the order [`track_from_row!`] reads them; `columns!("t.")` names
/// them as `t.id, t.title, ...`, for a join with a table that has columns of the same names.
macro_rules! columns {
    ($($table:literal)?) => {
        concat!(
            $($table,)? "id, ", $($table,)? "title, ", $($table,)? "artist, ", $($table,)? "album, ",
            $($table,)? "year, ", $($table,)? "label, ", $($table,)? "created_by, ",
            $($table,)? "created_at, ", $($table,)? "updated_at"
        )
    };
}

// After the macros above, which they use.
mod postgres;
mod sqlite;

pub use postgres::TRIGRAM_SEARCH;

/// Pages up to this far in are read on the runtime thread that asks: OFFSET steps over every
/// skipped row, so a page's cost grows with how far in it is (1 000 rows in measured at
/// 50–100 µs, on every request for it), and up to here it stays at a few microseconds.
const QUICK_SKIP: i64 = 200;

/// How long a search may hold the runtime thread that asked for it (SQLite) before it is
/// stopped and read again on the blocking pool. Most searches take tens of microseconds, and
/// reading them on the request's thread rather than handing each to the pool is 10–14% more
/// searches a second (A/B, 10 000 tracks, page cache off); but a rare or absent term can walk
/// the whole index. Under load at 10 000 tracks, 200 µs stops 0.1% of searches for random
/// terms; 100 µs (the top of tokio's rule of thumb for time between awaits) stopped 8%, and
/// their second reads cost more than the first ones saved.
const SEARCH_BUDGET: Duration = Duration::from_micros(200);

// The reads both engines run. On SQLite `$1` is a named parameter, bound by that name.
const PAGE: &str = concat!("SELECT ", columns!(), " FROM tracks ORDER BY id LIMIT $1 OFFSET $2");
const BY_ID: &str = concat!("SELECT ", columns!(), " FROM tracks WHERE id = $1");
/// A [`Track`] borrowed from the row it was read from: a page is written as JSON straight
/// from its rows, without copying each text into a `String` first (on SQLite, with the page
/// cache off: +10% list and +8% search requests a second, A/B). It serializes exactly as a
/// [`Track`] does (a test checks).
#[derive(Serialize)]
struct TrackRow<'r> {
    id: i64,
    title: &'r str,
    artist: &'r str,
    album: Option<&'r str>,
    year: Option<i32>,
    label: Option<&'r str>,
    created_by: Option<i64>,
    created_at: &'r str,
    updated_at: &'r str,
}

/// A page of the catalogue as the API sends it: a JSON array of tracks, and how many. Cheap
/// to clone: requests that share a read (see `shared_reads`) share its bytes.
#[derive(Debug, Clone)]
pub struct PageJson {
    pub json: Bytes,
    pub len: usize,
}

/// About how much JSON a page of 20 tracks is: sizes its buffer, and the page cache's table.
pub const TYPICAL_PAGE_BYTES: usize = 4096;

/// Writes a [`PageJson`] one row at a time, as the rows are read.
struct PageWriter {
    json: Vec<u8>,
    len: usize,
}

impl PageWriter {
    fn new() -> Self {
        let mut json = Vec::with_capacity(TYPICAL_PAGE_BYTES);
        json.push(b'[');
        Self { json, len: 0 }
    }

    fn push(&mut self, track: &TrackRow<'_>) -> serde_json::Result<()> {
        if self.len > 0 {
            self.json.push(b',');
        }
        serde_json::to_writer(&mut self.json, track)?;
        self.len += 1;
        Ok(())
    }

    fn finish(mut self) -> PageJson {
        self.json.push(b']');
        PageJson { json: self.json.into(), len: self.len }
    }
}

/// Which page of the catalogue to read: a [`ListQuery`] in normal form (the term trimmed and
/// lower-cased), so that queries showing the same tracks are equal; the page cache's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    pub term: Option<String>,
    pub skip: i64,
    pub limit: i64,
}

/// What the requests sharing a page read on SQLite have in common: the page and, for a list
/// page near the start, the runtime thread asking. Such a page is read on the asking thread
/// in microseconds (see `sqlite::read_page`), less than it costs to hand its answer to the
/// requests waiting on another thread: sharing it only among one thread's requests took the
/// list with the page cache off from 61 700 to 67 100 req/s (A/B, four rounds each way, every
/// round higher). A search can take up to its budget and a deeper page longer, so their reads
/// stay shared by every thread's requests (per thread too, measured in three stops: `song 9`
/// +1–5%, but a different term each time −6 to −12%, as even different terms share some of
/// their longest reads across threads).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SqlitePage {
    thread: Option<std::thread::ThreadId>,
    page: Page,
}

impl SqlitePage {
    fn new(page: Page) -> Self {
        let quick = page.term.is_none() && page.near_start();
        Self { thread: quick.then(|| std::thread::current().id()), page }
    }
}

impl Page {
    /// Within [`QUICK_SKIP`]: a list page read on the asking thread, a search begun there.
    fn near_start(&self) -> bool {
        self.skip <= QUICK_SKIP
    }
}

impl From<&ListQuery> for Page {
    fn from(query: &ListQuery) -> Self {
        Self { term: query.search().map(str::to_lowercase), skip: query.skip, limit: query.limit }
    }
}

/// The catalogue's hot reads, for the requests listing or searching it (see
/// `catalogue_cache`): on the database's readers, with the requests asking for the same page
/// (or on PostgreSQL, where each read is a round trip, the version) at the same moment sharing
/// one read (`shared_reads`), each from a read begun after it asked. Built by
/// [`Db::catalogue`]. On either engine `trigrams` picks the trigram a search walks, and a
/// search still under way after `--search-timeout` is stopped ([`db::Error::TimedOut`]).
#[derive(Debug, Clone)]
pub enum Catalogue {
    Sqlite {
        readers: Readers,
        searches: SqliteSearches,
        pages: Arc<SharedReads<SqlitePage, PageJson>>,
    },
    /// `searches` are connections of their own, and PostgreSQL stops their statements
    /// after the search time limit.
    Postgres {
        readers: PgReaders,
        searches: PgReaders,
        trigrams: Arc<TrigramShares>,
        versions: Arc<SharedReads<(), i64>>,
        pages: Arc<SharedReads<Page, PageJson>>,
    },
}

/// What SQLite's searches read with, besides the catalogue's readers.
#[derive(Debug, Clone)]
pub struct SqliteSearches {
    /// Connections of their own for the searches that outlast [`SEARCH_BUDGET`] on the
    /// request's thread, and those far in: a term few tracks hold scans or walks much of the
    /// catalogue, for seconds at a million tracks, so a few such searches at once (a client
    /// asking for one rare term after another) would otherwise hold every reader the
    /// catalogue's other reads need. As PostgreSQL's searches have connections of their own.
    pub long: Readers,
    pub trigrams: Arc<TrigramShares>,
    /// `--search-timeout`.
    pub limit: Duration,
}

impl Catalogue {
    /// A page of the catalogue in id order, optionally filtered by a case-insensitive
    /// substring of the title or the artist. Searches walk the tracks holding the term's
    /// rarest trigram, found through a trigram index (FTS5 on SQLite, `track_trigrams` on
    /// PostgreSQL), and check each against the whole term; terms under three characters,
    /// which trigrams cannot cover, scan.
    pub async fn list(&self, page: Page) -> db::Result<PageJson> {
        match self {
            Self::Sqlite { readers, searches, pages } => {
                let read = |source, key: SqlitePage| sqlite::read_page(source, key.page);
                pages.read((readers.clone(), searches.clone()), SqlitePage::new(page), read).await
            }
            Self::Postgres { readers, searches, trigrams, pages, .. } => {
                let source = (readers.clone(), searches.clone(), Arc::clone(trigrams));
                pages.read(source, page, postgres::read_page).await
            }
        }
    }

    /// The catalogue's version: it moves in the same transaction as every change to `tracks`
    /// (a trigger, see the migrations). One row by primary key: on SQLite about a microsecond
    /// on the request's thread (sharing it measured no faster); on PostgreSQL a round trip,
    /// shared.
    pub async fn version(&self) -> db::Result<i64> {
        const SQL: &str = "SELECT version FROM catalogue_version WHERE id = 1";
        match self {
            Self::Sqlite { readers, .. } => {
                readers.quick(|conn| conn.prepare_cached(SQL)?.query_row([], |row| row.get(0))).await
            }
            Self::Postgres { readers, versions, .. } => {
                let read = |readers: PgReaders, ()| async move {
                    readers.read(async |conn| sqlx::query_scalar(SQL).fetch_one(conn).await).await
                };
                versions.read(readers.clone(), (), read).await
            }
        }
    }
}

pub async fn get(db: &Db, id: i64) -> db::Result<Option<Track>> {
    match db {
        Db::Sqlite { readers, .. } => readers.quick(move |conn| sqlite::by_id(conn, id)).await,
        Db::Postgres { readers, .. } => {
            readers
                .read(async |conn| sqlx::query(BY_ID).bind(id).try_map(track_row).fetch_optional(conn).await)
                .await
        }
    }
}

/// A track from a row of either sqlx driver.
fn track_row<R: sqlx::Row>(row: R) -> sqlx::Result<Track>
where
    usize: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i32>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(track_from_row!(row, try_get))
}

/// `$1`–`$5` of a write: the editable fields, in [`columns!`] order.
macro_rules! bind_fields {
    ($query:expr, $track:expr) => {
        $query
            .bind(&$track.title)
            .bind(&$track.artist)
            .bind(&$track.album)
            .bind($track.year)
            .bind(&$track.label)
    };
}

pub async fn insert(db: &Db, track: &NewTrack, created_by: Option<i64>) -> sqlx::Result<Track> {
    const SQL: &str = concat!(
        "INSERT INTO tracks (title, artist, album, year, label, created_by)",
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        columns!()
    );
    on_backend!(db, pool => {
        bind_fields!(sqlx::query(SQL), track)
            .bind(created_by)
            .try_map(track_row)
            .fetch_one(pool)
            .await
    })
}

/// Replaces the editable fields; `None` when the track is gone.
pub async fn update(db: &Db, id: i64, track: &NewTrack) -> sqlx::Result<Option<Track>> {
    const SQL: &str = concat!(
        "UPDATE tracks SET title = $1, artist = $2, album = $3, year = $4, label = $5, updated_at = $6",
        " WHERE id = $7 RETURNING ",
        columns!()
    );
    on_backend!(db, pool => {
        bind_fields!(sqlx::query(SQL), track)
            .bind(now_text())
            .bind(id)
            .try_map(track_row)
            .fetch_optional(pool)
            .await
    })
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
    use shared::Track;

    use super::{Page, PageWriter, QUICK_SKIP, SqlitePage, TrackRow};

    /// The key a page asked for on another thread gets.
    fn key_on_another_thread(page: &Page) -> SqlitePage {
        let page = page.clone();
        std::thread::spawn(move || SqlitePage::new(page)).join().expect("no panic")
    }

    #[test]
    fn a_list_page_near_the_start_is_shared_only_on_the_asking_thread() {
        let page = Page { term: None, skip: QUICK_SKIP, limit: 20 };
        assert_eq!(SqlitePage::new(page.clone()), SqlitePage::new(page.clone()), "same thread");
        assert_ne!(SqlitePage::new(page.clone()), key_on_another_thread(&page));
    }

    #[test]
    fn searches_and_deeper_pages_are_shared_by_every_thread() {
        let search = Page { term: Some("song 9".into()), skip: 0, limit: 20 };
        let deeper = Page { term: None, skip: QUICK_SKIP + 1, limit: 20 };
        for page in [search, deeper] {
            assert_eq!(SqlitePage::new(page.clone()), key_on_another_thread(&page), "{page:?}");
        }
    }

    #[test]
    fn a_page_written_from_rows_is_the_json_of_its_tracks() {
        let tracks = [
            Track {
                id: 1,
                title: "Say \"hi\"\u{e9}".into(),
                artist: "A \\ B".into(),
                album: Some("Album".into()),
                year: Some(1969),
                label: None,
                created_by: Some(7),
                created_at: "2026-12-01T00:00:00.000Z".into(),
                updated_at: "2026-12-02T00:00:00.000Z".into(),
            },
            Track {
                id: 2,
                title: "Two".into(),
                artist: "B".into(),
                album: None,
                year: None,
                label: Some("Label".into()),
                created_by: None,
                created_at: "2026-12-01T00:00:00.000Z".into(),
                updated_at: "2026-12-01T00:00:00.000Z".into(),
            },
        ];
        let mut page = PageWriter::new();
        for track in &tracks {
            page.push(&TrackRow {
                id: track.id,
                title: &track.title,
                artist: &track.artist,
                album: track.album.as_deref(),
                year: track.year,
                label: track.label.as_deref(),
                created_by: track.created_by,
                created_at: &track.created_at,
                updated_at: &track.updated_at,
            })
            .expect("written");
        }
        let page = page.finish();

        assert_eq!(page.json, serde_json::to_vec(&tracks).expect("encoded"));
        assert_eq!(page.len, 2);
        assert_eq!(PageWriter::new().finish().json, b"[]".as_slice());
    }
}
