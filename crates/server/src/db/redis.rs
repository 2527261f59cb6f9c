//! The Redis connection, opened once at start-up when `--session-store` names Redis, and
//! handed to what keeps state there: the session store and the throttling counters.

use std::time::Duration;

use anyhow::Context;
use fred::prelude::{Builder, ClientLike, Config, Pool, ReconnectPolicy};

use crate::config::SessionStoreChoice;

/// A command that gets no answer this fast fails, and the request answers 503.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The Redis connection when `--session-store` names Redis: opened once, at start-up.
pub async fn open(choice: &SessionStoreChoice) -> anyhow::Result<Option<Pool>> {
    match choice {
        SessionStoreChoice::Redis(url) => Ok(Some(connect(url).await?)),
        SessionStoreChoice::Database | SessionStoreChoice::Memory => Ok(None),
    }
}

/// A pool of Redis connections that keeps reconnecting while Redis is away: requests fail
/// fast meanwhile, and everything works again as soon as it is back.
async fn connect(url: &str) -> anyhow::Result<Pool> {
    let config = Config::from_url(url).context("invalid --session-store URL")?;
    let pool = Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = TIMEOUT;
            connection.internal_command_timeout = TIMEOUT;
        })
        .with_performance_config(|performance| performance.default_command_timeout = TIMEOUT)
        .set_policy(ReconnectPolicy::new_constant(0, 250))
        .build_pool(4)
        .context("invalid Redis configuration")?;
    pool.init().await.with_context(|| format!("cannot connect to Redis at {url}"))?;
    Ok(pool)
}
