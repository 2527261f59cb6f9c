//! Sliding-window counters for throttling, in this process or in Redis: the storage under
//! `auth::throttle`, which decides what is counted and against which limits.
//!
//! An attempt is reserved on several keys at once, atomically: if any key already holds its
//! limit of attempts within the window, nothing is counted and the wait until one leaves is
//! returned. In memory a mutex makes that atomic; in Redis one Lua script over sorted sets.
//! The in-memory counters are bounded: at most [`MAX_KEYS`] keys (past it the longest-idle
//! keys are dropped), each holding at most its limit of timestamps.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fred::prelude::{LuaInterface, Pool};

use crate::clock::{millis, now_millis};

/// The in-memory counters' hard bound on keys.
pub const MAX_KEYS: usize = 100_000;

/// Each key's attempts in the window: when, and which attempt (to take it back).
type Map = HashMap<String, VecDeque<(Instant, u64)>>;

#[derive(Debug, Clone)]
pub enum Counters {
    Memory(Arc<Mutex<Map>>),
    Redis { pool: Pool, prefix: String },
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

/// [`Counters::take_back`] in one round trip.
const TAKE_BACK_SCRIPT: &str = r"
for _, key in ipairs(KEYS) do
  redis.call('ZREM', key, ARGV[1])
end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
end
return 0
";

impl Counters {
    /// In Redis (keys starting with `prefix`) when given, else in this process.
    pub fn new(redis: Option<(Pool, String)>) -> Self {
        match redis {
            Some((pool, prefix)) => Self::Redis { pool, prefix },
            None => Self::Memory(Arc::default()),
        }
    }

    /// The full name of a counter.
    pub fn key(&self, kind: &str, subject: &str) -> String {
        let prefix = match self {
            Self::Redis { prefix, .. } => prefix.as_str(),
            Self::Memory(_) => "tracklist",
        };
        format!("{prefix}:throttle:{kind}:{subject}")
    }

    /// Counts attempt `member` on every key of `limits`, or on none; returns the wait until
    /// the fullest key has room (zero when counted).
    pub async fn reserve(
        &self,
        limits: &[(String, usize)],
        member: u64,
        window: Duration,
    ) -> anyhow::Result<Duration> {
        match self {
            Self::Memory(map) => Ok(reserve_in_memory(&mut lock(map), limits, member, window)),
            Self::Redis { pool, .. } => {
                let keys: Vec<&str> = limits.iter().map(|(key, _)| key.as_str()).collect();
                let mut args = vec![now_millis().to_string(), millis(window).to_string(), member.to_string()];
                args.extend(limits.iter().map(|(_, limit)| limit.to_string()));
                let wait_ms: i64 = pool.eval(RESERVE_SCRIPT, keys, args).await?;
                Ok(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)))
            }
        }
    }

    /// Takes attempt `member` back from `keys`, in one step; with `clear_first`, also forgets
    /// every attempt on the first key.
    pub async fn take_back(&self, keys: &[String], member: u64, clear_first: bool) -> anyhow::Result<()> {
        match self {
            Self::Memory(map) => {
                let mut map = lock(map);
                for key in keys {
                    if let Some(times) = map.get_mut(key) {
                        times.retain(|(_, counted)| *counted != member);
                    }
                }
                if let Some(first) = keys.first().filter(|_| clear_first) {
                    map.remove(first);
                }
            }
            Self::Redis { pool, .. } => {
                let args = vec![member.to_string(), u8::from(clear_first).to_string()];
                pool.eval::<(), _, _, _>(TAKE_BACK_SCRIPT, keys.to_vec(), args).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
