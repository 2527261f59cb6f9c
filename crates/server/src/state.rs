//! The state every handler can reach: built once in `startup`, cheap to clone.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::auth::password::Passwords;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::session::Sessions;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub sessions: Sessions,
    pub config: Arc<Config>,
}
