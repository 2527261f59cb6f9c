//! Sessions in the SQLite database's `tower_sessions` table: created and expired through
//! tower-sessions-sqlx-store, updated only in place (see the parent module), and loaded
//! through the database's read-only connections.

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::SqliteStore;

use super::{Backend, Indexed, backend_error, decode, update_in_database};
use crate::clock;
use crate::db::users::Account;
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
        let Db::Sqlite { pool, readers, .. } = db else { anyhow::bail!("not a SQLite database") };
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

    /// Every signed-in request starts here: one statement, in one read transaction, on this
    /// thread. (Apart, the record and the account cost two transactions, and a profile of
    /// `/users/me` put most of each in SQLite's WAL locking.)
    async fn load_indexed(&self, id: &Id) -> session_store::Result<Option<Indexed>> {
        const SQL: &str = "SELECT s.data, x.reference,
                u.id, u.username, u.password_hash, u.is_admin, u.disabled
            FROM tower_sessions s
            LEFT JOIN user_sessions x ON x.session_id = s.id
            LEFT JOIN users u ON u.id = x.user_id
            WHERE s.id = ?1 AND s.expiry_date > ?2";
        let id = id.to_string();
        let now = clock::now_rfc3339();
        let row = self
            .readers
            .quick(move |conn| {
                conn.prepare_cached(SQL)?
                    .query_row(params![id, now], |row| {
                        let data: Vec<u8> = row.get(0)?;
                        let account = match row.get::<_, Option<String>>(1)? {
                            Some(reference) => Some((reference, Account::from_sqlite(row, 2)?)),
                            None => None,
                        };
                        Ok((data, account))
                    })
                    .optional()
            })
            .await
            .map_err(backend_error)?;
        Ok(row.map(|(record, account)| Indexed { record, account }))
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
        data.map(|data| decode(&data)).transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}
