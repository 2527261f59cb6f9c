//! Read-only rusqlite connections to the SQLite file, for the hot reads: the catalogue and
//! the session loads.
//!
//! sqlx's SQLite driver gives every connection its own thread and passes each query and
//! each row across channels; for a page of 20 tracks that hand-off costs more than SQLite
//! does (measured with `scripts/bench.sh`: the list ran at 0.22× `/healthz` through sqlx,
//! 0.5–0.7× through these). These connections are called directly instead. Every write, and
//! the migrations, stay on sqlx; WAL lets these readers see each committed write without
//! blocking writers.

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use deadpool::Runtime;
use deadpool::unmanaged::{Object, Pool, PoolConfig};
use rusqlite::{Connection, OpenFlags};

use super::Error;

/// A fixed set of read-only connections.
#[derive(Clone)]
pub struct Readers(Pool<Connection>);

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Readers").field(&self.0.status()).finish()
    }
}

impl Readers {
    /// Opens `count` read-only connections to the (existing, migrated) database at `path`;
    /// a read that cannot get one within `wait` fails with [`Error::ReadersBusy`].
    pub fn open(path: &Path, count: usize, wait: Duration) -> anyhow::Result<Self> {
        let config =
            PoolConfig { timeout: Some(wait), runtime: Some(Runtime::Tokio1), ..PoolConfig::new(count) };
        let pool = Pool::from_config(&config);
        for _ in 0..count {
            let connection = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_context(|| format!("cannot open {} for reading", path.display()))?;
            // Readers under WAL wait only in rare cases (recovery after a crash); wait then,
            // as the sqlx connections do, rather than fail the request.
            connection.busy_timeout(Duration::from_secs(5))?;
            // Stops a bounded read once its deadline passes; does nothing for other reads.
            connection.progress_handler(STEPS_BETWEEN_LOOKS, Some(past_deadline));
            pool.try_add(connection).map_err(|(_, err)| anyhow::anyhow!("cannot pool a reader: {err}"))?;
        }
        Ok(Self(pool))
    }

    /// Runs `read` on this thread: only for reads that are small whatever the catalogue's
    /// size (a page near the start, one row by id) and take microseconds, less than handing
    /// them to another thread would.
    pub async fn quick<T, E>(&self, read: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, Error>
    where
        Error: From<E>,
    {
        let connection = self.connection().await?;
        Ok(read(&connection)?)
    }

    /// Runs `read` on this thread for up to about `budget`, then, if it is not done, again on
    /// the blocking pool on one of `then`'s connections: for reads that are quick in the usual
    /// case but whose cost cannot be told in advance (searches), so that the usual case stays
    /// on the request's thread and no read holds it, or these connections, for longer than
    /// the budget. Either way the read is stopped once `limit` has passed since this call,
    /// and fails with [`Error::TimedOut`].
    pub async fn bounded<T: Send + 'static, E: Send + 'static>(
        &self,
        budget: Duration,
        then: &Readers,
        limit: Duration,
        read: impl Fn(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        let deadline = deadline_after(limit);
        let connection = self.connection().await?;
        match until(deadline_after(budget).min(deadline), || read(&connection)).map_err(Error::from) {
            Err(err) if err.is_interrupted() && Instant::now() < deadline => {
                drop(connection);
                on_blocking_pool(then.connection().await?, Some(deadline), read).await
            }
            Err(err) if err.is_interrupted() => Err(Error::TimedOut),
            done => done,
        }
    }

    /// Runs `read` on the blocking pool: for reads whose cost grows with the catalogue (pages
    /// far in), so that they never hold up the requests sharing this thread.
    pub async fn slow<T: Send + 'static, E: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        on_blocking_pool(self.connection().await?, None, read).await
    }

    /// [`Readers::slow`], stopped once `limit` has passed ([`Error::TimedOut`]): for reads
    /// whose cost has no bound but the catalogue's size (searches far in).
    pub async fn slow_within<T: Send + 'static, E: Send + 'static>(
        &self,
        limit: Duration,
        read: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        on_blocking_pool(self.connection().await?, Some(deadline_after(limit)), read).await
    }

    async fn connection(&self) -> Result<Object<Connection>, Error> {
        // No timer on the usual path, where a connection is free.
        match self.0.try_get() {
            Ok(connection) => Ok(connection),
            Err(_) => self.0.get().await.map_err(|_| Error::ReadersBusy),
        }
    }
}

/// Runs `read` on `connection` on the blocking pool, stopped at `deadline` if there is one.
async fn on_blocking_pool<T: Send + 'static, E: Send + 'static>(
    connection: Object<Connection>,
    deadline: Option<Instant>,
    read: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
) -> Result<T, Error>
where
    Error: From<E>,
{
    let read = move || match deadline {
        Some(deadline) => until(deadline, || read(&connection)).map_err(Error::from),
        None => read(&connection).map_err(Error::from),
    };
    match tokio::task::spawn_blocking(read).await? {
        Err(err) if err.is_interrupted() => Err(Error::TimedOut),
        done => done,
    }
}

/// SQLite calls the progress handler about every this many steps of its virtual machine:
/// inside an FTS5 scan, whose own loops never look for an interrupt, that is once every
/// 15–30 µs (measured on 300 000 tracks), as each page of the index is read.
const STEPS_BETWEEN_LOOKS: i32 = 50;

thread_local! {
    /// When the read under way on this thread must stop (see [`Readers::bounded`]); `None`
    /// outside bounded reads, so the others run to the end.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The readers' progress handler: `true` interrupts the statement under way.
fn past_deadline() -> bool {
    DEADLINE.get().is_some_and(|deadline| Instant::now() >= deadline)
}

/// `limit` from now. A limit of more than a day is as good as none, and is held to a day so
/// that no limit can run past the clock's range.
fn deadline_after(limit: Duration) -> Instant {
    const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);
    Instant::now() + limit.min(LONGEST)
}

/// Runs `read` with this thread's [`DEADLINE`] at `deadline`, and none after it returns (or
/// panics).
fn until<T>(deadline: Instant, read: impl FnOnce() -> T) -> T {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            DEADLINE.set(None);
        }
    }
    DEADLINE.set(Some(deadline));
    let _clear = Clear;
    read()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::thread::{self, ThreadId};
    use std::time::Duration;

    use super::{Readers, STEPS_BETWEEN_LOOKS};
    use crate::db::Error;

    const ONE_ROW: &str = "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);";

    /// A WAL database set up by `setup`, and readers on it.
    fn database(setup: &str) -> (tempfile::TempDir, Readers) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("test.db");
        let conn = rusqlite::Connection::open(&path).expect("created");
        conn.execute_batch("PRAGMA journal_mode = WAL;").expect("WAL");
        conn.execute_batch(setup).expect("set up");
        let readers = Readers::open(&path, 1, Duration::from_millis(100)).expect("opened");
        (dir, readers)
    }

    /// `sql`'s integers, read through [`Readers::bounded`] with no time limit to speak of, and
    /// the thread each attempt ran on.
    async fn bounded(readers: &Readers, budget: Duration, sql: &'static str) -> (Vec<i64>, Vec<ThreadId>) {
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&attempts);
        let read = move |conn: &rusqlite::Connection| {
            seen.lock().expect("not poisoned").push(thread::current().id());
            conn.prepare(sql)?.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()
        };
        let answer = readers.bounded(budget, readers, Duration::from_secs(60), read).await.expect("answered");
        let attempts = attempts.lock().expect("not poisoned").clone();
        (answer, attempts)
    }

    #[tokio::test]
    async fn a_read_that_finds_every_reader_busy_fails_in_bounded_time() {
        let (_dir, readers) = database(ONE_ROW);
        let read =
            |conn: &rusqlite::Connection| conn.query_row("SELECT x FROM t", [], |row| row.get::<_, i64>(0));

        let held = readers.connection().await.expect("the only connection");
        let busy =
            tokio::time::timeout(Duration::from_secs(5), readers.quick(read)).await.expect("no endless wait");
        drop(held);

        assert!(matches!(busy, Err(Error::ReadersBusy)), "{busy:?}");
        assert!(Error::ReadersBusy.is_unavailable(), "answered as 503, not 500");
        assert_eq!(readers.quick(read).await.expect("the connection came back"), 7);
    }

    #[tokio::test]
    async fn readers_cannot_write() {
        let (_dir, readers) = database(ONE_ROW);

        let write = readers.quick(|conn| conn.execute("DELETE FROM t", [])).await;

        assert!(matches!(write, Err(Error::Sqlite(_))), "{write:?}");
    }

    #[tokio::test]
    async fn a_bounded_read_within_its_budget_runs_once_on_the_asking_thread() {
        let (_dir, readers) = database(ONE_ROW);

        let (answer, attempts) = bounded(&readers, Duration::from_secs(10), "SELECT x FROM t").await;

        assert_eq!(answer, [7]);
        assert_eq!(attempts, [thread::current().id()]);
    }

    /// Counts to a million: tens of milliseconds at the least.
    const COUNT: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
        SELECT count(*) FROM n";

    /// Counts `sql`'s rows.
    fn count(sql: &'static str) -> impl Fn(&rusqlite::Connection) -> rusqlite::Result<i64> + Copy {
        move |conn| conn.query_row(sql, [], |row| row.get(0))
    }

    #[tokio::test]
    async fn a_bounded_read_past_its_budget_is_stopped_and_read_again_on_the_blocking_pool() {
        let (_dir, readers) = database(ONE_ROW);

        let (answer, attempts) = bounded(&readers, Duration::from_millis(1), COUNT).await;

        assert_eq!(answer, [1_000_000], "the read on the pool runs to the end");
        assert_eq!(attempts.len(), 2, "{attempts:?}");
        assert_eq!(attempts[0], thread::current().id());
        assert_ne!(attempts[1], thread::current().id());
        let (answer, attempts) = bounded(&readers, Duration::from_secs(10), "SELECT x FROM t").await;
        assert_eq!((answer, attempts.len()), (vec![7], 1), "the connection is not left interrupted");
    }

    #[tokio::test]
    async fn a_read_past_its_time_limit_is_stopped_wherever_it_runs_and_the_reader_reads_on() {
        let (_dir, readers) = database(ONE_ROW);
        let limit = Duration::from_millis(2);

        let past_budget = readers.bounded(Duration::from_micros(200), &readers, limit, count(COUNT)).await;
        let within_budget = readers.bounded(Duration::from_secs(10), &readers, limit, count(COUNT)).await;
        let on_the_pool = readers.slow_within(limit, count(COUNT)).await;

        for stopped in [past_budget, within_budget, on_the_pool] {
            assert!(matches!(stopped, Err(Error::TimedOut)), "{stopped:?}");
        }
        let one_row = readers.slow_within(Duration::from_secs(10), count("SELECT x FROM t")).await;
        assert_eq!(one_row.expect("the reader is not left interrupted"), 7);
        let unlimited = readers.slow(count(COUNT)).await;
        assert_eq!(unlimited.expect("no limit, no stop"), 1_000_000);
    }

    /// FTS5's own loops never look for an interrupt; what stops a search is the progress
    /// handler running as each page of the index is read.
    #[tokio::test]
    async fn a_search_that_walks_the_index_is_stopped_inside_the_walk() {
        let (_dir, readers) = database(
            "CREATE VIRTUAL TABLE s USING fts5 (title, artist, tokenize = 'trigram');
            INSERT INTO s (s, rank) VALUES ('pgsz', 1000);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
            INSERT INTO s (rowid, title, artist) SELECT i, 'Song ' || i, 'Artist ' || (i % 500) FROM n;",
        );
        // Every trigram of the term is common, the phrase is in no row: the walk reads the
        // index to its end.
        const ABSENT: &str = "SELECT rowid FROM s WHERE s MATCH '\"artist 1000\"'";
        let steps = readers
            .quick(|conn| {
                let mut statement = conn.prepare(ABSENT)?;
                statement.query_map([], |row| row.get::<_, i64>(0))?.count();
                Ok::<_, rusqlite::Error>(statement.get_status(rusqlite::StatementStatus::VmStep))
            })
            .await
            .expect("read");
        assert!(steps < STEPS_BETWEEN_LOOKS, "the statement's own steps ({steps}) never call the handler");

        let (answer, attempts) = bounded(&readers, Duration::ZERO, ABSENT).await;

        assert_eq!(answer, Vec::<i64>::new());
        assert_eq!(attempts.len(), 2, "stopped on the asking thread, then read on the pool: {attempts:?}");
    }
}
