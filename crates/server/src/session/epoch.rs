//! The credential epoch a session is bound to (SECURITY.md 24 and 30).
//!
//! A session records a digest of the account's credentials at sign-in: its password hash
//! and whether it is disabled. Every request compares it with the account as it is now, so
//! changing the password or disabling the account ends every session made before, whichever
//! store holds them and whatever was in flight. That includes a sign-in that was verifying
//! the old password while it changed: its session carries the old epoch and is dead on
//! arrival.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::users::Account;

/// A SHA-256 digest of the account's credentials; all zeros in sessions made before epochs
/// existed, which therefore match no account.
#[derive(Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialEpoch([u8; 32]);

impl CredentialEpoch {
    pub fn of(account: &Account) -> Self {
        let digest = Sha256::new()
            .chain_update(b"tracklist credential epoch v1\0")
            .chain_update(account.password_hash.as_bytes())
            .chain_update([0, u8::from(account.disabled)])
            .finalize();
        Self(digest.into())
    }

    /// Whether `account` still has the credentials this epoch was taken from. Constant-time:
    /// the stored digest is derived from the password hash, so how much of it matches must not
    /// show in the response time.
    pub fn is_current_for(&self, account: &Account) -> bool {
        self.0.ct_eq(&Self::of(account).0).into()
    }
}

impl std::fmt::Debug for CredentialEpoch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialEpoch(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(password_hash: &str, disabled: bool) -> Account {
        Account {
            id: 1,
            username: "ann".into(),
            password_hash: password_hash.into(),
            is_admin: false,
            disabled,
        }
    }

    #[test]
    fn an_epoch_matches_only_the_credentials_it_was_taken_from() {
        let epoch = CredentialEpoch::of(&account("$argon2id$old", false));
        assert!(epoch.is_current_for(&account("$argon2id$old", false)));
        assert!(!epoch.is_current_for(&account("$argon2id$new", false)));
        assert!(!epoch.is_current_for(&account("$argon2id$old", true)));
    }

    #[test]
    fn a_session_without_an_epoch_matches_no_account() {
        assert!(!CredentialEpoch::default().is_current_for(&account("", false)));
    }
}
