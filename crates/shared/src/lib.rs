//! Tracklist's wire types and validation rules.
//!
//! Everything here is shared by the server (authoritative checks) and the browser (instant
//! feedback), so it must stay free of I/O and of server-only dependencies: it compiles for
//! `wasm32-unknown-unknown` as well as natively.

pub mod account;
pub mod error;
pub mod links;
pub mod navigation;
pub mod track;
pub mod two_factor;
pub mod validate;

pub use account::{LoginForm, PasswordChange, SessionInfo, SignupForm, SuccessBody, User};
pub use error::{ErrorBody, FieldErrors};
pub use links::{
    InvitationRequest, LinkPurpose, LinkState, LinkStatus, OneTimeLink, PasswordReset, ResetLinkRequest,
};
pub use navigation::safe_next;
pub use track::{ListQuery, NewTrack, Track, TrackUpdate};
pub use two_factor::{
    CodeForm, RecoveryCodes, SecondFactorRequired, TwoFactorChange, TwoFactorSetup, TwoFactorStatus,
};
