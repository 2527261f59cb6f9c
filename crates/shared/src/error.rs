//! The one error body every failing API call returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Messages for individual input fields, keyed by the field's wire name.
pub type FieldErrors = BTreeMap<String, String>;

/// `{"detail": "...", "code"?: "...", "fields"?: {...}}`, compatible with the seed app's
/// `{"detail": "..."}` bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A message fit to show a person.
    pub detail: String,
    /// A stable machine-readable code (e.g. `invalid_credentials`) for clients to match on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Per-field messages for 422 responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, String>>))]
    pub fields: Option<FieldErrors>,
}

impl ErrorBody {
    /// A body with only a message.
    pub fn new(detail: impl Into<String>) -> Self {
        Self { detail: detail.into(), code: None, fields: None }
    }
}
