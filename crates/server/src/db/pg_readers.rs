//! PostgreSQL connections for the hot reads (a catalogue page, search or track, the
//! catalogue's version, session loads), held here rather than in sqlx's pool.
//!
//! sqlx's pool makes a round trip when it hands a connection out (`test_before_acquire`) and
//! another when it takes one back (always: to flush what a cancelled query may have left),
//! so one read cost PostgreSQL three round trips. Measured with the catalogue list and its
//! page cache off, three servers on one database taking turns for six rounds: 4 400 req/s
//! through the pool, 5 200 without the first ping, 6 900 on connections held here.
//!
//! Nothing is lost by skipping them: sqlx reads whatever a cancelled query left on a
//! connection before it sends the next one; a connection idle for a while (PostgreSQL may
//! have restarted meanwhile) is pinged before it is used; and one whose read failed in a way
//! that may have broken it (PostgreSQL ending it, or anything but an answer to the query) is
//! dropped, so the next read opens a new one, and that read is answered 503.

use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Object, Pool, PoolConfig, PoolError, RecycleResult, Timeouts};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use super::{Error, PING_WHEN_IDLE_FOR, is_cancelled, may_break_connection};

/// Up to `size` connections, opened when first needed.
#[derive(Clone)]
pub struct PgReaders {
    pool: Pool<Connector>,
    /// Whether PostgreSQL stops these connections' statements after a time (see
    /// [`PgReaders::new`]).
    limited: bool,
}

impl std::fmt::Debug for PgReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PgReaders").field(&self.pool.status()).finish()
    }
}

/// Opens and checks the connections.
struct Connector(PgConnectOptions);

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.0.connect().await
    }

    async fn recycle(&self, connection: &mut PgConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.last_used() > PING_WHEN_IDLE_FOR {
            connection.ping().await?;
        }
        Ok(())
    }
}

impl PgReaders {
    /// A read that cannot get a connection within `wait` (including opening one, or the ping
    /// of an idle one) fails as the database being unavailable.
    ///
    /// Each statement is prepared once per connection (sqlx keeps it), so a read is one round
    /// trip, and has one plan whatever its parameters: each of these reads has one best plan
    /// (a primary key, a page in id order, a trigram's tracks in id order). By default
    /// PostgreSQL plans a prepared statement anew on each run as long as its generic plan
    /// looks costlier than the runs' own, which it always does for `LIMIT $1` (a tenth of the
    /// table, it guesses): a catalogue page spent more time being planned (48 µs) than run
    /// (33 µs).
    ///
    /// With a `limit`, PostgreSQL stops any statement on these connections that runs longer
    /// (`statement_timeout`), and the read fails with [`Error::TimedOut`]: the statement
    /// ends in PostgreSQL itself, where dropping the request would leave it running.
    pub fn new(
        options: PgConnectOptions,
        size: usize,
        wait: Duration,
        limit: Option<Duration>,
    ) -> anyhow::Result<Self> {
        let mut options = options.options([("plan_cache_mode", "force_generic_plan")]);
        if let Some(limit) = limit {
            // In milliseconds, at least one (0 would turn the limit off) and at most what
            // PostgreSQL takes (an `int`, about 24 days).
            let millis = limit.as_millis().clamp(1, i32::MAX as u128).to_string();
            options = options.options([("statement_timeout", millis.as_str())]);
        }
        let timeouts = Timeouts { wait: Some(wait), create: Some(wait), recycle: Some(wait) };
        let pool = Pool::builder(Connector(options))
            .config(PoolConfig { timeouts, ..PoolConfig::new(size) })
            .runtime(Runtime::Tokio1)
            .build()?;
        Ok(Self { pool, limited: limit.is_some() })
    }

    /// Runs `read` on one of these connections, then returns the connection for the next
    /// read, or drops it if the read failed in a way that may have broken it.
    pub async fn read<T>(
        &self,
        read: impl AsyncFnOnce(&mut PgConnection) -> sqlx::Result<T>,
    ) -> Result<T, Error> {
        let mut connection = match self.pool.get().await {
            Ok(connection) => connection,
            Err(PoolError::Backend(err)) => return Err(err.into()),
            Err(PoolError::Timeout(_)) => return Err(sqlx::Error::PoolTimedOut.into()),
            Err(_) => return Err(sqlx::Error::PoolClosed.into()),
        };
        let result = read(&mut connection).await;
        if result.as_ref().is_err_and(may_break_connection) {
            drop(Object::take(connection));
        }
        match result {
            Err(err) if self.limited && is_cancelled(&err) => Err(Error::TimedOut),
            result => Ok(result?),
        }
    }
}
