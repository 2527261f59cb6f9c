//! Server-side sessions (tower-sessions over the SQLite store in the application database).
//!
//! The cookie carries only the opaque session id (128 random bits); what a session means,
//! the signed-in user and its deadlines, lives in the store, so deleting the record revokes
//! the session for good. Two deadlines apply:
//! - idle: the store record expires `idle_timeout` after the last refresh. Refreshing writes
//!   the store, so it happens only once less than half the idle window remains: most
//!   requests only read.
//! - absolute: `lifetime` after sign-in the session ends however active it is.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::cookie::{self, Cookie};
use tower_sessions::session::Error;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use crate::config::{Config, SameSite, SessionConfig};

/// The session key holding [`SignedIn`].
const SIGNED_IN: &str = "signed_in";

/// What a signed-in session stores.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: i64,
    /// Unix milliseconds.
    signed_in_at: i64,
    /// Unix milliseconds; mirrors the store record's expiry, which the session API cannot read.
    expires_at: i64,
}

/// How the session cookie is set, shared by the session layer and [`harden_cookies`].
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub name: &'static str,
    pub secure: bool,
    pub same_site: cookie::SameSite,
}

impl CookiePolicy {
    pub fn from_config(config: &Config) -> Self {
        Self {
            name: SessionConfig::cookie_name(config.secure_cookies),
            secure: config.secure_cookies,
            same_site: match config.session.same_site {
                SameSite::Strict => cookie::SameSite::Strict,
                SameSite::Lax => cookie::SameSite::Lax,
            },
        }
    }
}

/// The session layer: `HttpOnly`, `Path=/`, no `Domain`, `SameSite` and `Secure` by policy.
pub fn layer(store: SqliteStore, policy: CookiePolicy) -> SessionManagerLayer<SqliteStore> {
    SessionManagerLayer::new(store)
        .with_name(policy.name)
        .with_http_only(true)
        .with_path("/")
        .with_same_site(policy.same_site)
        .with_secure(policy.secure)
}

/// Signs `user_id` in on this session under a fresh id, so any id the client held before
/// (planted by an attacker or left from an earlier sign-in) is dead from now on.
pub async fn start(session: &Session, user_id: i64, config: &SessionConfig) -> Result<(), Error> {
    session.cycle_id().await?;
    let signed_in_at = now_millis();
    let hard_end = signed_in_at.saturating_add(millis(config.lifetime));
    let expires_at = signed_in_at.saturating_add(millis(config.idle_timeout)).min(hard_end);
    save(session, SignedIn { user_id, signed_in_at, expires_at }).await
}

/// The signed-in user of this session, if any, enforcing the absolute lifetime and sliding
/// the idle deadline when it is near.
pub async fn current(session: &Session, config: &SessionConfig) -> Result<Option<SignedIn>, Error> {
    let Some(signed_in) = session.get::<SignedIn>(SIGNED_IN).await? else {
        return Ok(None);
    };
    let now = now_millis();
    let hard_end = signed_in.signed_in_at.saturating_add(millis(config.lifetime));
    if now >= hard_end || now >= signed_in.expires_at {
        end(session).await?;
        return Ok(None);
    }
    let idle = millis(config.idle_timeout);
    if signed_in.expires_at - now < idle / 2 {
        let expires_at = now.saturating_add(idle).min(hard_end);
        save(session, SignedIn { expires_at, ..signed_in }).await?;
    }
    Ok(Some(signed_in))
}

/// Deletes the session from the store; the layer then expires the cookie.
pub async fn end(session: &Session) -> Result<(), Error> {
    session.flush().await
}

async fn save(session: &Session, signed_in: SignedIn) -> Result<(), Error> {
    let nanos = i128::from(signed_in.expires_at) * 1_000_000;
    let expiry = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    session.set_expiry(Some(Expiry::AtDateTime(expiry)));
    session.insert(SIGNED_IN, signed_in).await
}

fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Response middleware around the session layer:
/// - tower-sessions 0.14 expires the cookie with only `Path` set; a browser ignores a removal
///   of a `__Host-` cookie that lacks `Secure`, so the removal gets the full attribute set;
/// - any response that sets or clears the session cookie must not be stored by a cache.
pub async fn harden_cookies(
    axum::extract::State(policy): axum::extract::State<CookiePolicy>,
    mut response: Response,
) -> Response {
    let headers = response.headers_mut();
    let set_cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    let mut touches_session = false;
    headers.remove(header::SET_COOKIE);
    for value in set_cookies {
        let fixed = value
            .to_str()
            .ok()
            .and_then(|text| Cookie::parse(text).ok())
            .filter(|cookie| cookie.name() == policy.name)
            .and_then(|mut cookie| {
                touches_session = true;
                if cookie.max_age() != Some(time::Duration::ZERO) {
                    return None;
                }
                cookie.set_http_only(true);
                cookie.set_secure(policy.secure);
                cookie.set_same_site(policy.same_site);
                HeaderValue::from_str(&cookie.to_string()).ok()
            });
        headers.append(header::SET_COOKIE, fixed.unwrap_or(value));
    }
    if touches_session {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
