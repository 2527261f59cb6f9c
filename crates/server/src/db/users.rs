//! Queries on `users`.

use sqlx::SqlitePool;

/// An account as the server works with it. The password hash never leaves the server.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
}

impl Account {
    /// What the API shows of the account.
    pub fn view(&self) -> shared::User {
        shared::User { id: self.id, username: self.username.clone(), is_admin: self.is_admin }
    }
}

const COLUMNS: &str = "id, username, password_hash, is_admin, disabled";

/// `username` must already be normalised.
pub async fn insert(
    db: &SqlitePool,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> sqlx::Result<Account> {
    sqlx::query_as(&format!(
        "INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?) RETURNING {COLUMNS}"
    ))
    .bind(username)
    .bind(password_hash)
    .bind(is_admin)
    .fetch_one(db)
    .await
}

pub async fn find_by_id(db: &SqlitePool, id: i64) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = ?")).bind(id).fetch_optional(db).await
}

/// `username` must already be normalised.
pub async fn find_by_username(db: &SqlitePool, username: &str) -> sqlx::Result<Option<Account>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = ?"))
        .bind(username)
        .fetch_optional(db)
        .await
}

/// Returns whether the user exists.
pub async fn set_password_hash(db: &SqlitePool, id: i64, password_hash: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(password_hash)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list(db: &SqlitePool) -> sqlx::Result<Vec<Account>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY id")).fetch_all(db).await
}

pub async fn count(db: &SqlitePool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(db).await
}

/// Returns whether the user exists.
pub async fn set_disabled(db: &SqlitePool, id: i64, disabled: bool) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE users SET disabled = ? WHERE id = ?").bind(disabled).bind(id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}
