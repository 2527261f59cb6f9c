//! Sign-in and sign-up throttling (SECURITY.md 18 and 25).
//!
//! Every attempt is counted *before* the password is checked, in one atomic step over all of
//! its counters: if any is at its limit the attempt is refused (429 with `Retry-After`) and
//! nothing is counted; otherwise it is counted everywhere at once. A burst of concurrent
//! guesses therefore gets at most the limit verified. Once the outcome is known the attempt
//! is settled: a wrong password stays counted; a success, or a failure that says nothing about
//! the password (busy, unavailable), is taken back, and a success also clears that client's
//! count for the account.
//!
//! Counters, over a sliding window (`--login-window`), for a sign-in to account A:
//! - from a device that signed in to A before (device cookie, see `device`): that device's
//!   own budget, `--login-max-failures`. Nothing else: what strangers do cannot lock it out.
//! - from anyone else:
//!   - (A, client network): `--login-max-failures`;
//!   - client network, any account: `--login-max-failures-per-client`;
//!   - A, summed over all such clients: `--login-max-failures-per-account`, the ceiling on
//!     guessing spread over many addresses.
//!
//! A sign-up counts against its client network (`--signup-max-per-client`) before hashing.
//! A client network is an IPv4 address or an IPv6 /64 (`client::network`).
//!
//! Counters live in this process with the database session store (bounded: at most
//! [`MAX_KEYS`] keys, each holding at most its limit of timestamps), and in Redis sorted sets,
//! updated by one Lua script, when instances share sessions there.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use fred::prelude::{KeysInterface, LuaInterface, Pool as RedisPool, SortedSetsInterface};

use crate::client;
use crate::clock::{millis, now_millis};
use crate::config::ThrottleConfig;
use crate::error::{ApiError, Result};

/// The in-memory counters' hard bound on keys; past it the longest-idle keys are dropped.
pub const MAX_KEYS: usize = 100_000;

/// Each key's attempts in the window: when, and which attempt (to take it back).
type Map = HashMap<String, VecDeque<(Instant, u64)>>;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    counters: Counters,
}

#[derive(Debug, Clone)]
enum Counters {
    Memory(Arc<Mutex<Map>>),
    Redis { pool: RedisPool, prefix: String },
}

/// An attempt counted before its outcome is known; settle it with
/// [`LoginThrottle::succeeded`] or [`LoginThrottle::abandoned`], or drop it to let it stand
/// as a failure.
#[derive(Debug)]
#[must_use = "an attempt stands as a failure unless it is settled"]
pub struct Attempt {
    keys: Vec<String>,
    /// The key a success clears: this client's (or device's) count for the account.
    own_key: String,
    member: u64,
}

/// Reserves a slot on every key or on none; returns the wait when any is full.
const RESERVE_SCRIPT: &str = r"
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[3 + i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now, 1)
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
return 0
";

impl LoginThrottle {
    /// Counts in `redis` (under keys starting with `prefix`) when given, else in this process.
    pub fn new(config: ThrottleConfig, redis: Option<(RedisPool, String)>) -> Self {
        let counters = match redis {
            Some((pool, prefix)) => Counters::Redis { pool, prefix },
            None => Counters::Memory(Arc::default()),
        };
        Self { config, counters }
    }

    fn key(&self, kind: &str, subject: &str) -> String {
        let prefix = match &self.counters {
            Counters::Redis { prefix, .. } => prefix.as_str(),
            Counters::Memory(_) => "tracklist",
        };
        format!("{prefix}:throttle:{kind}:{subject}")
    }

    /// Counts a sign-in to `username` from `client`, or from the recognised `device` (its
    /// selector), or refuses it with `TooManyRequests`.
    pub async fn begin_sign_in(
        &self,
        username: &str,
        client: IpAddr,
        device: Option<&str>,
    ) -> Result<Attempt> {
        // Usernames are capped so junk input cannot make keys large.
        let username: String = username.chars().take(64).collect();
        let network = client::network(client);
        let limits = match device {
            Some(selector) => vec![(self.key("device", selector), self.config.max_failures)],
            None => vec![
                (self.key("pair", &format!("{network}/{username}")), self.config.max_failures),
                (self.key("client", &network.to_string()), self.config.max_failures_per_client),
                (self.key("account", &username), self.config.max_failures_per_account),
            ],
        };
        self.reserve(limits).await
    }

    /// Counts a sign-up from `client` (never taken back), or refuses it.
    pub async fn begin_sign_up(&self, client: IpAddr) -> Result<()> {
        let key = self.key("signup", &client::network(client).to_string());
        self.reserve(vec![(key, self.config.signup_max_per_client)]).await.map(drop)
    }

    /// The password was right: the attempt is taken back and this client's (or device's)
    /// count for the account is cleared.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<()> {
        self.take_back(&attempt).await?;
        match &self.counters {
            Counters::Memory(map) => {
                lock(map).remove(&attempt.own_key);
            }
            Counters::Redis { pool, .. } => pool.del::<(), _>(attempt.own_key).await.map_err(unavailable)?,
        }
        Ok(())
    }

    /// The attempt ended without a verdict on the password (busy, a backend down).
    pub async fn abandoned(&self, attempt: Attempt) -> Result<()> {
        self.take_back(&attempt).await
    }

    async fn reserve(&self, limits: Vec<(String, usize)>) -> Result<Attempt> {
        let member = OsRng.next_u64();
        let window = self.config.window;
        let wait = match &self.counters {
            Counters::Memory(map) => reserve_in_memory(&mut lock(map), &limits, member, window),
            Counters::Redis { pool, .. } => {
                let keys: Vec<&str> = limits.iter().map(|(key, _)| key.as_str()).collect();
                let mut args = vec![now_millis().to_string(), millis(window).to_string(), member.to_string()];
                args.extend(limits.iter().map(|(_, limit)| limit.to_string()));
                let wait_ms: i64 = pool.eval(RESERVE_SCRIPT, keys, args).await.map_err(unavailable)?;
                Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0))
            }
        };
        if !wait.is_zero() {
            return Err(ApiError::TooManyRequests { retry_after: wait });
        }
        let own_key = limits.first().map(|(key, _)| key.clone()).unwrap_or_default();
        Ok(Attempt { keys: limits.into_iter().map(|(key, _)| key).collect(), own_key, member })
    }

    async fn take_back(&self, attempt: &Attempt) -> Result<()> {
        match &self.counters {
            Counters::Memory(map) => {
                let mut map = lock(map);
                for key in &attempt.keys {
                    if let Some(times) = map.get_mut(key) {
                        times.retain(|(_, member)| *member != attempt.member);
                    }
                }
            }
            Counters::Redis { pool, .. } => {
                for key in &attempt.keys {
                    pool.zrem::<(), _, _>(key.as_str(), attempt.member.to_string())
                        .await
                        .map_err(unavailable)?;
                }
            }
        }
        Ok(())
    }
}

fn lock(map: &Mutex<Map>) -> std::sync::MutexGuard<'_, Map> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The in-memory form of [`RESERVE_SCRIPT`]; returns the wait, zero when counted.
fn reserve_in_memory(map: &mut Map, limits: &[(String, usize)], member: u64, window: Duration) -> Duration {
    let now = Instant::now();
    let mut wait = Duration::ZERO;
    for (key, limit) in limits {
        let Some(times) = map.get_mut(key) else { continue };
        while times.front().is_some_and(|(at, _)| now - *at >= window) {
            times.pop_front();
        }
        // The wait ends when enough attempts have left the window to be under the limit.
        if let Some(blocking) = times.len().checked_sub(*limit) {
            let left = window.saturating_sub(now - times[blocking].0);
            wait = wait.max(left.max(Duration::from_millis(1)));
        }
    }
    if !wait.is_zero() {
        return wait;
    }
    if map.len() + limits.len() > MAX_KEYS {
        make_room(map, now, window);
    }
    for (key, _) in limits {
        map.entry(key.clone()).or_default().push_back((now, member));
    }
    Duration::ZERO
}

/// Forgets expired keys, then, if that is not enough, the quarter that has been idle longest.
fn make_room(map: &mut Map, now: Instant, window: Duration) {
    map.retain(|_, times| times.back().is_some_and(|(last, _)| now - *last < window));
    if map.len() < MAX_KEYS * 3 / 4 {
        return;
    }
    let mut last_seen: Vec<Instant> =
        map.values().filter_map(|times| times.back().map(|(at, _)| *at)).collect();
    let cut = last_seen.len() / 4;
    let (_, threshold, _) = last_seen.select_nth_unstable(cut);
    let threshold = *threshold;
    map.retain(|_, times| times.back().is_some_and(|(last, _)| *last > threshold));
}

fn unavailable(err: impl Into<anyhow::Error>) -> ApiError {
    ApiError::unavailable(err.into().context("the throttling store failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max: usize, per_client: usize, per_account: usize) -> LoginThrottle {
        let config = ThrottleConfig {
            max_failures: max,
            max_failures_per_client: per_client,
            max_failures_per_account: per_account,
            window: Duration::from_secs(60),
            signup_max_per_client: 2,
        };
        LoginThrottle::new(config, None)
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn wait_of<T>(result: Result<T>) -> Option<Duration> {
        match result {
            Err(ApiError::TooManyRequests { retry_after }) => Some(retry_after),
            _ => None,
        }
    }

    async fn fail(throttle: &LoginThrottle, name: &str, client: IpAddr) {
        drop(throttle.begin_sign_in(name, client, None).await.expect("counted"));
    }

    #[tokio::test]
    async fn the_limit_applies_per_username_and_client() {
        let throttle = throttle(3, 100, 100);
        for _ in 0..3 {
            fail(&throttle, "john", A).await;
        }
        let wait = wait_of(throttle.begin_sign_in("john", A, None).await).expect("throttled");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        // The victim on another address, and other usernames, are unaffected.
        assert!(throttle.begin_sign_in("john", B, None).await.is_ok());
        assert!(throttle.begin_sign_in("mary", A, None).await.is_ok());
    }

    #[tokio::test]
    async fn the_per_client_limit_spans_usernames() {
        let throttle = throttle(100, 3, 100);
        for name in ["a", "b", "c"] {
            fail(&throttle, name, A).await;
        }
        assert!(throttle.begin_sign_in("d", A, None).await.is_err());
        assert!(throttle.begin_sign_in("d", B, None).await.is_ok());
    }

    #[tokio::test]
    async fn a_success_takes_the_attempt_back_and_clears_the_pair() {
        let throttle = throttle(2, 100, 100);
        fail(&throttle, "john", A).await;
        let attempt = throttle.begin_sign_in("john", A, None).await.expect("counted");
        throttle.succeeded(attempt).await.expect("settled");
        fail(&throttle, "john", A).await;
        assert!(throttle.begin_sign_in("john", A, None).await.is_ok());
    }

    #[tokio::test]
    async fn the_account_ceiling_spares_recognised_devices() {
        let throttle = throttle(100, 100, 3);
        for client in 1..=3u8 {
            fail(&throttle, "john", IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, client))).await;
        }
        assert!(throttle.begin_sign_in("john", B, None).await.is_err());
        assert!(throttle.begin_sign_in("john", B, Some("device-selector")).await.is_ok());
    }

    #[tokio::test]
    async fn sign_ups_are_counted_per_client_network() {
        let throttle = throttle(5, 5, 5);
        throttle.begin_sign_up(A).await.expect("first");
        throttle.begin_sign_up(A).await.expect("second");
        assert!(throttle.begin_sign_up(A).await.is_err());
        assert!(throttle.begin_sign_up(B).await.is_ok());
    }

    #[test]
    fn the_in_memory_counters_stay_under_their_key_bound() {
        let mut map = Map::new();
        let window = Duration::from_secs(60);
        for n in 0..(MAX_KEYS + 10_000) {
            let key = vec![(format!("k{n}"), 5)];
            assert!(reserve_in_memory(&mut map, &key, 1, window).is_zero());
            assert!(map.len() <= MAX_KEYS);
        }
    }
}
