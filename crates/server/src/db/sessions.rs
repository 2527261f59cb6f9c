//! Queries on `user_sessions`, the per-user index of sessions.

use super::{Db, on_backend};
use crate::clock::now_text;

/// An index row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IndexedSession {
    pub reference: String,
    pub session_id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub user_agent: Option<String>,
    pub client_addr: Option<String>,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// What is recorded about a new session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub reference: &'a str,
    pub session_id: &'a str,
    pub user_id: i64,
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
    pub client_addr: &'a str,
}

macro_rules! columns {
    () => {
        "reference, session_id, created_at, last_seen_at, user_agent, client_addr, expires_at"
    };
}

pub async fn insert(db: &Db, session: &NewSession<'_>) -> sqlx::Result<()> {
    const SQL: &str = "INSERT INTO user_sessions
        (reference, session_id, user_id, expires_at, user_agent, client_addr, created_at, last_seen_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";
    on_backend!(db, pool => {
        sqlx::query(SQL)
            .bind(session.reference)
            .bind(session.session_id)
            .bind(session.user_id)
            .bind(session.expires_at)
            .bind(session.user_agent)
            .bind(session.client_addr)
            .bind(now_text())
            .execute(pool)
            .await
            .map(drop)
    })
}

/// Records activity: a new deadline and "last seen now".
pub async fn touch(db: &Db, reference: &str, expires_at: i64) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE user_sessions SET expires_at = $1, last_seen_at = $2 WHERE reference = $3";
    on_backend!(db, pool => {
        sqlx::query(SQL).bind(expires_at).bind(now_text()).bind(reference).execute(pool).await.map(drop)
    })
}

/// After the session id was rotated.
pub async fn set_session_id(db: &Db, reference: &str, session_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "UPDATE user_sessions SET session_id = $1 WHERE reference = $2";
    on_backend!(db, pool => sqlx::query(SQL).bind(session_id).bind(reference).execute(pool).await.map(drop))
}

/// The user's unexpired sessions, most recently active first.
pub async fn list(db: &Db, user_id: i64, now_millis: i64) -> sqlx::Result<Vec<IndexedSession>> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM user_sessions WHERE user_id = $1 AND expires_at > $2",
        " ORDER BY last_seen_at DESC, created_at DESC"
    );
    on_backend!(db, pool => sqlx::query_as(SQL).bind(user_id).bind(now_millis).fetch_all(pool).await)
}

pub async fn find(db: &Db, user_id: i64, reference: &str) -> sqlx::Result<Option<IndexedSession>> {
    const SQL: &str =
        concat!("SELECT ", columns!(), " FROM user_sessions WHERE user_id = $1 AND reference = $2");
    on_backend!(db, pool => sqlx::query_as(SQL).bind(user_id).bind(reference).fetch_optional(pool).await)
}

/// Every session of the user, expired or not.
pub async fn all_of(db: &Db, user_id: i64) -> sqlx::Result<Vec<IndexedSession>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM user_sessions WHERE user_id = $1");
    on_backend!(db, pool => sqlx::query_as(SQL).bind(user_id).fetch_all(pool).await)
}

pub async fn delete(db: &Db, reference: &str) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM user_sessions WHERE reference = $1";
    on_backend!(db, pool => sqlx::query(SQL).bind(reference).execute(pool).await.map(drop))
}

/// Deletes the row only while it points at `session_id`.
pub async fn delete_for_session(db: &Db, reference: &str, session_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "DELETE FROM user_sessions WHERE reference = $1 AND session_id = $2";
    on_backend!(db, pool => sqlx::query(SQL).bind(reference).bind(session_id).execute(pool).await.map(drop))
}

/// Sessions that have not expired, across all users.
pub async fn count_active(db: &Db) -> sqlx::Result<i64> {
    const SQL: &str = "SELECT count(*) FROM user_sessions WHERE expires_at > $1";
    let now = crate::clock::now_millis();
    on_backend!(db, pool => sqlx::query_scalar(SQL).bind(now).fetch_one(pool).await)
}

/// Forgets index rows of sessions that have expired (their records expire on their own).
pub async fn delete_expired(db: &Db, now_millis: i64) -> sqlx::Result<u64> {
    const SQL: &str = "DELETE FROM user_sessions WHERE expires_at <= $1";
    Ok(on_backend!(db, pool => sqlx::query(SQL).bind(now_millis).execute(pool).await?.rows_affected()))
}
