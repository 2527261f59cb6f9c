//! Argon2id password hashing, off the async runtime, on a bounded pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use shared::validate::normalize_password;
use tokio::sync::Semaphore;

use crate::config::HashingConfig;
use crate::error::ApiError;

/// Hashes and verifies passwords with Argon2id at OWASP's minimum parameters
/// (19 MiB, 2 passes, 1 lane). Each hash runs on a blocking thread: at ~15 ms of CPU it would
/// otherwise stall every request sharing the runtime worker. Past a bounded queue the caller
/// is told to come back ([`HashError::Busy`]) instead of piling up work that would starve
/// every other request.
///
/// Checking a password (sign-in) and hashing a new one (sign-up, password change) wait in
/// separate queues with separate slots, so a flood of sign-ups can fill only its own queue and
/// never makes a sign-in wait behind it or answer 503 (SECURITY.md 25).
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    /// Verified against when the user does not exist, so that costs what a real check costs.
    dummy_hash: String,
    /// Checks of a password against a stored hash.
    verifying: Lane,
    /// Hashes of new passwords.
    hashing: Lane,
}

/// Slots that run hashes, and a bounded queue in front of them.
struct Lane {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
}

impl Lane {
    fn new(concurrency: usize, queue: usize) -> Self {
        Self { running: Arc::new(Semaphore::new(concurrency.max(1))), waiting: AtomicUsize::new(0), queue }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks are waiting")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<HashError> for ApiError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Self::Busy,
            HashError::Failed(err) => Self::Internal(err),
        }
    }
}

/// The outcome of [`Passwords::verify`].
#[derive(Debug, Clone, Copy)]
pub struct Verdict {
    pub matches: bool,
    /// The stored hash uses other parameters than the current ones.
    pub needs_rehash: bool,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(limits: &HashingConfig) -> anyhow::Result<Self> {
        Self::with_params(Params::new(19 * 1024, 2, 1, None).context("Argon2 parameters")?, limits)
    }

    pub fn with_params(params: Params, limits: &HashingConfig) -> anyhow::Result<Self> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"a password nobody has", &salt)
            .context("hashing the dummy password")?
            .to_string();
        let inner = Inner {
            argon2,
            dummy_hash,
            verifying: Lane::new(limits.concurrency, limits.queue),
            hashing: Lane::new(limits.concurrency / 2, (limits.queue / 4).max(1)),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Hashes waiting for a free slot right now, in both lanes (for metrics).
    pub fn queue_depth(&self) -> usize {
        let Inner { verifying, hashing, .. } = &*self.inner;
        verifying.waiting.load(Ordering::Relaxed) + hashing.waiting.load(Ordering::Relaxed)
    }

    /// Runs `job` on a blocking thread once a slot of the lane is free, or refuses when the
    /// lane's queue is full.
    async fn run<T: Send + 'static>(
        &self,
        lane: fn(&Inner) -> &Lane,
        job: impl FnOnce(&Inner) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, HashError> {
        let inner = self.inner.clone();
        let slots = lane(&inner);
        if slots.waiting.fetch_add(1, Ordering::AcqRel) >= slots.queue {
            slots.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        let permit = slots.running.clone().acquire_owned().await;
        slots.waiting.fetch_sub(1, Ordering::AcqRel);
        let permit = permit.context("the hashing pool is closed")?;
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            job(&inner)
        })
        .await
        .context("the hashing thread died")?
        .map_err(HashError::Failed)
    }

    /// A PHC-format hash of the NFKC-normalised password.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = normalize_password(password);
        self.run(
            |inner| &inner.hashing,
            move |inner| {
                let salt = SaltString::generate(&mut OsRng);
                inner
                    .argon2
                    .hash_password(password.as_bytes(), &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|err| anyhow::anyhow!("hashing a password: {err}"))
            },
        )
        .await
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no user,
    /// which always fails but costs the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verdict, HashError> {
        let password = normalize_password(password);
        let stored = stored.map(str::to_owned);
        self.run(
            |inner| &inner.verifying,
            move |inner| {
                let is_real = stored.is_some();
                let hash_text = stored.as_deref().unwrap_or(&inner.dummy_hash);
                // An unparsable stored hash is a broken account, not a server error for everyone.
                let Ok(hash) = PasswordHash::new(hash_text) else {
                    tracing::error!("a stored password hash is not in PHC format");
                    return Ok(Verdict { matches: false, needs_rehash: false });
                };
                let matches = inner.argon2.verify_password(password.as_bytes(), &hash).is_ok();
                let needs_rehash = matches && is_real && inner.is_outdated(&hash);
                Ok(Verdict { matches: matches && is_real, needs_rehash })
            },
        )
        .await
    }
}

impl Inner {
    fn is_outdated(&self, hash: &PasswordHash<'_>) -> bool {
        let current = self.argon2.params();
        let same = hash.algorithm == Algorithm::Argon2id.ident()
            && Params::try_from(hash).is_ok_and(|params| {
                params.m_cost() == current.m_cost()
                    && params.t_cost() == current.t_cost()
                    && params.p_cost() == current.p_cost()
            });
        !same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(concurrency: usize, queue: usize) -> HashingConfig {
        HashingConfig { concurrency, queue }
    }

    fn cheap() -> Passwords {
        Passwords::with_params(Params::new(64, 1, 1, None).expect("valid"), &limits(2, 8)).expect("hasher")
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = cheap();
        let hash = passwords.hash("correct horse battery").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse battery", Some(&hash)).await.expect("verify").matches);
        assert!(!passwords.verify("wrong horse battery", Some(&hash)).await.expect("verify").matches);
    }

    #[tokio::test]
    async fn no_user_never_matches_even_the_dummy_password() {
        let verdict = cheap().verify("a password nobody has", None).await.expect("verify");
        assert!(!verdict.matches);
    }

    #[tokio::test]
    async fn differently_composed_unicode_is_the_same_password() {
        let passwords = cheap();
        let hash = passwords.hash("caf\u{e9} au lait, s'il vous pla\u{ee}t").await.expect("hash");
        let decomposed = "cafe\u{301} au lait, s'il vous plai\u{302}t";
        assert!(passwords.verify(decomposed, Some(&hash)).await.expect("verify").matches);
    }

    #[tokio::test]
    async fn hashes_made_with_weaker_parameters_ask_for_a_rehash() {
        let old = cheap().hash("an old password here").await.expect("hash");
        let current = Passwords::new(&limits(2, 8)).expect("hasher");
        let verdict = current.verify("an old password here", Some(&old)).await.expect("verify");
        assert!(verdict.matches && verdict.needs_rehash);
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_instead_of_piling_up() {
        let passwords =
            Passwords::with_params(Params::new(19 * 1024, 2, 1, None).expect("valid"), &limits(1, 8))
                .expect("hasher");
        let attempts: Vec<_> = (0..12)
            .map(|n| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.hash(&format!("password number {n} here")).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Err(HashError::Busy) => busy += 1,
                Err(HashError::Failed(err)) => panic!("{err:?}"),
                Ok(_) => {}
            }
        }
        assert!(busy > 0, "some of 12 simultaneous hashes must be refused with 1 running and 2 queued");
        assert!(busy <= 9, "at least the running one and the queued ones complete");
    }
}
