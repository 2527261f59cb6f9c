//! Pieces shared by pages.

mod credentials;
mod field;
mod track_form;
mod two_step;

pub use credentials::{CredentialFields, new_password_hint};
pub use field::{ErrorMessage, Field};
pub use track_form::TrackForm;
pub use two_step::TwoStepSettings;
