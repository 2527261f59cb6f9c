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
//! A second-step code (two-step sign-in) counts on counters of its own (`begin_code`).
//!
//! A sign-up counts against its client network (`--signup-max-per-client`) before hashing.
//! A client network is an IPv4 address or an IPv6 /64 (`client::network`).
//!
//! Counters (`db::counters`) live in this process with the database session store, bounded,
//! and in Redis, updated by one Lua script, when instances share sessions there.

use std::net::IpAddr;

use argon2::password_hash::rand_core::{OsRng, RngCore};

use crate::client;
use crate::config::ThrottleConfig;
use crate::db::counters::Counters;
use crate::error::{ApiError, Result};

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    config: ThrottleConfig,
    counters: Counters,
}

/// An attempt counted before its outcome is known; settle it with
/// [`LoginThrottle::succeeded`] or [`LoginThrottle::abandoned`], or drop it to let it stand
/// as a failure.
#[derive(Debug)]
#[must_use = "an attempt stands as a failure unless it is settled"]
pub struct Attempt {
    /// The first is this client's (or device's) count for the account, which a success clears.
    keys: Vec<String>,
    member: u64,
}

impl LoginThrottle {
    pub fn new(config: ThrottleConfig, counters: Counters) -> Self {
        Self { config, counters }
    }

    fn key(&self, kind: &str, subject: &str) -> String {
        self.counters.key(kind, subject)
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

    /// Counts a second-step code for `username` from `client`, or refuses it. Codes have
    /// counters of their own, which a right password does not clear (else re-entering the
    /// password would reset the guessing of codes): per (account, client network)
    /// `--login-max-failures`, and per account four times that.
    pub async fn begin_code(&self, username: &str, client: IpAddr) -> Result<Attempt> {
        let network = client::network(client);
        self.reserve(vec![
            (self.key("code-pair", &format!("{network}/{username}")), self.config.max_failures),
            (self.key("code-account", username), self.config.max_failures.saturating_mul(4)),
        ])
        .await
    }

    /// Counts a sign-up from `client` (never taken back), or refuses it.
    pub async fn begin_sign_up(&self, client: IpAddr) -> Result<()> {
        let key = self.key("signup", &client::network(client).to_string());
        self.reserve(vec![(key, self.config.signup_max_per_client)]).await.map(drop)
    }

    /// The password was right: the attempt is taken back and this client's (or device's)
    /// count for the account is cleared.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<()> {
        self.counters.take_back(&attempt.keys, attempt.member, true).await.map_err(unavailable)
    }

    /// The attempt ended without a verdict on the password (busy, a backend down).
    pub async fn abandoned(&self, attempt: Attempt) -> Result<()> {
        self.counters.take_back(&attempt.keys, attempt.member, false).await.map_err(unavailable)
    }

    async fn reserve(&self, limits: Vec<(String, usize)>) -> Result<Attempt> {
        let member = OsRng.next_u64();
        let wait = self.counters.reserve(&limits, member, self.config.window).await.map_err(unavailable)?;
        if !wait.is_zero() {
            return Err(ApiError::TooManyRequests { retry_after: wait });
        }
        Ok(Attempt { keys: limits.into_iter().map(|(key, _)| key).collect(), member })
    }
}

fn unavailable(err: impl Into<anyhow::Error>) -> ApiError {
    ApiError::unavailable(err.into().context("the throttling store failed"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn throttle(max: usize, per_client: usize, per_account: usize) -> LoginThrottle {
        let config = ThrottleConfig {
            max_failures: max,
            max_failures_per_client: per_client,
            max_failures_per_account: per_account,
            window: Duration::from_secs(60),
            signup_max_per_client: 2,
        };
        LoginThrottle::new(config, Counters::new(None))
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
}
