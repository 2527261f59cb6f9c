//! Two-step sign-in: enrolment, the second step of signing in, recovery codes.

use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::validate::{self, Checker};

/// `POST /login` for an account with two-step sign-in on: the password was right, and the
/// session waits for a code (`POST /login/second-factor`). Answered with 202.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecondFactorRequired {
    pub second_factor_required: bool,
}

/// `POST /login/second-factor`, and regenerating recovery codes: a code from the
/// authenticator app (6 digits) or a recovery code (`xxxxx-xxxxx`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeForm {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32))]
    pub code: String,
}

impl std::fmt::Debug for CodeForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeForm").finish_non_exhaustive()
    }
}

impl CodeForm {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("code", || code(&self.code));
        check.finish()
    }
}

/// Turning two-step sign-in on (confirming the new key) or off: the password and a code.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorChange {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub password: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32))]
    pub code: String,
}

impl std::fmt::Debug for TwoFactorChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorChange").finish_non_exhaustive()
    }
}

impl TwoFactorChange {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("password", || validate::required(&self.password));
        check.field("code", || code(&self.code));
        check.finish()
    }
}

/// A new authenticator key, to add to an app (`POST /users/me/two-factor/setup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorSetup {
    /// The key in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/…` URL the QR code holds.
    pub otpauth_url: String,
    /// The QR code as an `<svg>` element, drawn by the server.
    pub qr_svg: String,
}

/// Whether two-step sign-in is on, how many recovery codes are left, and the key offered on
/// this session while it waits to be confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered: Option<TwoFactorSetup>,
}

/// Recovery codes, shown this once: each signs in once instead of an app code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// A code as typed: present and not absurdly long (the server decides what it is).
fn code(value: &str) -> Result<(), String> {
    validate::required(value)?;
    if value.chars().count() > 32 { Err("is too long".into()) } else { Ok(()) }
}
