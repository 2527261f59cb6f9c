//! Where session records live: the application database (default), or Redis when several
//! instances share sessions (`--session-store redis://…`), with record TTLs doing the expiry.
//!
//! Revocation is final (SECURITY.md 24) only if nothing re-creates a deleted record.
//! tower-sessions saves a modified session when its response leaves, and a request that
//! loaded the session before it was revoked may still be running; the sqlx stores' `save` is
//! an upsert, so that save would bring the session back. Here `save` only ever updates a
//! record that exists, on every backend; only `create` (sign-in, id rotation) makes one.

mod memory;

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{
    Builder, ClientLike, Config as RedisConfig, Expiration, KeysInterface, Pool as RedisPool,
    ReconnectPolicy, SetOptions, Value,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::clock;
use crate::db::{Db, Readers, on_backend};

use self::memory::MemoryStore;

/// A command that gets no answer this fast fails, and the request answers 503.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub enum Store {
    /// Records are created through `store`, updated in `db` (see [`update_in_database`]) and
    /// read back through `db`'s readers (see [`load_sqlite`]).
    Sqlite {
        store: SqliteStore,
        db: Db,
    },
    /// Records are created and read through `store`, updated in `db`.
    Postgres {
        store: PostgresStore,
        db: Db,
    },
    Redis {
        store: RedisStore<RedisPool>,
        pool: RedisPool,
    },
    /// In this process only: for measuring what the durable stores cost.
    Memory(MemoryStore),
}

impl Store {
    /// The store `--session-store` names (a Redis URL, or `memory`), else the database's own
    /// session table (created if needed).
    pub async fn open(db: &Db, session_store: Option<&str>) -> anyhow::Result<Self> {
        if session_store == Some("memory") {
            return Ok(Self::Memory(MemoryStore::default()));
        }
        if let Some(url) = session_store {
            let pool = connect_redis(url).await?;
            return Ok(Self::Redis { store: RedisStore::new(pool.clone()), pool });
        }
        Ok(match db {
            Db::Sqlite { pool, .. } => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await.context("cannot create the session table")?;
                Self::Sqlite { store, db: db.clone() }
            }
            Db::Postgres { pool, .. } => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await.context("cannot create the session table")?;
                Self::Postgres { store, db: db.clone() }
            }
        })
    }

    /// The Redis connection, when sessions live there (throttling counters go with them).
    pub fn redis(&self) -> Option<&RedisPool> {
        match self {
            Self::Redis { pool, .. } => Some(pool),
            _ => None,
        }
    }

    /// Whether the store answers (for `/readyz`); the database ones are checked with the database.
    pub async fn ping(&self) -> anyhow::Result<()> {
        if let Self::Redis { pool, .. } = self {
            pool.ping::<()>(None).await.context("Redis does not answer")?;
        }
        Ok(())
    }

    /// Deletes expired records; Redis expires its keys by itself.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Self::Sqlite { store, .. } => store.delete_expired().await,
            Self::Postgres { store, .. } => store.delete_expired().await,
            Self::Memory(store) => {
                store.delete_expired();
                Ok(())
            }
            // Redis expires keys by itself.
            Self::Redis { .. } => Ok(()),
        }
    }
}

/// Every request with a cookie loads its session, so on SQLite the load skips sqlx's worker
/// thread (as the catalogue's reads do, see `db::readers`): the same query as
/// `SqliteStore::load` on the same table, decoded the same way (MessagePack). Writes stay with
/// the store. The API tests sign in and load sessions through this path throughout.
async fn load_sqlite(readers: &Readers, id: &Id) -> session_store::Result<Option<Record>> {
    const SQL: &str = "SELECT data FROM tower_sessions WHERE id = ?1 AND expiry_date > ?2";
    let id = id.to_string();
    // The store writes the deadline as RFC 3339 text and compares it as text, so do we.
    let now = clock::now_rfc3339();
    let data: Option<Vec<u8>> = readers
        .quick(move |conn| conn.prepare_cached(SQL)?.query_row(params![id, now], |row| row.get(0)).optional())
        .await
        .map_err(backend_error)?;
    data.map(|data| rmp_serde::from_slice(&data).map_err(|err| session_store::Error::Decode(err.to_string())))
        .transpose()
}

/// Updates the record if it still exists (see the module doc), in the table and encoding of
/// the sqlx store for `db`'s engine, whose `save` would insert it again.
async fn update_in_database(db: &Db, record: &Record) -> session_store::Result<()> {
    let sql = match db {
        Db::Sqlite { .. } => "UPDATE tower_sessions SET data = $1, expiry_date = $2 WHERE id = $3",
        Db::Postgres { .. } => {
            r#"UPDATE "tower_sessions"."session" SET data = $1, expiry_date = $2 WHERE id = $3"#
        }
    };
    let data = encode(record)?;
    let id = record.id.to_string();
    on_backend!(db, pool => {
        sqlx::query(sql).bind(&data).bind(record.expiry_date).bind(&id).execute(pool).await.map(drop)
    })
    .map_err(backend_error)
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|err| session_store::Error::Encode(err.to_string()))
}

fn backend_error(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// `SET … XX`, as `RedisStore::save` does, but a key that is gone is not an error: that store
/// reads Redis's nil answer as a failure, which would fail the request.
async fn update_redis(pool: &RedisPool, record: &Record) -> session_store::Result<()> {
    let expiry = Expiration::EXAT(record.expiry_date.unix_timestamp());
    pool.set::<Value, _, _>(
        record.id.to_string(),
        encode(record)?,
        Some(expiry),
        Some(SetOptions::XX),
        false,
    )
    .await
    .map_err(backend_error)?;
    Ok(())
}

async fn connect_redis(url: &str) -> anyhow::Result<RedisPool> {
    let config = RedisConfig::from_url(url).context("invalid --session-store URL")?;
    let pool = Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = REDIS_TIMEOUT;
            connection.internal_command_timeout = REDIS_TIMEOUT;
        })
        .with_performance_config(|performance| performance.default_command_timeout = REDIS_TIMEOUT)
        // Keep reconnecting while Redis is away: requests fail fast meanwhile, and everything
        // works again as soon as it is back.
        .set_policy(ReconnectPolicy::new_constant(0, 250))
        .build_pool(4)
        .context("invalid Redis configuration")?;
    pool.init().await.with_context(|| format!("cannot connect to Redis at {url}"))?;
    Ok(pool)
}

/// Delegates to the chosen store.
#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite { store, .. } => store.create(record).await,
            Self::Postgres { store, .. } => store.create(record).await,
            Self::Redis { store, .. } => store.create(record).await,
            Self::Memory(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite { db, .. } | Self::Postgres { db, .. } => update_in_database(db, record).await,
            Self::Redis { pool, .. } => update_redis(pool, record).await,
            Self::Memory(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite { db: Db::Sqlite { readers, .. }, .. } => load_sqlite(readers, id).await,
            // Not reached: a SQLite store always sits on a SQLite `Db`.
            Self::Sqlite { store, .. } => store.load(id).await,
            Self::Postgres { store, .. } => store.load(id).await,
            Self::Redis { store, .. } => store.load(id).await,
            Self::Memory(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite { store, .. } => store.delete(id).await,
            Self::Postgres { store, .. } => store.delete(id).await,
            Self::Redis { store, .. } => store.delete(id).await,
            Self::Memory(store) => store.delete(id).await,
        }
    }
}
