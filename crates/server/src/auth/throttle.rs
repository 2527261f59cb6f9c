//! Sign-in throttling (SECURITY.md 18): failed attempts are counted per (username, client
//! address) and per client address over a sliding window; past a limit the answer is 429
//! with `Retry-After` until the oldest counted failure leaves the window.
//!
//! Keying by (username, client) means an attacker elsewhere cannot lock a victim out: the
//! victim's own address has its own count. The per-client limit caps guessing across many
//! usernames. Counters live in this process, which is right for the single-instance SQLite
//! deployment; a shared store (Redis) takes this type's place when instances share sessions.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::config::ThrottleConfig;

/// Entries kept before idle ones are swept, bounding memory under a spray of usernames.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    failures: Arc<Mutex<HashMap<Key, VecDeque<Instant>>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String, IpAddr),
    Client(IpAddr),
}

impl Key {
    /// Usernames are capped so junk input cannot make keys large.
    fn account(username: &str, client: IpAddr) -> Self {
        Self::Account(username.chars().take(64).collect(), client)
    }
}

impl LoginThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        Self { config, failures: Arc::default() }
    }

    /// `Err(wait)` while `username` may not be tried from `client`.
    pub fn check(&self, username: &str, client: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let limits = [
            (Key::account(username, client), self.config.max_failures),
            (Key::Client(client), self.config.max_failures_per_client),
        ];
        let wait = limits
            .into_iter()
            .filter_map(|(key, limit)| {
                let times = failures.get_mut(&key)?;
                self.forget_old(times, now);
                // The wait ends when enough failures have left the window to be under the limit.
                let blocking = times.len().checked_sub(limit)?;
                Some(self.config.window.saturating_sub(now - times[blocking]))
            })
            .max();
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, username: &str, client: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| times.back().is_some_and(|last| now - *last < self.config.window));
        }
        for key in [Key::account(username, client), Key::Client(client)] {
            let times = failures.entry(key).or_default();
            self.forget_old(times, now);
            times.push_back(now);
        }
    }

    /// A success from this client clears its count for the username.
    pub fn record_success(&self, username: &str, client: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.remove(&Key::account(username, client));
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times.front().is_some_and(|first| now - *first >= self.config.window) {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max: usize, per_client: usize) -> LoginThrottle {
        LoginThrottle::new(ThrottleConfig {
            max_failures: max,
            max_failures_per_client: per_client,
            window: Duration::from_secs(60),
        })
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn the_limit_applies_per_username_and_client() {
        let throttle = throttle(3, 100);
        for _ in 0..3 {
            assert!(throttle.check("john", A).is_ok());
            throttle.record_failure("john", A);
        }
        let wait = throttle.check("john", A).expect_err("throttled");
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        // The victim on another address, and other usernames, are unaffected.
        assert!(throttle.check("john", B).is_ok());
        assert!(throttle.check("mary", A).is_ok());
    }

    #[test]
    fn the_per_client_limit_spans_usernames() {
        let throttle = throttle(100, 3);
        for name in ["a", "b", "c"] {
            throttle.record_failure(name, A);
        }
        assert!(throttle.check("d", A).is_err());
        assert!(throttle.check("d", B).is_ok());
    }

    #[test]
    fn a_success_clears_the_username_count() {
        let throttle = throttle(2, 100);
        throttle.record_failure("john", A);
        throttle.record_success("john", A);
        throttle.record_failure("john", A);
        assert!(throttle.check("john", A).is_ok());
    }
}
