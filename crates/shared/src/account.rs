//! Sign-in, sign-up and the signed-in user.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validate::{self, Checker};

/// `POST /login`, sent urlencoded like an HTML form (JSON is accepted too).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginForm {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
}

// Passwords never reach a log line through `{:?}`.
impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl LoginForm {
    /// Only emptiness is checked: a login must not reveal the password policy of an account.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("username", || validate::required(&self.username));
        check.field("password", || validate::required(&self.password));
        check.finish()
    }
}

/// `POST /users`: create an account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupForm {
    /// Compared in lower case.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    )]
    pub username: String,
    /// Counted after Unicode NFKC normalisation; breached passwords are refused.
    #[cfg_attr(feature = "openapi", schema(min_length = 15, max_length = 128))]
    pub password: String,
    /// An invitation link's token (its fragment): signs up even with sign-up closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<String>,
}

impl std::fmt::Debug for SignupForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupForm")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("invitation", &self.invitation.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl SignupForm {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("username", || validate::username(&self.username));
        check.field("password", || validate::password(&self.password));
        check.finish()
    }
}

/// A user as the API shows it (`GET /users/me`, `POST /users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
}

/// `{"success": true}`, the seed app's answer to login and logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuccessBody {
    pub success: bool,
}

impl SuccessBody {
    pub const OK: Self = Self { success: true };
}

/// `PUT /users/me/password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub current_password: String,
    /// Counted after Unicode NFKC normalisation; breached passwords are refused.
    #[cfg_attr(feature = "openapi", schema(min_length = 15, max_length = 128))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

impl PasswordChange {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("current_password", || validate::required(&self.current_password));
        check.field("new_password", || validate::password(&self.new_password));
        check.finish()
    }
}

/// One of the signed-in user's active sessions (`GET /users/me/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// A reference for revoking it; not the session id, which never leaves the cookie.
    pub id: String,
    /// RFC 3339 timestamps; `last_seen_at` is updated at most every few minutes.
    pub created_at: String,
    pub last_seen_at: String,
    pub user_agent: Option<String>,
    pub client_address: Option<String>,
    /// The session this request came with.
    pub current: bool,
}
