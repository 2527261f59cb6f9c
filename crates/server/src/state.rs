//! The state every handler can reach: built once in `startup`, cheap to clone.

use std::sync::Arc;

use crate::auth::password::Passwords;
use crate::auth::throttle::LoginThrottle;
use crate::catalogue_cache::PageCache;
use crate::config::Config;
use crate::db::Db;
use crate::session::Sessions;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub sessions: Sessions,
    pub pages: PageCache,
    pub config: Arc<Config>,
}
