//! Argon2id password hashing, off the async runtime.

use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use shared::validate::normalize_password;

/// Hashes and verifies passwords with Argon2id at OWASP's minimum parameters
/// (19 MiB, 2 passes, 1 lane). Each hash runs on a blocking thread: at ~15 ms of CPU it would
/// otherwise stall every request sharing the runtime worker.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    argon2: Argon2<'static>,
    /// Verified against when the user does not exist, so that costs what a real check costs.
    dummy_hash: String,
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
    pub fn new() -> anyhow::Result<Self> {
        Self::with_params(Params::new(19 * 1024, 2, 1, None).context("Argon2 parameters")?)
    }

    pub fn with_params(params: Params) -> anyhow::Result<Self> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(b"a password nobody has", &salt)
            .context("hashing the dummy password")?
            .to_string();
        Ok(Self { inner: Arc::new(Inner { argon2, dummy_hash }) })
    }

    /// A PHC-format hash of the NFKC-normalised password.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let inner = self.inner.clone();
        let password = normalize_password(password);
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            inner
                .argon2
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|err| anyhow::anyhow!("hashing a password: {err}"))
        })
        .await
        .context("the hashing thread died")?
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no user,
    /// which always fails but costs the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> anyhow::Result<Verdict> {
        let inner = self.inner.clone();
        let password = normalize_password(password);
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
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
        })
        .await
        .context("the hashing thread died")?
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

    fn cheap() -> Passwords {
        Passwords::with_params(Params::new(64, 1, 1, None).expect("valid")).expect("hasher")
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
        let current = Passwords::new().expect("hasher");
        let verdict = current.verify("an old password here", Some(&old)).await.expect("verify");
        assert!(verdict.matches && verdict.needs_rehash);
    }
}
