//! Queries on `one_time_links` (see `auth::links`).

use shared::LinkPurpose;

use super::{Db, on_backend};

/// How a link's purpose is stored.
fn stored(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::Reset => "reset",
        LinkPurpose::Invite => "invite",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    verifier_digest: Vec<u8>,
    purpose: String,
    user_id: Option<i64>,
    is_admin: bool,
    expires_at: i64,
    used_at: Option<i64>,
}

/// A stored link.
#[derive(Debug, Clone)]
pub struct Link {
    pub verifier_digest: Vec<u8>,
    pub purpose: LinkPurpose,
    pub user_id: Option<i64>,
    pub is_admin: bool,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub struct NewLink<'a> {
    pub selector: &'a str,
    pub verifier_digest: &'a [u8],
    pub purpose: LinkPurpose,
    pub user_id: Option<i64>,
    pub is_admin: bool,
    pub expires_at: i64,
}

pub async fn insert(db: &Db, link: &NewLink<'_>) -> sqlx::Result<()> {
    const SQL: &str =
        "INSERT INTO one_time_links (selector, verifier_digest, purpose, user_id, is_admin, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6)";
    on_backend!(db, pool => {
        sqlx::query(SQL)
            .bind(link.selector)
            .bind(link.verifier_digest)
            .bind(stored(link.purpose))
            .bind(link.user_id)
            .bind(link.is_admin)
            .bind(link.expires_at)
            .execute(pool)
            .await
            .map(drop)
    })
}

pub async fn find(db: &Db, selector: &str) -> sqlx::Result<Option<Link>> {
    const SQL: &str = "SELECT verifier_digest, purpose, user_id, is_admin, expires_at, used_at
        FROM one_time_links WHERE selector = $1";
    let row: Option<Row> =
        on_backend!(db, pool => sqlx::query_as(SQL).bind(selector).fetch_optional(pool).await?);
    Ok(row.map(|row| Link {
        verifier_digest: row.verifier_digest,
        purpose: if row.purpose == stored(LinkPurpose::Reset) {
            LinkPurpose::Reset
        } else {
            LinkPurpose::Invite
        },
        user_id: row.user_id,
        is_admin: row.is_admin,
        expires_at: row.expires_at,
        used_at: row.used_at,
    }))
}

/// Marks the link used if it is unused and unexpired at `now`: returns whether this use is
/// the one that counts (two requests with one link cannot both win).
pub async fn use_once(db: &Db, selector: &str, now: i64) -> sqlx::Result<bool> {
    const SQL: &str =
        "UPDATE one_time_links SET used_at = $1 WHERE selector = $2 AND used_at IS NULL AND expires_at > $1";
    let updated = on_backend!(db, pool => sqlx::query(SQL).bind(now).bind(selector).execute(pool).await?.rows_affected());
    Ok(updated == 1)
}

/// Makes a used link unused again (see `auth::links::give_back`).
pub async fn release(db: &Db, selector: &str) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE one_time_links SET used_at = NULL WHERE selector = $1";
    on_backend!(db, pool => sqlx::query(SQL).bind(selector).execute(pool).await.map(drop))
}

/// Forgets links that expired before `before` (used or not).
pub async fn delete_expired(db: &Db, before: i64) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM one_time_links WHERE expires_at <= $1";
    Ok(on_backend!(db, pool => sqlx::query(SQL).bind(before).execute(pool).await?.rows_affected()))
}
