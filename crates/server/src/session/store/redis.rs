//! Sessions in Redis, shared by every instance; each record's key expires with it (EXAT).

use anyhow::Context;
use async_trait::async_trait;
use fred::prelude::{ClientLike, Expiration, KeysInterface, Pool, SetOptions, Value};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_redis_store::RedisStore;

use super::{Backend, backend_error, encode};

#[derive(Debug, Clone)]
pub struct RedisSessions {
    store: RedisStore<Pool>,
    pool: Pool,
}

impl RedisSessions {
    pub fn new(pool: Pool) -> Self {
        Self { store: RedisStore::new(pool.clone()), pool }
    }
}

#[async_trait]
impl Backend for RedisSessions {
    async fn ping(&self) -> anyhow::Result<()> {
        self.pool.ping::<()>(None).await.context("Redis does not answer")
    }
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    /// `SET … XX`, as `RedisStore::save` does, but a key that is gone is not an error: that
    /// store reads Redis's nil answer as a failure, which would fail the request.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let expiry = Expiration::EXAT(record.expiry_date.unix_timestamp());
        self.pool
            .set::<Value, _, _>(
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

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.store.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.delete(id).await
    }
}
