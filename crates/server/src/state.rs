//! The state every handler can reach: built once in `startup`, cheap to clone.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::auth::password::Passwords;
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub passwords: Passwords,
    pub config: Arc<Config>,
}
