//! The one error type the UI sees.

use serde::{Deserialize, Serialize};
use shared::{ErrorBody, FieldErrors};

/// Serialisable: a page the server rendered carries its failed loads to the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientError {
    /// The server answered with an error body.
    Api { status: u16, body: ErrorBody },
    /// No answer: offline, server down.
    Network(String),
    /// An answer we could not read.
    Decode(String),
}

impl ClientError {
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Api { status: 401, .. })
    }

    /// A 401 because the session is gone (not a wrong password): sign in again.
    pub fn session_ended(&self) -> bool {
        matches!(self, Self::Api { status: 401, body } if body.code.as_deref() == Some("not_authenticated"))
    }

    /// A message fit to show.
    pub fn message(&self) -> String {
        match self {
            Self::Api { body, .. } => body.detail.clone(),
            Self::Network(_) => "Cannot reach the server. Check your connection and try again.".into(),
            Self::Decode(_) => "The server sent an answer this page cannot read.".into(),
        }
    }

    /// Per-field messages of a 422.
    pub fn fields(&self) -> FieldErrors {
        match self {
            Self::Api { body, .. } => body.fields.clone().unwrap_or_default(),
            _ => FieldErrors::new(),
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ClientError {}
