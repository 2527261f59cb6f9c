//! The state every handler can reach: built once in `startup`. Extractors and middleware
//! clone it for every request, so a clone is one reference count, whatever it holds.

use std::ops::Deref;
use std::sync::Arc;

use crate::auth::password::Passwords;
use crate::auth::throttle::LoginThrottle;
use crate::catalogue_cache::PageCache;
use crate::config::Config;
use crate::db::Db;
use crate::pages::Pages;
use crate::session::Sessions;

#[derive(Debug, Clone)]
pub struct AppState(Arc<Components>);

#[derive(Debug)]
pub struct Components {
    pub db: Db,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub sessions: Sessions,
    pub catalogue: PageCache,
    /// The app's pages, rendered on the server; `None` without a browser bundle (`--static-dir`).
    pub pages: Option<Pages>,
    pub config: Config,
}

impl AppState {
    pub fn new(components: Components) -> Self {
        Self(Arc::new(components))
    }
}

impl Deref for AppState {
    type Target = Components;

    fn deref(&self) -> &Components {
        &self.0
    }
}
