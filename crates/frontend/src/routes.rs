//! Every page path of the app. None of them shadows an API path (`/login`, `/logout`,
//! `/users/…`, `/tracks…`), so the server can tell pages from API calls by path alone.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Library,
    SignIn,
    /// The second step of signing in (two-step sign-in): the code.
    SignInCode,
    SignUp,
    Account,
    /// Opened from a password-reset link.
    ResetPassword,
}

impl Page {
    pub const fn path(self) -> &'static str {
        match self {
            Self::Library => "/",
            Self::SignIn => "/sign-in",
            Self::SignInCode => "/sign-in/code",
            Self::SignUp => "/sign-up",
            Self::Account => "/account",
            Self::ResetPassword => "/reset-password",
        }
    }

    /// The sign-in page, coming back to `next` afterwards.
    pub fn sign_in_then(next: &str) -> String {
        Self::SignIn.then(next)
    }

    /// This page, going on to `next` afterwards.
    pub fn then(self, next: &str) -> String {
        format!("{}?next={}", self.path(), encode_component(next))
    }
}

/// The API paths the pages' plain forms post to. A browser's refused post is answered with
/// its page again, naming the form it refused (see `data::FormEcho`): both sides use these.
pub mod form_action {
    pub const LOGIN: &str = "/login";
    pub const SECOND_FACTOR: &str = "/login/second-factor";
    pub const SIGN_UP: &str = "/users";
    pub const TWO_STEP_SETUP: &str = "/users/me/two-factor/setup";
    pub const TWO_STEP_ENABLE: &str = "/users/me/two-factor/enable";
    pub const TWO_STEP_DISABLE: &str = "/users/me/two-factor/disable";
    pub const RECOVERY_CODES: &str = "/users/me/two-factor/recovery-codes";
}

/// What `encodeURIComponent` leaves alone; this runs on the server too, so not through JS.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A query-string value, encoded.
pub fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}
