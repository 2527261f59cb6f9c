//! Sessions in the PostgreSQL database, in tower-sessions-sqlx-store's table: created, loaded
//! and expired by that store, updated only in place (see the parent module).

use anyhow::Context;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::PostgresStore;

use super::{Backend, update_in_database};
use crate::db::Db;

#[derive(Debug, Clone)]
pub struct PostgresSessions {
    store: PostgresStore,
    db: Db,
}

impl PostgresSessions {
    /// `db` must be a PostgreSQL database.
    pub async fn open(db: &Db) -> anyhow::Result<Self> {
        let Db::Postgres { pool, .. } = db else { anyhow::bail!("not a PostgreSQL database") };
        let store = PostgresStore::new(pool.clone());
        store.migrate().await.context("cannot create the session table")?;
        Ok(Self { store, db: db.clone() })
    }
}

#[async_trait]
impl Backend for PostgresSessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.store.delete_expired().await
    }
}

#[async_trait]
impl SessionStore for PostgresSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        const SQL: &str =
            r#"UPDATE "tower_sessions"."session" SET data = $1, expiry_date = $2 WHERE id = $3"#;
        update_in_database(&self.db, SQL, record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.store.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}
