//! The database: SQLite (default, embedded) or PostgreSQL (for several instances), chosen by
//! the URL at start-up. One async function per query lives in `db/`; each is written once,
//! with `$N` placeholders both engines accept, and runs on either through [`on_backend!`].
//! The exceptions are the hot reads (the catalogue, session loads), which on SQLite go through
//! direct read-only connections (`readers`). Row types stay in here; callers get domain values.

pub mod counters;
pub mod devices;
pub mod links;
mod pg_readers;
mod readers;
pub mod redis;
pub mod sessions;
mod shared_reads;
pub mod tracks;
mod trigram_shares;
pub mod two_factor;
pub mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, SqlitePool};

pub use self::pg_readers::PgReaders;
pub use self::readers::Readers;

/// Requests that cannot get a connection this fast answer 503 rather than queue for ever.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Read-only SQLite connections: one per runtime thread, as many again for reads in flight
/// on the blocking pool (pages far in; a search's own, see [`Db::catalogue`]).
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(8, |cores| cores.get() * 2).max(4)
}

/// Session loads are quick reads on the request's thread: one connection per runtime thread.
fn session_reader_count() -> usize {
    std::thread::available_parallelism().map_or(4, |cores| cores.get() + 1)
}

/// Each instance's PostgreSQL connections: at most this many in sqlx's pool (the writes and
/// the other reads) and as many again for the hot reads (`pg_readers`), opened as needed.
const POSTGRES_CONNECTIONS: u32 = 16;
/// The catalogue's searches, on connections of their own: a search for a term whose every
/// trigram is common can walk far, so a few at a time keep PostgreSQL's cores busy without
/// holding the connections of the other hot reads.
const SEARCH_CONNECTIONS: usize = 8;
/// The same for the session loads of signed-in requests (see [`Db::session_budget`]): at
/// most 2 × (16 + 4) + 8 = 48 connections per instance in all.
const SESSION_POSTGRES_CONNECTIONS: u32 = 4;

/// A pooled PostgreSQL connection idle for longer than this is pinged before it is used.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// sqlx pings every pooled connection before handing it out, by default: a second round trip
/// for every query. One that answered a query a moment ago is alive, so only a connection
/// idle for a while (when PostgreSQL may have restarted or a firewall dropped it) is checked.
/// A connection that died under load anyway fails its query, is closed, and the next request
/// gets a new one.
fn postgres_pool(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_WHEN_IDLE_FOR {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// A connection pool to the configured engine. `readers` serve the hot reads (a track, session
/// loads; the catalogue's pages through [`tracks::Catalogue`]); the rest goes through `pool`.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite { pool: SqlitePool, readers: Readers },
    Postgres { pool: PgPool, readers: PgReaders },
}

/// What a query can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("no SQLite reader came free within {ACQUIRE_TIMEOUT:?}")]
    ReadersBusy,
    /// A read ran past its time limit and was stopped: only searches have one
    /// (`--search-timeout`), as only their cost grows with the catalogue without bound.
    #[error("the read ran past its time limit and was stopped")]
    TimedOut,
    #[error("a read on the blocking pool failed")]
    Task(#[from] tokio::task::JoinError),
    /// Writing a page of rows as JSON failed (`tracks::PageJson`; it writes only strings and
    /// numbers into memory, so never in practice).
    #[error("cannot write rows as JSON")]
    Json(#[from] serde_json::Error),
    /// One failed read whose answer several requests share.
    #[error(transparent)]
    Shared(Arc<Error>),
}

impl Error {
    /// Whether the database is out of reach or overloaded (rather than the query being wrong).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Sqlx(err) => is_unavailable(err),
            Self::Sqlite(err) => matches!(
                err.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            Self::ReadersBusy => true,
            Self::TimedOut | Self::Task(_) | Self::Json(_) => false,
            Self::Shared(err) => err.is_unavailable(),
        }
    }

    /// Whether the read ran past its time limit (see [`Error::TimedOut`]).
    pub fn is_timed_out(&self) -> bool {
        match self {
            Self::TimedOut => true,
            Self::Shared(err) => err.is_timed_out(),
            _ => false,
        }
    }

    /// Whether SQLite stopped the statement because its reader's deadline passed (see
    /// `Readers::bounded`).
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Self::Sqlite(err) if err.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs the same query code on whichever engine `db` is: `$pool` is bound to the concrete
/// pool in each arm, so the code is type-checked against both drivers.
macro_rules! on_backend {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { pool: $pool, .. } => $body,
            $crate::db::Db::Postgres { pool: $pool, .. } => $body,
        }
    };
}
pub(crate) use on_backend;

impl Db {
    /// Opens (creating a SQLite file if needed) the database and brings its schema up to date.
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        let db = if is_postgres(database_url) {
            let options =
                PgConnectOptions::from_str(database_url).context("invalid PostgreSQL --database-url")?;
            let pool = postgres_pool(POSTGRES_CONNECTIONS)
                .connect_with(options.clone())
                .await
                .context("cannot connect to PostgreSQL")?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .context("cannot migrate the database")?;
            let connections = POSTGRES_CONNECTIONS as usize;
            let readers = PgReaders::new(options, connections, ACQUIRE_TIMEOUT, None)?;
            Self::Postgres { pool, readers }
        } else {
            // The readers open the file by name; and a server that forgets every account
            // and track at exit is a mistake worth catching.
            if database_url.contains(":memory:") || database_url.contains("mode=memory") {
                bail!("--database-url {database_url:?} is an in-memory database; name a file");
            }
            let options = SqliteConnectOptions::from_str(database_url)
                .with_context(|| format!("invalid --database-url {database_url:?}"))?
                .create_if_missing(true)
                // WAL lets readers run while one connection writes; NORMAL is durable under
                // WAL except for the last transactions on power loss, the usual trade-off.
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let setting_up = lock_setup(options.get_filename()).await?;
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // A connection to a local file does not go stale; testing it before each use
                // would cost a second trip to its worker thread per query.
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await
                .with_context(|| format!("cannot open the database {database_url:?}"))?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("cannot migrate the database")?;
            drop(setting_up);
            let readers = Readers::open(options.get_filename(), reader_count(), ACQUIRE_TIMEOUT)?;
            Self::Sqlite { pool, readers }
        };
        Ok(db)
    }

    /// The same database through connections of its own, for the session loads every signed-in
    /// request makes: a burst of slow catalogue reads holding every ordinary connection must
    /// not make signed-in requests wait (or fail) behind it. Writes share the writer pool on
    /// SQLite, where there is only one writer anyway.
    pub fn session_budget(&self) -> anyhow::Result<Self> {
        Ok(match self {
            Self::Sqlite { pool, .. } => {
                let options = pool.connect_options();
                let readers = Readers::open(options.get_filename(), session_reader_count(), ACQUIRE_TIMEOUT)?;
                Self::Sqlite { pool: pool.clone(), readers }
            }
            Self::Postgres { pool, .. } => {
                let options = (*pool.connect_options()).clone();
                let connections = SESSION_POSTGRES_CONNECTIONS as usize;
                let readers = PgReaders::new(options.clone(), connections, ACQUIRE_TIMEOUT, None)?;
                let pool = postgres_pool(SESSION_POSTGRES_CONNECTIONS).connect_lazy_with(options);
                Self::Postgres { pool, readers }
            }
        })
    }

    /// The catalogue's hot reads on this database: the same readers, and connections of its
    /// own for searches (on SQLite for those that outlast their budget on the request's
    /// thread); a search still under way after `search_limit` is stopped. Made once, at
    /// start-up: requests share reads only through the same `Catalogue` (and its clones).
    pub fn catalogue(&self, search_limit: Duration) -> anyhow::Result<tracks::Catalogue> {
        Ok(match self {
            Self::Sqlite { pool, readers } => {
                let file = pool.connect_options().get_filename().to_owned();
                tracks::Catalogue::Sqlite {
                    readers: readers.clone(),
                    searches: tracks::SqliteSearches {
                        long: Readers::open(&file, reader_count(), ACQUIRE_TIMEOUT)?,
                        trigrams: Arc::default(),
                        limit: search_limit,
                    },
                    pages: Arc::default(),
                }
            }
            Self::Postgres { pool, readers } => {
                let options = (*pool.connect_options()).clone();
                let searches =
                    PgReaders::new(options, SEARCH_CONNECTIONS, ACQUIRE_TIMEOUT, Some(search_limit))?;
                tracks::Catalogue::Postgres {
                    readers: readers.clone(),
                    searches,
                    trigrams: Arc::default(),
                    versions: Arc::default(),
                    pages: Arc::default(),
                }
            }
        })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> sqlx::Result<()> {
        on_backend!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
    }
}

/// Waits for, then holds until dropped, a lock on a file beside the SQLite database at
/// `file` (`…-migrate.lock`), for opening the database and bringing it up to date. Two
/// processes starting at once on the same file (two instances after an upgrade, or
/// `tracklist user` while the server starts) otherwise raced: sqlx takes no lock on SQLite,
/// so both found the same migrations to apply and the second failed on what the first had
/// just applied (`table users already exists`); and switching a new file to WAL can fail at
/// once with `database is locked`, whatever the busy timeout. With the lock the second
/// waits, then finds nothing left to do.
async fn lock_setup(file: &Path) -> anyhow::Result<std::fs::File> {
    let mut lock_path = file.as_os_str().to_owned();
    lock_path.push("-migrate.lock");
    let lock_path = PathBuf::from(lock_path);
    let shown = lock_path.display().to_string();
    tokio::task::spawn_blocking(move || {
        let lock = std::fs::File::options().create(true).truncate(false).write(true).open(&lock_path)?;
        // Released when `lock` is closed.
        lock.lock()?;
        std::io::Result::Ok(lock)
    })
    .await?
    .with_context(|| format!("cannot lock {shown} to open the database"))
}

pub fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// Whether `err` is a UNIQUE constraint failure (a duplicate username, say).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether `err` means the database is out of reach (rather than the query being wrong).
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
        || is_ending_connection(err)
        || is_cancelled(err)
}

/// PostgreSQL's SQLSTATE for a statement it cancelled (`statement_timeout`, or an
/// administrator's `pg_cancel_backend`): the statement ends, the connection carries on.
const QUERY_CANCELED: &str = "57014";

/// Whether `err` is PostgreSQL cancelling the statement (see [`QUERY_CANCELED`]).
fn is_cancelled(err: &sqlx::Error) -> bool {
    pg_code(err) == Some(QUERY_CANCELED)
}

/// Whether `err` is PostgreSQL ending the connection it came on: SQLSTATE class 08
/// (connection exception) or 57 (operator intervention: a shutdown or restart, an
/// administrator's `pg_terminate_backend`) but for a cancelled statement.
fn is_ending_connection(err: &sqlx::Error) -> bool {
    pg_code(err)
        .is_some_and(|code| code.starts_with("08") || (code.starts_with("57") && code != QUERY_CANCELED))
}

/// Whether the connection `err` came on may be unusable: anything but an answer the database
/// gave to the query itself (a constraint, a syntax error, a cancelled statement), which
/// leaves it as it was.
fn may_break_connection(err: &sqlx::Error) -> bool {
    !matches!(err, sqlx::Error::Database(_)) || is_ending_connection(err)
}

/// PostgreSQL's SQLSTATE for `err`, if PostgreSQL answered with one.
fn pg_code(err: &sqlx::Error) -> Option<&str> {
    let sqlx::Error::Database(err) = err else { return None };
    err.try_downcast_ref::<PgDatabaseError>().map(PgDatabaseError::code)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use sqlx::SqlitePool;
    use sqlx::migrate::Migrator;
    use sqlx::sqlite::SqliteConnectOptions;

    use super::Db;
    use super::tracks::Page;

    /// The SQLite migration this test upgrades across: it rebuilds the search index.
    const REBUILDS_THE_SEARCH_INDEX: &str = "20261202000008";

    /// Copies the SQLite migrations older than `version` into `to`, as an older server had them.
    fn migrations_before(version: &str, to: &Path) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        for file in std::fs::read_dir(from).expect("the migrations") {
            let file = file.expect("a migration");
            if file.file_name().to_string_lossy().as_ref() < version {
                std::fs::copy(file.path(), to.join(file.file_name())).expect("copied");
            }
        }
    }

    /// The largest page of the search index, in bytes: FTS5 keeps its averages and its
    /// structure in rows 1 and 10 of its `_data` table, and its pages in the others.
    async fn largest_search_page(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT max(length(block)) FROM tracks_search_data WHERE id > 10")
            .fetch_one(pool)
            .await
            .expect("read")
    }

    /// Two processes started at once after an upgrade (two instances, or `tracklist user`
    /// while the server starts) both find the same migrations to apply.
    #[tokio::test(flavor = "multi_thread")]
    async fn servers_starting_at_once_on_a_new_file_both_open_it() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let url = format!("sqlite://{}", dir.path().join("tracklist.db").display());
            let (first, second) = tokio::join!(Db::connect(&url), Db::connect(&url));
            first.expect("the first opened it");
            second.expect("the second opened it");
        }
    }

    #[tokio::test]
    async fn the_search_index_is_rebuilt_on_small_pages_and_still_finds_every_track() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (older, file) = (dir.path().join("older"), dir.path().join("tracklist.db"));
        std::fs::create_dir(&older).expect("created");
        migrations_before(REBUILDS_THE_SEARCH_INDEX, &older);
        let options = SqliteConnectOptions::new().filename(&file).create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.expect("opened");
        Migrator::new(older.as_path()).await.expect("read").run(&pool).await.expect("migrated");
        sqlx::query(
            "INSERT INTO tracks (title, artist) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL \
             SELECT i + 1 FROM n WHERE i < 3000) SELECT 'Song ' || i, 'Artist ' || (i % 50) FROM n",
        )
        .execute(&pool)
        .await
        .expect("added");
        let before = largest_search_page(&pool).await;
        pool.close().await;

        let db = Db::connect(&format!("sqlite://{}", file.display())).await.expect("upgraded");
        let Db::Sqlite { pool, .. } = &db else { unreachable!("a SQLite URL") };
        let after = largest_search_page(pool).await;
        let catalogue = db.catalogue(std::time::Duration::from_secs(5)).expect("the catalogue's reads");
        let search = |term: &str| Page { term: Some(term.into()), skip: 0, limit: 20 };
        let by_title = catalogue.list(search("song 2999")).await.expect("searched");
        let by_artist = catalogue.list(search("artist 49")).await.expect("searched");

        assert!(before > 2000 && after <= 1100, "pages of up to {before} bytes, then {after}");
        assert_eq!(by_title.len, 1, "{by_title:?}");
        assert_eq!(by_artist.len, 20, "{by_artist:?}");
    }
}
