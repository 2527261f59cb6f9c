//! The catalogue's reads on SQLite's direct connections (see `db::readers`).

use rusqlite::types::{FromSql, FromSqlResult, Type, ValueRef};
use rusqlite::{Connection, OptionalExtension, Params, Row, Rows, named_params};
use shared::Track;

use super::{
    BY_ID, PAGE, Page, PageJson, PageWriter, Readers, SEARCH_BUDGET, SqliteSearches, TrackRow, trigram_shares,
};
use crate::db;

/// One read of `page`: on the runtime thread that asks if it is quick (a page near the
/// start), else on the blocking pool. A search near the start starts on the runtime
/// thread and moves to the pool, on a connection of the searches' own, if it outlasts
/// [`SEARCH_BUDGET`]; any search is stopped once the searches' limit has passed.
pub async fn read_page((readers, searches): (Readers, SqliteSearches), page: Page) -> db::Result<PageJson> {
    let near_start = page.near_start();
    let Page { term, skip, limit } = page;
    let Some(term) = term else {
        return if near_start {
            readers.quick(|conn| self::page(conn, limit, skip)).await
        } else {
            readers.slow(move |conn| self::page(conn, limit, skip)).await
        };
    };
    let SqliteSearches { long, trigrams, limit: time_limit } = searches;
    // A few milliseconds, at most once a minute.
    let sample = async || readers.slow(trigram_shares::from_sample).await;
    let search = match trigrams.rarest(&term, sample).await? {
        Some(trigram) => Search::Trigram { trigram: fts_phrase(&trigram), term },
        None => Search::Scan(term),
    };
    let read = move |conn: &Connection| search.page(conn, limit, skip);
    if near_start {
        readers.bounded(SEARCH_BUDGET, &long, time_limit, read).await
    } else {
        long.slow_within(time_limit, read).await
    }
}

fn page(conn: &Connection, limit: i64, skip: i64) -> db::Result<PageJson> {
    page_json(conn, PAGE, named_params! {"$1": limit, "$2": skip})
}

pub fn by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<Track>> {
    conn.prepare_cached(BY_ID)?.query_row(named_params! {"$1": id}, track).optional()
}

/// An FTS5 phrase matching `term` anywhere (trigram tokenizer), quotes doubled.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// Whether `text` holds `term` (lower case) in any case: how a SQLite search checks each
/// track it walks. Lower case as Unicode has it, as FTS5's trigram index folds case, so a
/// track the index finds for a trigram of the term is held to the same folding.
fn holds(text: &str, term: &str) -> bool {
    if text.is_ascii() {
        // Most catalogue text: compared where it lies, nothing copied. No ASCII text holds
        // a term with other characters.
        term.is_empty()
            || text.as_bytes().windows(term.len()).any(|part| part.eq_ignore_ascii_case(term.as_bytes()))
    } else {
        text.to_lowercase().contains(term)
    }
}

/// The tracks FTS5 finds for `$1` (one trigram, or the whole term, as an FTS5 phrase)
/// after id `$2`, in id order. The FTS index yields them in rowid (= id) order, so a
/// search stops once its page is full instead of collecting and sorting every match.
/// Each is joined to its row as it is found (`CROSS JOIN` keeps the index as the outer
/// loop): the ids are not first collected into a temporary table and sorted again, as
/// `id IN (SELECT rowid ... LIMIT)` did (`song 9` +2–6%, A/B both ways, page cache off).
/// A test holds the plan to this.
pub(super) const FTS: &str = concat!(
    "SELECT ",
    columns!("tracks."),
    " FROM tracks_search CROSS JOIN tracks ON tracks.id = tracks_search.rowid",
    " WHERE tracks_search MATCH $1 AND tracks_search.rowid > $2 ORDER BY tracks_search.rowid"
);

/// How many tracks a walk along one trigram may find not holding the term before it
/// hands the rest of the search to FTS5's phrase of the whole term. A term whose every
/// trigram is common can still be rare (each trigram in thousands of titles, never all
/// in a row): walking one trigram's tracks would then visit thousands to find a few,
/// where FTS5 intersects the lists of every trigram. So such a walk costs at most this
/// many misses more than the phrase, and a hostile term cannot make a search much
/// longer than FTS5 would.
const WALK_MISSES: usize = 256;

/// Every track in id order: what a search for a term under three characters, which
/// trigrams cannot cover, walks.
const IN_ID_ORDER: &str = concat!("SELECT ", columns!(), " FROM tracks ORDER BY id");

/// A search, as SQLite reads it.
enum Search {
    /// Three characters or more: the tracks holding the term's rarest `trigram` (as an
    /// FTS5 phrase), each checked against the whole `term` (lower case); see [`walk`].
    Trigram { trigram: String, term: String },
    /// Shorter: every track, each checked against the term (lower case), as a walk checks
    /// them. In Rust rather than with SQL's `LIKE`, which folds only ASCII case where
    /// the walk folds as Unicode does (`ét` found `Été` only from three characters on);
    /// a little cheaper too (an absent two-letter term, 10 000 tracks: 790–860 → 685–710
    /// µs of server CPU a request, two rounds).
    Scan(String),
}

impl Search {
    fn page(&self, conn: &Connection, limit: i64, skip: i64) -> db::Result<PageJson> {
        match self {
            Self::Trigram { trigram, term } => walk(conn, trigram, Filling::new(term, limit, skip)),
            Self::Scan(term) => {
                let mut filling = Filling::new(term, limit, skip);
                filling.fill(conn.prepare_cached(IN_ID_ORDER)?.query([])?, usize::MAX)?;
                Ok(filling.page.finish())
            }
        }
    }
}

/// A page of the tracks holding `term`, found among those FTS5 lists for one of its
/// trigrams, in id order: the walk stops once the page is full. One trigram rather than
/// the whole term as an FTS5 phrase: FTS5 then follows one list of rows, where for a
/// phrase it leapfrogs the lists of every trigram of the term, seeking through the
/// common ones (every title here has `son`) and checking positions. Timed apart from the
/// server (Python's `sqlite3`, 10 000 tracks, the page's rows read): `song 9` 57–74 →
/// 33–38 µs, `song 123` 100–146 → 38–58 µs; in the server (A/B, page cache off, three
/// rounds) a different term each time 8 100–8 650 → 14 900–17 600 requests a second.
///
/// Past [`WALK_MISSES`] tracks not holding the term, the rest of the page comes from
/// FTS5's phrase of the whole term, after the last track walked.
fn walk(conn: &Connection, trigram: &str, mut filling: Filling<'_>) -> db::Result<PageJson> {
    let mut statement = conn.prepare_cached(FTS)?;
    let listed = statement.query(named_params! {"$1": trigram, "$2": i64::MIN})?;
    if let Walked::Unselective { after } = filling.fill(listed, WALK_MISSES)? {
        let phrase = fts_phrase(filling.term);
        filling.fill(statement.query(named_params! {"$1": phrase, "$2": after})?, usize::MAX)?;
    }
    Ok(filling.page.finish())
}

/// A search's page as it fills: the tracks holding `term`, once `skip` of them are passed.
struct Filling<'t> {
    term: &'t str,
    limit: usize,
    skip: i64,
    page: PageWriter,
}

/// How one list of tracks filled a page.
enum Walked {
    /// Full, or the list ended.
    Done,
    /// Too many tracks in the list did not hold the term; the last one looked at.
    Unselective { after: i64 },
}

impl<'t> Filling<'t> {
    fn new(term: &'t str, limit: i64, skip: i64) -> Self {
        Self { term, limit: usize::try_from(limit).unwrap_or_default(), skip, page: PageWriter::new() }
    }

    /// Adds the tracks of `rows` (in id order, their columns as [`columns!`] names them)
    /// that hold the term, until the page is full, the rows end, or more than `misses`
    /// tracks do not hold it.
    fn fill(&mut self, mut rows: Rows<'_>, misses: usize) -> db::Result<Walked> {
        let mut missed = 0;
        while self.page.len < self.limit {
            let Some(row) = rows.next()? else { break };
            if !(holds(row.get_borrowed(1)?, self.term) || holds(row.get_borrowed(2)?, self.term)) {
                missed += 1;
                if missed > misses {
                    return Ok(Walked::Unselective { after: row.get(0)? });
                }
            } else if self.skip > 0 {
                self.skip -= 1;
            } else {
                self.page.push(&borrowed(row)?)?;
            }
        }
        Ok(Walked::Done)
    }
}

fn page_json(conn: &Connection, sql: &str, params: impl Params) -> db::Result<PageJson> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut page = PageWriter::new();
    while let Some(row) = rows.next()? {
        page.push(&borrowed(row)?)?;
    }
    Ok(page.finish())
}

fn borrowed<'r>(row: &'r Row<'_>) -> rusqlite::Result<TrackRow<'r>> {
    Ok(track_from_row!(TrackRow, row, get_borrowed))
}

fn track(row: &Row<'_>) -> rusqlite::Result<Track> {
    Ok(track_from_row!(row, get))
}

/// rusqlite's `Row::get` for values that borrow the row's text rather than copy it.
pub trait GetBorrowed<'r> {
    fn get_borrowed<T: Borrowed<'r>>(&'r self, column: usize) -> rusqlite::Result<T>;
}

impl<'r> GetBorrowed<'r> for Row<'_> {
    fn get_borrowed<T: Borrowed<'r>>(&'r self, column: usize) -> rusqlite::Result<T> {
        T::from_value(self.get_ref(column)?)
            .map_err(|err| rusqlite::Error::FromSqlConversionFailure(column, T::TYPE, err.into()))
    }
}

/// A column's value as [`GetBorrowed::get_borrowed`] reads it.
pub trait Borrowed<'r>: Sized {
    const TYPE: Type;
    fn from_value(value: ValueRef<'r>) -> FromSqlResult<Self>;
}

impl<'r> Borrowed<'r> for &'r str {
    const TYPE: Type = Type::Text;
    fn from_value(value: ValueRef<'r>) -> FromSqlResult<Self> {
        value.as_str()
    }
}

impl<'r> Borrowed<'r> for Option<&'r str> {
    const TYPE: Type = Type::Text;
    fn from_value(value: ValueRef<'r>) -> FromSqlResult<Self> {
        value.as_str_or_null()
    }
}

/// Numbers are copied anyway.
macro_rules! borrowed_as_copied {
    ($($number:ty),*) => {$(
        impl<'r> Borrowed<'r> for $number {
            const TYPE: Type = Type::Integer;
            fn from_value(value: ValueRef<'r>) -> FromSqlResult<Self> {
                FromSql::column_result(value)
            }
        }
    )*};
}
borrowed_as_copied!(i64, Option<i64>, Option<i32>);

#[cfg(test)]
mod tests {
    use super::{FTS, fts_phrase, holds};
    use crate::db::Db;

    /// What a search's speed rests on, whatever the catalogue's size: FTS5's hits in id order
    /// as the outer loop, each joined to its track, and nothing sorted, so the read stops after
    /// the page's hits however many tracks match.
    #[tokio::test]
    async fn a_search_walks_the_index_in_id_order_and_sorts_nothing() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("tracklist.db").display()))
            .await
            .expect("migrated");
        let Db::Sqlite { readers, .. } = &db else { unreachable!("a SQLite URL") };

        let plan = readers
            .quick(|conn| {
                let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", FTS))?;
                let params = rusqlite::named_params! {"$1": fts_phrase("g 9"), "$2": 0};
                statement
                    .query_map(params, |row| row.get::<_, String>(3))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await
            .expect("planned");

        assert_eq!(plan.len(), 2, "{plan:?}");
        assert!(plan[0].starts_with("SCAN tracks_search VIRTUAL TABLE"), "{plan:?}");
        assert!(plan[1].starts_with("SEARCH tracks USING INTEGER PRIMARY KEY"), "{plan:?}");
    }

    #[test]
    fn a_track_holds_a_term_in_any_case() {
        assert!(holds("Song 9", "song 9"));
        assert!(holds("A SONG 90", "song 9"));
        assert!(!holds("Song 19", "song 9"));
        assert!(!holds("So", "song"), "shorter than the term");
        assert!(holds("L'ÉTÉ", "été"), "beyond ASCII");
        assert!(!holds("L'ete", "été"), "accents are not folded away");
        assert!(!holds("Song", "sóng"), "no ASCII text holds other characters");
    }

    #[test]
    fn an_fts_phrase_quotes_its_quotes() {
        assert_eq!(fts_phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
