//! Read-only rusqlite connections to the SQLite file, for the hot reads: the catalogue and
//! the session loads.
//!
//! sqlx's SQLite driver gives every connection its own thread and passes each query and
//! each row across channels; for a page of 20 tracks that hand-off costs more than SQLite
//! does (measured with `scripts/bench.sh`: the list ran at 0.22× `/healthz` through sqlx,
//! 0.5–0.7× through these). These connections are called directly instead. Every write, and
//! the migrations, stay on sqlx; WAL lets these readers see each committed write without
//! blocking writers.

use std::path::Path;
use std::time::Duration;

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

    /// Runs `read` on the blocking pool: for reads whose cost grows with the catalogue
    /// (searches), so that they never hold up the requests sharing this thread.
    pub async fn slow<T: Send + 'static, E: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Error>
    where
        Error: From<E>,
    {
        let connection = self.connection().await?;
        Ok(tokio::task::spawn_blocking(move || read(&connection)).await??)
    }

    async fn connection(&self) -> Result<Object<Connection>, Error> {
        // No timer on the usual path, where a connection is free.
        match self.0.try_get() {
            Ok(connection) => Ok(connection),
            Err(_) => self.0.get().await.map_err(|_| Error::ReadersBusy),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Readers;
    use crate::db::Error;

    fn database() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let conn = rusqlite::Connection::open(dir.path().join("test.db")).expect("created");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);",
        )
        .expect("set up");
        dir
    }

    #[tokio::test]
    async fn a_read_that_finds_every_reader_busy_fails_in_bounded_time() {
        let dir = database();
        let readers =
            Readers::open(&dir.path().join("test.db"), 1, Duration::from_millis(100)).expect("opened");
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
        let dir = database();
        let readers =
            Readers::open(&dir.path().join("test.db"), 1, Duration::from_millis(100)).expect("opened");

        let write = readers.quick(|conn| conn.execute("DELETE FROM t", [])).await;

        assert!(matches!(write, Err(Error::Sqlite(_))), "{write:?}");
    }
}
