//! One-time links: a password reset, an invitation to sign up. The link's secret travels in
//! its fragment (`#selector.verifier`), which browsers never send to the server nor put in a
//! `Referer`; the page reads it and sends it in a request body.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validate::{self, Checker};

/// `POST /password-reset`: the reset link's token and the new password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordReset {
    /// The link's fragment, `selector.verifier`.
    pub token: String,
    /// Counted after Unicode NFKC normalisation; breached passwords are refused.
    #[cfg_attr(feature = "openapi", schema(min_length = 15, max_length = 128))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordReset").finish_non_exhaustive()
    }
}

impl PasswordReset {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("token", || validate::required(&self.token));
        check.field("new_password", || validate::password(&self.new_password));
        check.finish()
    }
}

/// `POST /invitations` (admins): an invitation to sign up, even with sign-up closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationRequest {
    /// Whether the new account is an admin.
    #[serde(default)]
    pub is_admin: bool,
    /// How long the link works, like `1h` or `7days` (default 7 days, at most 30).
    #[serde(default)]
    pub valid_for: Option<String>,
}

/// `POST /users/{name}/reset-link` (admins): how long the link works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetLinkRequest {
    /// Like `1h` (the default) or `2days`, at most 30 days.
    #[serde(default)]
    pub valid_for: Option<String>,
}

/// A link made once: pass it on, it is not shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OneTimeLink {
    pub link: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    Reset,
    Invite,
}

/// Whether a link can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Valid,
    Used,
    Expired,
}

/// `GET /links/{selector}`: what a page opened from a link tells its reader before the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkStatus {
    pub purpose: LinkPurpose,
    pub state: LinkState,
}

impl LinkState {
    /// What the page says about a link it cannot use.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Valid => "This link is valid.",
            Self::Used => "This link was already used. Ask for a new one.",
            Self::Expired => "This link has expired. Ask for a new one.",
        }
    }
}

/// The token in a link's fragment (`#selector.verifier`, or `#` alone), and its selector.
pub fn token_of_fragment(fragment: &str) -> Option<(&str, &str)> {
    let token = fragment.strip_prefix('#').unwrap_or(fragment).trim();
    let (selector, verifier) = token.split_once('.')?;
    (!selector.is_empty() && !verifier.is_empty()).then_some((token, selector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_yields_its_token_and_selector() {
        assert_eq!(token_of_fragment("#abc.def"), Some(("abc.def", "abc")));
        assert_eq!(token_of_fragment("abc.def"), Some(("abc.def", "abc")));
        for bad in ["", "#", "#abc", "#.def", "#abc."] {
            assert_eq!(token_of_fragment(bad), None, "{bad:?}");
        }
    }
}
