//! Queries on `trusted_devices`, the devices that signed in before (see `auth::device`).

use super::{Db, on_backend};

/// A device row, with the username it was trusted for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrustedDevice {
    pub verifier_digest: Vec<u8>,
    pub username: String,
}

pub async fn insert(
    db: &Db,
    selector: &str,
    verifier_digest: &[u8],
    user_id: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    const SQL: &str = "INSERT INTO trusted_devices (selector, verifier_digest, user_id, expires_at) VALUES ($1, $2, $3, $4)";
    on_backend!(db, pool => {
        sqlx::query(SQL).bind(selector).bind(verifier_digest).bind(user_id).bind(expires_at).execute(pool).await.map(drop)
    })
}

/// The unexpired device under `selector`.
pub async fn find(db: &Db, selector: &str, now_millis: i64) -> sqlx::Result<Option<TrustedDevice>> {
    const SQL: &str = "SELECT d.verifier_digest, u.username
        FROM trusted_devices d JOIN users u ON u.id = d.user_id
        WHERE d.selector = $1 AND d.expires_at > $2";
    on_backend!(db, pool => sqlx::query_as(SQL).bind(selector).bind(now_millis).fetch_optional(pool).await)
}

pub async fn delete_expired(db: &Db, now_millis: i64) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM trusted_devices WHERE expires_at <= $1";
    Ok(on_backend!(db, pool => sqlx::query(SQL).bind(now_millis).execute(pool).await?.rows_affected()))
}
