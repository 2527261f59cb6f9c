//! Sessions in the PostgreSQL database, in tower-sessions-sqlx-store's table: created, loaded
//! and expired by that store, updated only in place (see the parent module).

use anyhow::Context;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::PostgresStore;

use super::{Backend, Indexed, backend_error, update_in_database};
use crate::db::Db;
use crate::db::users::Account;

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

    /// One round trip instead of two for every signed-in request.
    async fn load_indexed(&self, id: &Id) -> session_store::Result<Option<Indexed>> {
        const SQL: &str = r#"SELECT s.data, x.reference,
                u.id, u.username, u.password_hash, u.is_admin, u.disabled
            FROM "tower_sessions"."session" s
            LEFT JOIN user_sessions x ON x.session_id = s.id
            LEFT JOIN users u ON u.id = x.user_id
            WHERE s.id = $1 AND s.expiry_date > $2"#;
        type Row = (
            Vec<u8>,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<bool>,
            Option<bool>,
        );
        let Db::Postgres { readers, .. } = &self.db else { return Ok(None) };
        let read = sqlx::query_as(SQL).bind(id.to_string()).bind(time::OffsetDateTime::now_utc());
        let row: Option<Row> =
            readers.read(async |conn| read.fetch_optional(conn).await).await.map_err(backend_error)?;
        let Some((data, reference, user_id, username, password_hash, is_admin, disabled)) = row else {
            return Ok(None);
        };
        let account = match (reference, user_id, username, password_hash, is_admin, disabled) {
            (
                Some(reference),
                Some(id),
                Some(username),
                Some(password_hash),
                Some(is_admin),
                Some(disabled),
            ) => Some((reference, Account { id, username, password_hash, is_admin, disabled })),
            _ => None,
        };
        Ok(Some(Indexed { record: data, account }))
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
