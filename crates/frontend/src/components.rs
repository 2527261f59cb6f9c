//! Pieces shared by pages.

mod field;
mod track_form;

pub use field::{ErrorMessage, Field};
pub use track_form::TrackForm;
