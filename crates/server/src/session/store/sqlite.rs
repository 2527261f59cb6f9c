//! Sessions in the SQLite database's `tower_sessions` table: created and expired through
//! tower-sessions-sqlx-store, updated only in place (see the parent module), and loaded
//! through the database's read-only connections.

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

use super::{Backend, backend_error, update_in_database};
use crate::clock;
use crate::db::{Db, Readers};

#[derive(Debug, Clone)]
pub struct SqliteSessions {
    store: SqliteStore,
    db: Db,
    readers: Readers,
}

impl SqliteSessions {
    /// `db` must be a SQLite database.
    pub async fn open(db: &Db) -> anyhow::Result<Self> {
        let Db::Sqlite { pool, readers } = db else { anyhow::bail!("not a SQLite database") };
        let store = SqliteStore::new(pool.clone());
        store.migrate().await.context("cannot create the session table")?;
        Ok(Self { store, db: db.clone(), readers: readers.clone() })
    }
}

#[async_trait]
impl Backend for SqliteSessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.store.delete_expired().await
    }
}

#[async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        const SQL: &str = "UPDATE tower_sessions SET data = $1, expiry_date = $2 WHERE id = $3";
        update_in_database(&self.db, SQL, record).await
    }

    /// Every request with a cookie loads its session, so the load skips sqlx's worker thread
    /// (as the catalogue's reads do, see `db::readers`): the same query as
    /// `SqliteStore::load` on the same table, decoded the same way (MessagePack).
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        const SQL: &str = "SELECT data FROM tower_sessions WHERE id = ?1 AND expiry_date > ?2";
        let id = id.to_string();
        // The store writes the deadline as RFC 3339 text and compares it as text, so do we.
        let now = clock::now_rfc3339();
        let data: Option<Vec<u8>> = self
            .readers
            .quick(move |conn| {
                conn.prepare_cached(SQL)?.query_row(params![id, now], |row| row.get(0)).optional()
            })
            .await
            .map_err(backend_error)?;
        data.map(|data| {
            rmp_serde::from_slice(&data).map_err(|err| session_store::Error::Decode(err.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}
