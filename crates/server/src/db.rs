//! The database: connection, migrations, and one async function per query (in `db/`).
//! Row types stay in here; callers get domain values.

pub mod sessions;
pub mod tracks;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// Opens (creating if needed) the database and brings its schema up to date.
pub async fn connect(database_url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| format!("invalid --database-url {database_url:?}"))?
        .create_if_missing(true)
        // WAL lets readers run while one connection writes; NORMAL is durable under WAL
        // except for the last transactions on power loss, the usual trade-off.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {database_url:?}"))?;
    sqlx::migrate!("./migrations").run(&pool).await.context("cannot migrate the database")?;
    Ok(pool)
}

/// Whether `err` is a UNIQUE constraint failure (a duplicate username, say).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
