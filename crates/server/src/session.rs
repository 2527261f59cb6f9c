//! Server-side sessions (tower-sessions over the application database's own session table,
//! or Redis when instances share sessions; see `store`).
//!
//! The cookie carries only the opaque session id (128 random bits); what a session means,
//! the signed-in user and its deadlines, lives in the store, so deleting the record revokes
//! the session for good. Two deadlines apply:
//! - idle: the store record expires `idle_timeout` after the last refresh. Refreshing writes
//!   the store, so it happens only once less than half the idle window remains: most
//!   requests only read.
//! - absolute: `lifetime` after sign-in the session ends however active it is.
//!
//! Next to the store, `user_sessions` indexes each user's sessions so they can be listed and
//! revoked (one, all but the current one, or all when an account is disabled).
//!
//! Revocation is final (SECURITY.md 24): a request is signed in only while its store record
//! exists, its index row exists and points at this very session id, and the session's
//! [`CredentialEpoch`] matches the account. The index and account are read in one query, the
//! one that loads the user anyway; the store never re-creates a deleted record (see `store`).

mod epoch;
mod store;

use std::net::IpAddr;

use anyhow::Context;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use shared::SessionInfo;
use tower_sessions::cookie::{self, Cookie};
use tower_sessions::session::Id;
use tower_sessions::session_store::SessionStore;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::auth::{token, two_factor};
use crate::clock::{self, millis, now_millis};
use crate::config::{Config, SameSite, SessionConfig};
use crate::db::users::Account;
use crate::db::{self, Db};
use crate::error::{ApiError, Result};

pub use epoch::CredentialEpoch;
pub use store::Store;

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
pub fn layer(store: Store, policy: CookiePolicy) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(policy.name)
        .with_http_only(true)
        .with_path("/")
        .with_same_site(policy.same_site)
        .with_secure(policy.secure)
}

/// The session key holding [`SignedIn`].
const SIGNED_IN: &str = "signed_in";

/// "Last seen" is kept to this resolution, so activity costs a write at most this often.
const SEEN_RESOLUTION_MS: i64 = 5 * 60 * 1000;

/// The session key of a sign-in whose password was right, waiting for its second step.
const PENDING: &str = "pending";

/// How long a sign-in waits for its second step.
const PENDING_FOR_MS: i64 = 5 * 60 * 1000;

/// A sign-in waiting for its second step: the session can do nothing but take a code, or end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub user_id: i64,
    /// The account's credentials when the password was checked.
    epoch: CredentialEpoch,
    /// Unix milliseconds.
    until: i64,
}

/// The session key of an authenticator key offered for enrolment, not yet confirmed.
const OFFERED_KEY: &str = "offered_key";

/// How long an expired one-time link is kept.
const LINKS_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// What a signed-in session stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub user_id: i64,
    /// This session's row in the per-user index (`db::sessions`), shown to the user.
    pub reference: String,
    /// Unix milliseconds.
    signed_in_at: i64,
    /// Unix milliseconds; mirrors the store record's expiry, which the session API cannot read.
    expires_at: i64,
    /// Unix milliseconds, to [`SEEN_RESOLUTION_MS`].
    seen_at: i64,
    /// The account's credentials at sign-in; sessions from before epochs existed have none.
    #[serde(default)]
    epoch: CredentialEpoch,
}

/// The entries of a stored record that a signed-in request reads, decoded from it directly
/// (see `store::decode_data`); the field names are the keys [`SIGNED_IN`] and [`PENDING`].
#[derive(Deserialize)]
struct Held {
    signed_in: Option<SignedIn>,
    pending: Option<IgnoredAny>,
}

/// Who is signing in, for the session list.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub address: IpAddr,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn new(address: IpAddr, headers: &HeaderMap) -> Self {
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(256).collect());
        Self { address, user_agent }
    }
}

/// Sessions with their deadlines and the per-user index that lets a user see and revoke them.
#[derive(Clone)]
pub struct Sessions {
    db: Db,
    store: Store,
    config: SessionConfig,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Sessions {
    pub fn new(db: Db, store: Store, config: SessionConfig) -> Self {
        Self { db, store, config }
    }

    /// Signs `user_id` in on this session under a fresh id, so any id the client held before
    /// (planted by an attacker or left from an earlier sign-in) is dead from now on.
    /// `account` is the account as it was read before its password was checked: if its
    /// credentials changed meanwhile, the session is born with a stale epoch and never works.
    pub async fn start(&self, session: &Session, account: &Account, client: &ClientInfo) -> Result<()> {
        if let Some(previous) = session.get::<SignedIn>(SIGNED_IN).await? {
            db::sessions::delete(&self.db, &previous.reference).await?;
        }
        session.remove_value(PENDING).await?;
        session.cycle_id().await?;
        let now = now_millis();
        let hard_end = now.saturating_add(millis(self.config.lifetime));
        let expires_at = now.saturating_add(millis(self.config.idle_timeout)).min(hard_end);
        let signed_in = SignedIn {
            user_id: account.id,
            reference: new_reference(),
            signed_in_at: now,
            expires_at,
            seen_at: now,
            epoch: CredentialEpoch::of(account),
        };
        store_in(session, &signed_in).await?;
        // Saving now, not when the response leaves, gives the session its id for the index.
        session.save().await?;
        let session_id = session.id().context("a saved session has an id")?.to_string();
        let row = db::sessions::NewSession {
            reference: &signed_in.reference,
            session_id: &session_id,
            user_id: account.id,
            expires_at,
            user_agent: client.user_agent.as_deref(),
            client_addr: &client.address.to_string(),
        };
        db::sessions::insert(&self.db, &row).await?;
        Ok(())
    }

    /// The account signed in on this session, if the session is still valid (see the module
    /// doc). May write: an invalid session is ended, and the idle deadline slides when less
    /// than half of it remains, after every check has passed. A session waiting for its
    /// second step fails with [`ApiError::SecondFactorRequired`].
    pub async fn resume(&self, session: &Session) -> Result<Option<(Account, SignedIn)>> {
        let Some((signed_in, account)) = self.read(session).await? else {
            return Ok(None);
        };
        let now = now_millis();
        let hard_end = signed_in.signed_in_at.saturating_add(millis(self.config.lifetime));
        if now >= hard_end || now >= signed_in.expires_at {
            self.end(session).await?;
            return Ok(None);
        }
        let Some(account) = account.filter(|account| {
            account.id == signed_in.user_id && !account.disabled && signed_in.epoch.is_current_for(account)
        }) else {
            // Revoked, rotated away, or the password changed or the account was disabled since.
            // The index row goes only if it is this session's: after a rotation it belongs to
            // the session's successor, which a request still in flight must not sign out.
            let session_id = session.id().context("a loaded session has an id")?.to_string();
            db::sessions::delete_for_session(&self.db, &signed_in.reference, &session_id).await?;
            session.flush().await?;
            return Ok(None);
        };
        let idle = millis(self.config.idle_timeout);
        if signed_in.expires_at - now < idle / 2 || now - signed_in.seen_at > SEEN_RESOLUTION_MS {
            let expires_at = now.saturating_add(idle).min(hard_end);
            let refreshed = SignedIn { expires_at, seen_at: now, ..signed_in };
            store_in(session, &refreshed).await?;
            db::sessions::touch(&self.db, &refreshed.reference, expires_at).await?;
            return Ok(Some((account, refreshed)));
        }
        Ok(Some((account, signed_in)))
    }

    /// The password was right and a code must follow: the session, under a fresh id, holds
    /// only that (anything it was signed in as before is ended) for five minutes.
    pub async fn start_pending(&self, session: &Session, account: &Account) -> Result<()> {
        if let Some(previous) = session.get::<SignedIn>(SIGNED_IN).await? {
            db::sessions::delete(&self.db, &previous.reference).await?;
        }
        session.clear().await;
        session.cycle_id().await?;
        let until = now_millis().saturating_add(PENDING_FOR_MS);
        session.set_expiry(Some(Expiry::AtDateTime(clock::from_millis(until))));
        let pending = Pending { user_id: account.id, epoch: CredentialEpoch::of(account), until };
        session.insert(PENDING, &pending).await?;
        session.save().await?;
        Ok(())
    }

    /// The sign-in waiting on this session for its second step, while it may still take one.
    pub async fn pending(&self, session: &Session) -> Result<Option<Pending>> {
        let pending = session.get::<Pending>(PENDING).await?;
        Ok(pending.filter(|pending| pending.until > now_millis()))
    }

    /// Finishes a pending sign-in for `account` (read after the code was checked): signed in
    /// under yet another id, unless the account changed credentials or was disabled since
    /// the password was checked.
    pub async fn finish_pending(
        &self,
        session: &Session,
        pending: &Pending,
        account: &Account,
        client: &ClientInfo,
    ) -> Result<bool> {
        if account.id != pending.user_id || account.disabled || !pending.epoch.is_current_for(account) {
            self.end(session).await?;
            return Ok(false);
        }
        self.start(session, account, client).await?;
        Ok(true)
    }

    /// Keeps an authenticator key offered for enrolment in the (server-side) session until
    /// the user confirms it with a code; a new offer replaces it.
    pub async fn offer_key(&self, session: &Session, secret: &[u8]) -> Result<()> {
        session.insert(OFFERED_KEY, two_factor::encode_secret(secret)).await?;
        Ok(())
    }

    /// The key offered on this session, if any.
    pub async fn offered_key(&self, session: &Session) -> Result<Option<Vec<u8>>> {
        let offered = session.get::<String>(OFFERED_KEY).await?;
        Ok(offered.as_deref().and_then(two_factor::decode_secret))
    }

    /// Forgets the key offered on this session (it was confirmed).
    pub async fn forget_offered_key(&self, session: &Session) -> Result<()> {
        session.remove_value(OFFERED_KEY).await?;
        Ok(())
    }

    /// What the session holds, and the account its index row names if that row is this
    /// session's. Where the store lives in the database, one statement reads both;
    /// otherwise (and when there is no record, so that tower-sessions forgets the cookie as
    /// usual) the record comes through the session, then the account.
    async fn read(&self, session: &Session) -> Result<Option<(SignedIn, Option<Account>)>> {
        // No id and nothing set on it yet: the request brought no session cookie (or one the
        // layer could not parse), so there is nothing to read.
        if session.id().is_none() && !session.is_modified() {
            return Ok(None);
        }
        // The stored record is the session only until this request changes it.
        if let Some(id) = session.id().filter(|_| !session.is_modified())
            && let Some(indexed) = self.store.load_indexed(&id).await?
        {
            let Held { signed_in, pending } = store::decode_data(&indexed.record)?;
            let Some(signed_in) = signed_in else {
                if pending.is_some() {
                    return Err(ApiError::SecondFactorRequired);
                }
                return Ok(None);
            };
            let account = indexed
                .account
                .filter(|(reference, _)| *reference == signed_in.reference)
                .map(|(_, account)| account);
            return Ok(Some((signed_in, account)));
        }
        let Some(signed_in) = session.get::<SignedIn>(SIGNED_IN).await? else {
            if self.pending(session).await?.is_some() {
                return Err(ApiError::SecondFactorRequired);
            }
            return Ok(None);
        };
        let session_id = session.id().context("a loaded session has an id")?.to_string();
        let account = db::users::find_by_session(&self.db, &signed_in.reference, &session_id).await?;
        Ok(Some((signed_in, account)))
    }

    /// Deletes the session from the store and the index; the layer then expires the cookie.
    /// Returns who was signed in on it, if anyone.
    pub async fn end(&self, session: &Session) -> Result<Option<SignedIn>> {
        let signed_in = session.get::<SignedIn>(SIGNED_IN).await?;
        if let Some(signed_in) = &signed_in {
            db::sessions::delete(&self.db, &signed_in.reference).await?;
        }
        session.flush().await?;
        Ok(signed_in)
    }

    /// Gives the current session a new id after a password change, keeping it signed in under
    /// the account's new credentials (`account` as it is now).
    pub async fn rotate(&self, session: &Session, signed_in: &SignedIn, account: &Account) -> Result<()> {
        let rebound = SignedIn { epoch: CredentialEpoch::of(account), ..signed_in.clone() };
        store_in(session, &rebound).await?;
        session.cycle_id().await?;
        session.save().await?;
        let session_id = session.id().context("a saved session has an id")?.to_string();
        db::sessions::set_session_id(&self.db, &signed_in.reference, &session_id).await?;
        Ok(())
    }

    /// The user's active sessions, `current` marking the one with this reference.
    pub async fn list(&self, user_id: i64, current: &str) -> Result<Vec<SessionInfo>> {
        let rows = db::sessions::list(&self.db, user_id, now_millis()).await?;
        Ok(rows
            .into_iter()
            .map(|row| SessionInfo {
                current: row.reference == current,
                id: row.reference,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
                user_agent: row.user_agent,
                client_address: row.client_addr,
            })
            .collect())
    }

    /// Revokes one of the user's sessions; `false` when the user has no such session.
    pub async fn revoke(&self, user_id: i64, reference: &str) -> Result<bool> {
        let Some(row) = db::sessions::find(&self.db, user_id, reference).await? else {
            return Ok(false);
        };
        self.delete(&row).await?;
        Ok(true)
    }

    /// Revokes every session of the user but `keep`; returns how many had not yet expired.
    pub async fn revoke_all(&self, user_id: i64, keep: Option<&str>) -> Result<usize> {
        let rows = db::sessions::all_of(&self.db, user_id).await?;
        let now = now_millis();
        let mut revoked = 0;
        for row in rows.iter().filter(|row| Some(row.reference.as_str()) != keep) {
            self.delete(row).await?;
            revoked += usize::from(row.expires_at > now);
        }
        Ok(revoked)
    }

    /// Store record first: once it is gone the cookie is worthless, whatever happens next.
    async fn delete(&self, row: &db::sessions::IndexedSession) -> Result<()> {
        if let Ok(id) = row.session_id.parse::<Id>() {
            self.store.delete(&id).await?;
        }
        db::sessions::delete(&self.db, &row.reference).await?;
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Deletes expired records from the store and the index (and expired device cookies,
    /// which share the clean-up's schedule), every `cleanup_interval`.
    pub async fn delete_expired_forever(self) {
        let mut interval = tokio::time::interval(self.config.cleanup_interval);
        loop {
            interval.tick().await;
            if let Err(err) = self.store.delete_expired().await {
                tracing::error!(%err, "cannot delete expired sessions");
            }
            if let Err(err) = db::sessions::delete_expired(&self.db, now_millis()).await {
                tracing::error!(%err, "cannot delete expired session index rows");
            }
            if let Err(err) = db::devices::delete_expired(&self.db, now_millis()).await {
                tracing::error!(%err, "cannot delete expired device cookies");
            }
            // Kept a week past their deadline, so that opening one still says it expired.
            if let Err(err) = db::links::delete_expired(&self.db, now_millis() - LINKS_KEPT_MS).await {
                tracing::error!(%err, "cannot delete expired one-time links");
            }
        }
    }
}

async fn store_in(session: &Session, signed_in: &SignedIn) -> Result<()> {
    session.set_expiry(Some(Expiry::AtDateTime(clock::from_millis(signed_in.expires_at))));
    session.insert(SIGNED_IN, signed_in).await?;
    Ok(())
}

/// 128 random bits, base64url: unguessable, and unrelated to the session id.
fn new_reference() -> String {
    URL_SAFE_NO_PAD.encode(token::random_bytes::<16>())
}

/// Fixes what the session layer set on a response (applied by `headers::Guarded`, outside it):
/// - tower-sessions 0.14 expires the cookie with only `Path` set; a browser ignores a removal
///   of a `__Host-` cookie that lacks `Secure`, so the removal gets the full attribute set;
/// - any response that sets or clears the session cookie must not be stored by a cache.
pub fn harden_cookies(policy: CookiePolicy, response: &mut Response) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::session::Record;

    fn signed_in() -> SignedIn {
        SignedIn {
            user_id: 7,
            reference: "reference".into(),
            signed_in_at: 1,
            expires_at: 2,
            seen_at: 3,
            epoch: CredentialEpoch::of(&Account {
                id: 7,
                username: "ann".into(),
                password_hash: "$argon2id$hash".into(),
                is_admin: false,
                disabled: false,
            }),
        }
    }

    /// A record as tower-sessions stores write it: each entry a JSON value, the whole
    /// record MessagePack.
    fn stored(entries: Vec<(&str, serde_json::Value)>) -> Vec<u8> {
        let data = entries.into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
        let record = Record { id: Id::default(), data, expiry_date: time::OffsetDateTime::now_utc() };
        rmp_serde::to_vec(&record).expect("a record encodes")
    }

    #[test]
    fn a_sign_in_decodes_straight_from_the_stored_record() {
        let record = stored(vec![
            (SIGNED_IN, serde_json::to_value(signed_in()).expect("a sign-in encodes")),
            (OFFERED_KEY, serde_json::Value::String("key".into())),
        ]);
        let held: Held = store::decode_data(&record).expect("the record decodes");
        let decoded = held.signed_in.expect("the sign-in is found");
        assert_eq!(serde_json::to_value(decoded).ok(), serde_json::to_value(signed_in()).ok());
        assert!(held.pending.is_none());
    }

    #[test]
    fn a_record_waiting_for_its_second_step_is_pending_and_not_signed_in() {
        let pending = Pending { user_id: 7, epoch: CredentialEpoch::default(), until: 1 };
        let record = stored(vec![(PENDING, serde_json::to_value(pending).expect("it encodes"))]);
        let held: Held = store::decode_data(&record).expect("the record decodes");
        assert!(held.signed_in.is_none() && held.pending.is_some());
        let held: Held = store::decode_data(&stored(vec![])).expect("an empty record decodes");
        assert!(held.signed_in.is_none() && held.pending.is_none());
    }

    #[test]
    fn a_record_that_is_not_one_is_a_decode_error() {
        assert!(store::decode_data::<Held>(b"\x93\x01").is_err());
        assert!(store::decode_data::<Held>(&[]).is_err());
    }
}
