//! One routed component per page.

mod account;
mod library;
mod not_found;
mod reset_password;
mod sign_in;
mod sign_in_code;
mod sign_up;

pub use account::AccountPage;
pub use library::LibraryPage;
pub use not_found::NotFoundPage;
pub use reset_password::ResetPasswordPage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;
