//! Queries on `user_sessions`, the per-user index of sessions.

use sqlx::SqlitePool;

/// An index row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IndexedSession {
    pub reference: String,
    pub session_id: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub user_agent: Option<String>,
    pub client_addr: Option<String>,
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

const COLUMNS: &str = "reference, session_id, created_at, last_seen_at, user_agent, client_addr";

pub async fn insert(db: &SqlitePool, session: &NewSession<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_sessions (reference, session_id, user_id, expires_at, user_agent, client_addr)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(session.reference)
    .bind(session.session_id)
    .bind(session.user_id)
    .bind(session.expires_at)
    .bind(session.user_agent)
    .bind(session.client_addr)
    .execute(db)
    .await?;
    Ok(())
}

/// Records activity: a new deadline and "last seen now".
pub async fn touch(db: &SqlitePool, reference: &str, expires_at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE user_sessions SET expires_at = ?, last_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE reference = ?",
    )
    .bind(expires_at)
    .bind(reference)
    .execute(db)
    .await?;
    Ok(())
}

/// After the session id was rotated.
pub async fn set_session_id(db: &SqlitePool, reference: &str, session_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE user_sessions SET session_id = ? WHERE reference = ?")
        .bind(session_id)
        .bind(reference)
        .execute(db)
        .await?;
    Ok(())
}

/// The user's unexpired sessions, most recently active first.
pub async fn list(db: &SqlitePool, user_id: i64, now_millis: i64) -> sqlx::Result<Vec<IndexedSession>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM user_sessions WHERE user_id = ? AND expires_at > ?
         ORDER BY last_seen_at DESC, created_at DESC"
    ))
    .bind(user_id)
    .bind(now_millis)
    .fetch_all(db)
    .await
}

pub async fn find(db: &SqlitePool, user_id: i64, reference: &str) -> sqlx::Result<Option<IndexedSession>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM user_sessions WHERE user_id = ? AND reference = ?"))
        .bind(user_id)
        .bind(reference)
        .fetch_optional(db)
        .await
}

/// Every session of the user, expired or not.
pub async fn all_of(db: &SqlitePool, user_id: i64) -> sqlx::Result<Vec<IndexedSession>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM user_sessions WHERE user_id = ?"))
        .bind(user_id)
        .fetch_all(db)
        .await
}

pub async fn delete(db: &SqlitePool, reference: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_sessions WHERE reference = ?").bind(reference).execute(db).await?;
    Ok(())
}

/// Forgets index rows of sessions that have expired (their records expire on their own).
pub async fn delete_expired(db: &SqlitePool, now_millis: i64) -> sqlx::Result<u64> {
    let done =
        sqlx::query("DELETE FROM user_sessions WHERE expires_at <= ?").bind(now_millis).execute(db).await?;
    Ok(done.rows_affected())
}
