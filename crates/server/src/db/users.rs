//! Queries on `users`.

use super::{Db, on_backend};

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
    /// The account in `row`'s columns from `first` on, in `columns!`'s order (from the
    /// read-only SQLite connections, which sqlx's `FromRow` does not serve).
    pub fn from_sqlite(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(first)?,
            username: row.get(first + 1)?,
            password_hash: row.get(first + 2)?,
            is_admin: row.get(first + 3)?,
            disabled: row.get(first + 4)?,
        })
    }

    /// What the API shows of the account.
    pub fn view(&self) -> shared::User {
        shared::User { id: self.id, username: self.username.clone(), is_admin: self.is_admin }
    }
}

macro_rules! columns {
    () => {
        "id, username, password_hash, is_admin, disabled"
    };
}

/// `username` must already be normalised.
pub async fn insert(db: &Db, username: &str, password_hash: &str, is_admin: bool) -> sqlx::Result<Account> {
    const SQL: &str = concat!(
        "INSERT INTO users (username, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING ",
        columns!()
    );
    on_backend!(db, pool => {
        sqlx::query_as(SQL).bind(username).bind(password_hash).bind(is_admin).fetch_one(pool).await
    })
}

/// The account signed in on the session `session_id`, if the per-user session index still
/// holds that session under `reference` (a revoked or rotated session has no row).
///
/// It runs for every signed-in request, so on SQLite it is read on this thread from a
/// read-only connection (`db::readers`): through sqlx it was handed to the connection's own
/// thread and back, which cost more than the query (a third of `/users/me` went to thread
/// switches).
pub async fn find_by_session(db: &Db, reference: &str, session_id: &str) -> super::Result<Option<Account>> {
    const SQL: &str = "SELECT u.id, u.username, u.password_hash, u.is_admin, u.disabled
        FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.reference = $1 AND s.session_id = $2";
    match db {
        Db::Sqlite { readers, .. } => {
            readers
                .quick(move |conn| {
                    let params = rusqlite::named_params! {"$1": reference, "$2": session_id};
                    let account =
                        conn.prepare_cached(SQL)?.query_row(params, |row| Account::from_sqlite(row, 0));
                    rusqlite::OptionalExtension::optional(account)
                })
                .await
        }
        Db::Postgres { readers, .. } => {
            let read = sqlx::query_as(SQL).bind(reference).bind(session_id);
            readers.read(async |conn| read.fetch_optional(conn).await).await
        }
    }
}

pub async fn find_by_id(db: &Db, id: i64) -> sqlx::Result<Option<Account>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM users WHERE id = $1");
    on_backend!(db, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)
}

/// `username` must already be normalised.
pub async fn find_by_username(db: &Db, username: &str) -> sqlx::Result<Option<Account>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM users WHERE username = $1");
    on_backend!(db, pool => sqlx::query_as(SQL).bind(username).fetch_optional(pool).await)
}

/// Returns whether the user exists.
pub async fn set_password_hash(db: &Db, id: i64, password_hash: &str) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";
    let affected = on_backend!(db, pool => {
        sqlx::query(SQL).bind(password_hash).bind(id).execute(pool).await?.rows_affected()
    });
    Ok(affected == 1)
}

/// Replaces the hash only if it is still `current` (an upgrade of the same password must not
/// undo a password change that happened meanwhile); returns whether it did.
pub async fn upgrade_password_hash(db: &Db, id: i64, current: &str, upgraded: &str) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3";
    let affected = on_backend!(db, pool => {
        sqlx::query(SQL).bind(upgraded).bind(id).bind(current).execute(pool).await?.rows_affected()
    });
    Ok(affected == 1)
}

/// Returns whether the user exists.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> sqlx::Result<bool> {
    const SQL: &str = "UPDATE users SET disabled = $1 WHERE id = $2";
    let affected = on_backend!(db, pool => sqlx::query(SQL).bind(disabled).bind(id).execute(pool).await?.rows_affected());
    Ok(affected == 1)
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Account>> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM users ORDER BY id");
    on_backend!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await)
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    on_backend!(db, pool => sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(pool).await)
}
