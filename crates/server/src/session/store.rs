//! Where session records live, one small type per backend behind one interface: the
//! application database's own session table (SQLite or PostgreSQL, the default), Redis when
//! several instances share sessions, or this process's memory (the benchmark's baseline).
//!
//! Revocation is final (SECURITY.md 24) only if nothing re-creates a deleted record.
//! tower-sessions saves a modified session when its response leaves, and a request that
//! loaded the session before it was revoked may still be running; the sqlx stores' `save` is
//! an upsert, so that save would bring the session back. Here `save` only ever updates a
//! record that exists, on every backend; only `create` (sign-in, id rotation) makes one.

mod memory;
mod postgres;
mod redis;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use fred::prelude::Pool as RedisPool;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::config::SessionStoreChoice;
use crate::db::Db;
use crate::db::users::Account;

/// The session store `--session-store` chose.
#[derive(Debug, Clone)]
pub struct Store(Arc<dyn Backend>);

/// What a backend offers beyond tower-sessions' four operations.
#[async_trait]
trait Backend: SessionStore {
    /// Whether the store answers (for `/readyz`); the database ones answer with the database.
    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }

    /// Deletes expired records, for stores that do not expire them by themselves.
    async fn delete_expired(&self) -> session_store::Result<()> {
        Ok(())
    }

    /// `id`'s live record with the index row that points at it and that row's account, read
    /// in one statement. `None` when there is no such record, and from stores that keep
    /// records away from the database (the caller then loads the record and the account one
    /// after the other).
    async fn load_indexed(&self, _id: &Id) -> session_store::Result<Option<Indexed>> {
        Ok(None)
    }
}

/// A session record read together with what the per-user index says about it.
#[derive(Debug)]
pub struct Indexed {
    /// The record as the store keeps it; [`decode_data`] reads what the caller needs of it.
    pub record: Vec<u8>,
    /// The reference of the index row pointing at this session, and that row's account;
    /// `None` when no row points at it (revoked, or rotated to a new id).
    pub account: Option<(String, Account)>,
}

impl Store {
    /// The chosen store: `redis` must be the connection when Redis is chosen; the database's
    /// session table is created if needed.
    pub async fn open(
        db: &Db,
        choice: &SessionStoreChoice,
        redis: Option<RedisPool>,
    ) -> anyhow::Result<Self> {
        Ok(Self(match (choice, redis) {
            (SessionStoreChoice::Memory, _) => Arc::new(memory::MemoryStore::default()),
            (SessionStoreChoice::Redis(_), Some(pool)) => Arc::new(redis::RedisSessions::new(pool)),
            (SessionStoreChoice::Redis(url), None) => anyhow::bail!("no Redis connection for {url}"),
            (SessionStoreChoice::Database, _) => match db {
                Db::Sqlite { .. } => Arc::new(sqlite::SqliteSessions::open(db).await?),
                Db::Postgres { .. } => Arc::new(postgres::PostgresSessions::open(db).await?),
            },
        }))
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        self.0.ping().await
    }

    pub async fn delete_expired(&self) -> session_store::Result<()> {
        self.0.delete_expired().await
    }

    /// See [`Backend::load_indexed`].
    pub async fn load_indexed(&self, id: &Id) -> session_store::Result<Option<Indexed>> {
        self.0.load_indexed(id).await
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// The records' encoding, as every tower-sessions store writes them.
fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|err| session_store::Error::Encode(err.to_string()))
}

/// A whole [`Record`], or (for [`decode_data`]) any other shape of one, from that encoding.
fn decode<T: DeserializeOwned>(data: &[u8]) -> session_store::Result<T> {
    rmp_serde::from_slice(data).map_err(|err| session_store::Error::Decode(err.to_string()))
}

/// An encoded record's data decoded straight into `D`, a struct naming the entries it reads
/// (the others are skipped). Decoding the whole [`Record`] first builds a JSON value for every
/// entry (a sign-in's credential epoch becomes 32 numbers), only for the caller to decode one
/// of them again: that was 5% of the samples of `GET /users/me`.
pub fn decode_data<D: DeserializeOwned>(record: &[u8]) -> session_store::Result<D> {
    /// [`Record`]'s fields, in its order: `rmp_serde::to_vec`, which every tower-sessions
    /// store uses, writes a struct as the array of its fields.
    #[derive(Deserialize)]
    struct Fields<D>(IgnoredAny, D, IgnoredAny);
    let Fields(_id, data, _expiry_date) = decode(record)?;
    Ok(data)
}

fn backend_error(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// Updates the record if it still exists (see the module doc) with `sql`, an `UPDATE` of the
/// sqlx store's table setting `data = $1, expiry_date = $2` for `id = $3`, in that store's
/// encoding; its own `save` would insert the record again.
async fn update_in_database(db: &Db, sql: &'static str, record: &Record) -> session_store::Result<()> {
    let data = encode(record)?;
    let id = record.id.to_string();
    crate::db::on_backend!(db, pool => {
        sqlx::query(sql).bind(&data).bind(record.expiry_date).bind(&id).execute(pool).await.map(drop)
    })
    .map_err(backend_error)
}
