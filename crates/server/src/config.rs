//! All configuration, in one typed place: every flag is also a `TRACKLIST_*` variable, and
//! every default is written once, in its `#[arg]` (see [`defaults`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, FromArgMatches, Parser, ValueEnum};

#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Where users, tracks and sessions live; created on first run.
    /// `sqlite://FILE` (default) or `postgres://…`.
    #[arg(long, env = "TRACKLIST_DATABASE_URL", default_value = "sqlite://tracklist.db")]
    pub database_url: String,

    /// Where sessions live: `database` (the database's own session table), a Redis URL such
    /// as `redis://127.0.0.1:6379` (sessions and sign-in throttling counters, shared by every
    /// instance), or `memory` (this process only, lost on restart; the benchmark's baseline).
    #[arg(long, env = "TRACKLIST_SESSION_STORE", default_value = "database", value_parser = SessionStoreChoice::parse)]
    pub session_store: SessionStoreChoice,

    /// Prefix of Tracklist's own Redis keys (throttling counters), for a Redis shared with
    /// other deployments. Instances of one deployment must use the same prefix.
    #[arg(long, env = "TRACKLIST_REDIS_KEY_PREFIX", default_value = "tracklist")]
    pub redis_key_prefix: String,
}

/// `--session-store`, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStoreChoice {
    Database,
    Memory,
    /// A `redis://` or `rediss://` URL.
    Redis(String),
}

impl SessionStoreChoice {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "database" => Ok(Self::Database),
            "memory" => Ok(Self::Memory),
            url if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(Self::Redis(url.to_owned()))
            }
            other => {
                Err(format!("expected `database`, `memory` or a redis:// or rediss:// URL, got {other:?}"))
            }
        }
    }
}

/// As given on the command line.
impl std::fmt::Display for SessionStoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Database => f.write_str("database"),
            Self::Memory => f.write_str("memory"),
            Self::Redis(url) => f.write_str(url),
        }
    }
}

/// The server's settings (`tracklist serve`).
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "TRACKLIST_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Folder of the browser bundle Trunk built (`dist/`): the pages are rendered into its
    /// `index.html` and its files are served; without it only the API is served.
    #[arg(long, env = "TRACKLIST_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Mark the cookie `Secure` and use the `__Host-` name; turn on behind HTTPS.
    #[arg(long, env = "TRACKLIST_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Whether `POST /users` lets visitors create accounts.
    #[arg(long, env = "TRACKLIST_ALLOW_SIGNUP", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_signup: bool,

    /// The origin browsers use to reach this server (e.g. `https://tracks.example.com`), when
    /// a proxy in front makes the `Host` header differ; state-changing requests from any other
    /// origin are refused.
    #[arg(long, env = "TRACKLIST_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers say who the client is, as CIDR
    /// ranges or addresses (repeat the flag, or comma-separate in the variable). Only a
    /// request whose peer is in one of them has those headers read; the client is then the
    /// right-most address they name that is not itself a trusted proxy.
    #[arg(long = "trusted-proxy", env = "TRACKLIST_TRUSTED_PROXY", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    #[command(flatten)]
    pub throttle: ThrottleConfig,

    #[command(flatten)]
    pub connections: ConnectionConfig,

    #[command(flatten)]
    pub hashing: HashingConfig,

    /// Serve Prometheus metrics at `/metrics` on this separate address (e.g. 127.0.0.1:9100),
    /// never on the public port; off when not given.
    #[arg(long, env = "TRACKLIST_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// Memory, in MiB, for pages of the catalogue kept between requests, and as much again
    /// for rendered pages kept for their next view; 0 turns both off. A kept page is sent
    /// only while the catalogue is unchanged (see `catalogue_cache.rs`, `kept_pages.rs`).
    #[arg(long, env = "TRACKLIST_CATALOGUE_CACHE_MIB", default_value_t = 16)]
    pub catalogue_cache_mib: u64,

    /// Longest a search of the catalogue may run in the database; then it is stopped and
    /// answered 503. Most take well under a millisecond; a term few tracks hold scans or
    /// walks much of the catalogue, which at a million tracks takes a fraction of a second.
    #[arg(long, env = "TRACKLIST_SEARCH_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub search_timeout: Duration,

    /// Seed the demo user and tracks into an empty database.
    #[arg(long, env = "TRACKLIST_DEMO")]
    pub demo: bool,

    #[command(flatten)]
    pub session: SessionConfig,
}

#[derive(Debug, Clone, Args)]
pub struct SessionConfig {
    /// A session unused this long ends (e.g. `14days`, `30min`); activity slides it.
    #[arg(long = "session-idle-timeout", env = "TRACKLIST_SESSION_IDLE_TIMEOUT", default_value = "14days", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,

    /// A session ends this long after sign-in, however active.
    #[arg(long = "session-lifetime", env = "TRACKLIST_SESSION_LIFETIME", default_value = "30days", value_parser = humantime::parse_duration)]
    pub lifetime: Duration,

    /// The cookie's `SameSite` attribute.
    #[arg(long = "same-site", env = "TRACKLIST_SAME_SITE", value_enum, default_value_t = SameSite::Strict)]
    pub same_site: SameSite,

    /// How often expired sessions are deleted from the store.
    #[arg(long = "session-cleanup-interval", env = "TRACKLIST_SESSION_CLEANUP_INTERVAL", default_value = "1h", value_parser = humantime::parse_duration)]
    pub cleanup_interval: Duration,
}

/// Sign-in throttling over a sliding window (see `auth/throttle.rs`): attempts are counted
/// per (username, client network), per client network, and per username across every client
/// without a device cookie; a device cookie from an earlier sign-in has its own budget.
#[derive(Debug, Clone, Args)]
pub struct ThrottleConfig {
    /// Failed sign-ins allowed per username from one client network (an IPv4 address or an
    /// IPv6 /64), or from one recognised device, within the window.
    #[arg(long = "login-max-failures", env = "TRACKLIST_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub max_failures: usize,

    /// Failed sign-ins allowed per username within the window, summed over every client that
    /// holds no device cookie for it: the ceiling on distributed guessing. Devices that signed
    /// in before keep their own budget, so reaching it never locks the owner out.
    #[arg(
        long = "login-max-failures-per-account",
        env = "TRACKLIST_LOGIN_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 100
    )]
    pub max_failures_per_account: usize,

    /// Failed sign-ins allowed per client address, whatever the username, within the window.
    #[arg(
        long = "login-max-failures-per-client",
        env = "TRACKLIST_LOGIN_MAX_FAILURES_PER_CLIENT",
        default_value_t = 50
    )]
    pub max_failures_per_client: usize,

    /// The sliding window failures are counted over.
    #[arg(long = "login-window", env = "TRACKLIST_LOGIN_WINDOW", default_value = "15min", value_parser = humantime::parse_duration)]
    pub window: Duration,

    /// Sign-ups allowed per client network within the window (each one costs a password hash).
    #[arg(long = "signup-max-per-client", env = "TRACKLIST_SIGNUP_MAX_PER_CLIENT", default_value_t = 10)]
    pub signup_max_per_client: usize,
}

/// How long clients may take and how many may be connected (see `serve.rs`).
#[derive(Debug, Clone, Args)]
pub struct ConnectionConfig {
    /// Time a client has to send a request's headers (the first, or the next on a kept-alive
    /// connection); then the connection is closed.
    #[arg(long = "header-timeout", env = "TRACKLIST_HEADER_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,

    /// Longest pause while a request body arrives; then 408.
    #[arg(long = "body-timeout", env = "TRACKLIST_BODY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,

    /// Longest time from a request's headers to its response; then 503.
    #[arg(long = "request-timeout", env = "TRACKLIST_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Connections held open at once; beyond it new ones wait in the kernel's queue.
    #[arg(long = "max-connections", env = "TRACKLIST_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// On shutdown, how long requests in flight may take to finish before their connections
    /// are closed.
    #[arg(long = "shutdown-timeout", env = "TRACKLIST_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
}

/// The password-hashing pool (Argon2id costs ~15 ms of one core per check): one check per
/// core, and a queue of a few seconds' worth at ~60 checks per second per core. Hashes of
/// new passwords get half as many slots (at least one) and a quarter of the queue, in a lane
/// of their own.
#[derive(Debug, Clone, Args)]
pub struct HashingConfig {
    /// Password checks running at once (default: one per core).
    #[arg(long = "hash-concurrency", env = "TRACKLIST_HASH_CONCURRENCY", default_value_t = cores())]
    pub concurrency: usize,

    /// Password checks allowed to wait; beyond it sign-ins answer 503 with Retry-After.
    #[arg(long = "hash-queue", env = "TRACKLIST_HASH_QUEUE", default_value_t = 64 * cores())]
    pub queue: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SameSite {
    Strict,
    Lax,
}

impl Config {
    /// Settings for a server on `bind` with everything else at its default.
    pub fn new(database_url: &str, bind: SocketAddr) -> anyhow::Result<Self> {
        let bind = bind.to_string();
        Ok(Only::<Self>::try_parse_from(["tracklist", "--database-url", database_url, "--bind", &bind])?.only)
    }

    /// Checks what clap cannot; called once at start-up.
    pub fn validate(&self) -> anyhow::Result<()> {
        let session = &self.session;
        if session.idle_timeout.is_zero() || session.lifetime.is_zero() {
            bail!("--session-idle-timeout and --session-lifetime must be longer than zero");
        }
        if session.idle_timeout > session.lifetime {
            bail!("--session-idle-timeout must not be longer than --session-lifetime");
        }
        if session.cleanup_interval.is_zero() {
            bail!("--session-cleanup-interval must be longer than zero");
        }
        let connections = &self.connections;
        if [connections.header_timeout, connections.body_timeout, connections.request_timeout]
            .iter()
            .any(Duration::is_zero)
            || connections.max_connections == 0
        {
            bail!(
                "--header-timeout, --body-timeout, --request-timeout and --max-connections must be more than zero"
            );
        }
        if self.search_timeout.is_zero() || self.search_timeout > connections.request_timeout {
            // A search let run past its request's own limit would go on after the answer.
            bail!("--search-timeout must be longer than zero and no longer than --request-timeout");
        }
        if self.hashing.concurrency == 0 {
            bail!("--hash-concurrency must be at least 1");
        }
        let throttle = &self.throttle;
        if [throttle.max_failures, throttle.max_failures_per_client, throttle.max_failures_per_account]
            .contains(&0)
        {
            bail!(
                "--login-max-failures, --login-max-failures-per-client and --login-max-failures-per-account must be at least 1"
            );
        }
        if throttle.signup_max_per_client == 0 || throttle.window.is_zero() {
            bail!("--signup-max-per-client and --login-window must be more than zero");
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("--public-url must start with http:// or https://, got {url:?}");
        }
        if let Some(dir) = &self.static_dir {
            let index = dir.join("index.html");
            std::fs::metadata(&index)
                .with_context(|| format!("--static-dir: {} is missing", index.display()))?;
        }
        Ok(())
    }
}

/// A CIDR range, or a single address (a /32 or /128).
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither a CIDR range (10.0.0.0/8) nor an IP address"))
}

/// The machine's cores, for the hashing defaults.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `T` as the command line would make it with no flags given: clap's defaults, and the
/// `TRACKLIST_*` variables that are set. For the commands that need a part of the server's
/// configuration (`tracklist user …`).
pub fn defaults<T: Args + FromArgMatches>() -> anyhow::Result<T> {
    Ok(Only::<T>::try_parse_from(["tracklist"])?.only)
}

/// A command line of just `T`.
#[derive(Parser)]
struct Only<T: Args + FromArgMatches> {
    #[command(flatten)]
    only: T,
}

impl SessionConfig {
    /// The cookie's name: generic, and `__Host-` bound to this exact origin when secure.
    pub fn cookie_name(secure: bool) -> &'static str {
        if secure { "__Host-id" } else { "id" }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Config;

    #[test]
    fn a_search_timeout_must_be_more_than_zero_and_within_the_request_timeout() {
        let config = Config::new("sqlite://unused.db", "127.0.0.1:0".parse().expect("an address"))
            .expect("the defaults");
        config.validate().expect("the defaults are valid");

        for search_timeout in [Duration::ZERO, config.connections.request_timeout + Duration::from_millis(1)]
        {
            let err = Config { search_timeout, ..config.clone() }.validate().expect_err("refused");
            assert!(err.to_string().contains("--search-timeout"), "{err}");
        }
        let search_timeout = config.connections.request_timeout;
        Config { search_timeout, ..config }.validate().expect("as long as the request's own limit");
    }
}
