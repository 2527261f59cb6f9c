//! Secrets the server hands out once and checks later: device cookies, one-time links and
//! recovery codes. Only a SHA-256 digest of each is stored, and a presented secret is checked
//! by comparing digests, fixed-length, with `subtle`'s constant-time equality (SECURITY.md 30):
//! a stolen table mints nothing, and how long a check takes says nothing about how much of a
//! guess was right (the digest of a near miss shares no prefix with the real one).

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `selector.verifier`, 128 random bits each (base64url): the selector finds the stored row,
/// the verifier proves the holder got the whole token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub selector: String,
    verifier: [u8; 16],
}

impl Token {
    pub fn new() -> Self {
        Self { selector: URL_SAFE_NO_PAD.encode(random_bytes::<16>()), verifier: random_bytes() }
    }

    /// A well-formed `selector.verifier`, or `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let (selector, verifier) = text.split_once('.')?;
        let selector_ok = URL_SAFE_NO_PAD.decode(selector).is_ok_and(|bytes| bytes.len() == 16);
        let verifier = URL_SAFE_NO_PAD.decode(verifier).ok()?.try_into().ok()?;
        selector_ok.then(|| Self { selector: selector.to_owned(), verifier })
    }

    /// What is stored in place of the verifier.
    pub fn verifier_digest(&self) -> [u8; 32] {
        digest(&self.verifier)
    }

    /// Whether this token's verifier is the one `stored_digest` was made from.
    pub fn matches(&self, stored_digest: &[u8]) -> bool {
        digest_matches(&self.verifier_digest(), stored_digest)
    }
}

impl Default for Token {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.selector, URL_SAFE_NO_PAD.encode(self.verifier))
    }
}

/// Never prints the verifier.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("selector", &self.selector).finish_non_exhaustive()
    }
}

/// SHA-256 of a secret: what is stored and compared in its place.
pub fn digest(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

/// Constant-time equality of a presented secret's digest and a stored one (a stored value of
/// another length, which no digest has, never matches).
pub fn digest_matches(presented: &[u8; 32], stored: &[u8]) -> bool {
    presented.as_slice().ct_eq(stored).into()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(verifier: [u8; 16]) -> Token {
        Token { selector: URL_SAFE_NO_PAD.encode([7u8; 16]), verifier }
    }

    #[test]
    fn a_token_survives_its_text_form_and_only_well_formed_text_parses() {
        let original = Token::new();
        assert_eq!(Token::parse(&original.to_string()), Some(original.clone()));
        let selector = &original.selector;
        for bad in ["", "abc.def", selector.as_str(), &format!("{selector}."), &format!("{original}x")] {
            assert!(Token::parse(bad).is_none(), "{bad:?}");
        }
        assert!(!format!("{original:?}").contains(&original.to_string()), "Debug shows the verifier");
    }

    #[test]
    fn only_the_exact_verifier_matches_and_near_misses_share_no_digest_prefix() {
        let real = [0x5a; 16];
        let stored = token(real).verifier_digest();
        assert!(token(real).matches(&stored));
        // Guesses right in none, half, and all but the last byte of the verifier. Compared
        // as they are, a byte-by-byte comparison would take longer the more bytes are right;
        // compared as digests, every guess already differs in the first byte, and the
        // comparison itself (`subtle`) takes the same time wherever they differ.
        for right in [0, 8, 15] {
            let mut guess = real;
            for byte in &mut guess[right..] {
                *byte ^= 0xff;
            }
            let guess = token(guess);
            assert!(!guess.matches(&stored), "{right} right bytes matched");
            assert_ne!(guess.verifier_digest()[0], stored[0], "{right} right bytes: digests share a prefix");
        }
        assert!(!token(real).matches(&stored[..31]), "a stored value of another length matched");
    }
}
