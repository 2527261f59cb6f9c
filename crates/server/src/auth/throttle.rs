//! Sign-in throttling (SECURITY.md 18): failed attempts are counted per (username, client
//! address) and per client address over a sliding window; past a limit the answer is 429
//! with `Retry-After` until the oldest counted failure leaves the window.
//!
//! Keying by (username, client) means an attacker elsewhere cannot lock a victim out: the
//! victim's own address has its own count. The per-client limit caps guessing across many
//! usernames. Counters live where sessions live: in this process with the database store
//! (one instance), in Redis sorted sets when instances share sessions there.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use tower_sessions_redis_store::fred::prelude::{KeysInterface, Pool as RedisPool, SortedSetsInterface};

use crate::config::ThrottleConfig;
use crate::error::{ApiError, Result};

/// Entries kept in memory before idle ones are swept, bounding memory under a username spray.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    counters: Counters,
}

#[derive(Debug, Clone)]
enum Counters {
    Memory(Arc<Mutex<HashMap<String, VecDeque<Instant>>>>),
    Redis { pool: RedisPool, prefix: String },
}

impl LoginThrottle {
    /// Counts in `redis` (under keys starting with `prefix`) when given, else in this process.
    pub fn new(config: ThrottleConfig, redis: Option<(RedisPool, String)>) -> Self {
        let counters = match redis {
            Some((pool, prefix)) => Counters::Redis { pool, prefix },
            None => Counters::Memory(Arc::default()),
        };
        Self { config, counters }
    }

    fn prefix(&self) -> &str {
        match &self.counters {
            Counters::Redis { prefix, .. } => prefix,
            Counters::Memory(_) => "tracklist",
        }
    }

    /// `Err(TooManyRequests)` while `username` may not be tried from `client`.
    pub async fn check(&self, username: &str, client: IpAddr) -> Result<()> {
        let limits = [
            (account_key(self.prefix(), username, client), self.config.max_failures),
            (client_key(self.prefix(), client), self.config.max_failures_per_client),
        ];
        let mut wait = Duration::ZERO;
        for (key, limit) in limits {
            wait = wait.max(self.wait(&key, limit).await?);
        }
        if wait.is_zero() { Ok(()) } else { Err(ApiError::TooManyRequests { retry_after: wait }) }
    }

    pub async fn record_failure(&self, username: &str, client: IpAddr) -> Result<()> {
        for key in [account_key(self.prefix(), username, client), client_key(self.prefix(), client)] {
            self.add(&key).await?;
        }
        Ok(())
    }

    /// A success from this client clears its count for the username.
    pub async fn record_success(&self, username: &str, client: IpAddr) -> Result<()> {
        let key = account_key(self.prefix(), username, client);
        match &self.counters {
            Counters::Memory(map) => {
                map.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
            }
            Counters::Redis { pool, .. } => pool.del::<(), _>(key).await.map_err(unavailable)?,
        }
        Ok(())
    }

    /// How long until fewer than `limit` failures remain in the window.
    async fn wait(&self, key: &str, limit: usize) -> Result<Duration> {
        let window = self.config.window;
        match &self.counters {
            Counters::Memory(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(times) = map.get_mut(key) else { return Ok(Duration::ZERO) };
                forget_old(times, now, window);
                // The wait ends when enough failures have left the window to be under the limit.
                Ok(times
                    .len()
                    .checked_sub(limit)
                    .map_or(Duration::ZERO, |blocking| window.saturating_sub(now - times[blocking])))
            }
            Counters::Redis { pool: redis, .. } => {
                let now = unix_millis();
                let window_ms = millis(window);
                redis
                    .zremrangebyscore::<(), _, _, _>(key, f64::NEG_INFINITY, (now - window_ms) as f64)
                    .await
                    .map_err(unavailable)?;
                let count: i64 = redis.zcard(key).await.map_err(unavailable)?;
                let Ok(limit) = i64::try_from(limit) else { return Ok(Duration::ZERO) };
                if count < limit {
                    return Ok(Duration::ZERO);
                }
                let index = count - limit;
                let oldest: Vec<(String, f64)> =
                    redis.zrange(key, index, index, None, false, None, true).await.map_err(unavailable)?;
                let failed_at = oldest.first().map_or(now, |(_, score)| *score as i64);
                let left = (failed_at + window_ms - now).max(0);
                Ok(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
            }
        }
    }

    async fn add(&self, key: &str) -> Result<()> {
        let window = self.config.window;
        match &self.counters {
            Counters::Memory(map) => {
                let now = Instant::now();
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                if map.len() > SWEEP_ABOVE {
                    map.retain(|_, times| times.back().is_some_and(|last| now - *last < window));
                }
                let times = map.entry(key.to_owned()).or_default();
                forget_old(times, now, window);
                times.push_back(now);
            }
            Counters::Redis { pool: redis, .. } => {
                let now = unix_millis();
                // Members must be distinct even for failures in the same millisecond.
                let member = format!("{now}-{}", OsRng.next_u64());
                redis
                    .zadd::<(), _, _>(key, None, None, false, false, (now as f64, member))
                    .await
                    .map_err(unavailable)?;
                redis.pexpire::<(), _>(key, millis(window), None).await.map_err(unavailable)?;
            }
        }
        Ok(())
    }
}

/// Usernames are capped so junk input cannot make keys large.
fn account_key(prefix: &str, username: &str, client: IpAddr) -> String {
    let username: String = username.chars().take(64).collect();
    format!("{prefix}:throttle:account:{client}:{username}")
}

fn client_key(prefix: &str, client: IpAddr) -> String {
    format!("{prefix}:throttle:client:{client}")
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times.front().is_some_and(|first| now - *first >= window) {
        times.pop_front();
    }
}

fn unavailable(err: impl std::fmt::Display) -> ApiError {
    tracing::error!(%err, "the throttling store failed");
    ApiError::Unavailable
}

fn unix_millis() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max: usize, per_client: usize) -> LoginThrottle {
        let config = ThrottleConfig {
            max_failures: max,
            max_failures_per_client: per_client,
            window: Duration::from_secs(60),
        };
        LoginThrottle::new(config, None)
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn wait_of(result: Result<()>) -> Option<Duration> {
        match result {
            Err(ApiError::TooManyRequests { retry_after }) => Some(retry_after),
            _ => None,
        }
    }

    #[tokio::test]
    async fn the_limit_applies_per_username_and_client() {
        let throttle = throttle(3, 100);
        for _ in 0..3 {
            assert!(throttle.check("john", A).await.is_ok());
            throttle.record_failure("john", A).await.expect("recorded");
        }
        let wait = wait_of(throttle.check("john", A).await).expect("throttled");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        // The victim on another address, and other usernames, are unaffected.
        assert!(throttle.check("john", B).await.is_ok());
        assert!(throttle.check("mary", A).await.is_ok());
    }

    #[tokio::test]
    async fn the_per_client_limit_spans_usernames() {
        let throttle = throttle(100, 3);
        for name in ["a", "b", "c"] {
            throttle.record_failure(name, A).await.expect("recorded");
        }
        assert!(throttle.check("d", A).await.is_err());
        assert!(throttle.check("d", B).await.is_ok());
    }

    #[tokio::test]
    async fn a_success_clears_the_username_count() {
        let throttle = throttle(2, 100);
        throttle.record_failure("john", A).await.expect("recorded");
        throttle.record_success("john", A).await.expect("recorded");
        throttle.record_failure("john", A).await.expect("recorded");
        assert!(throttle.check("john", A).await.is_ok());
    }
}
