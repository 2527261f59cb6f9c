//! The tracks catalogue.

use serde::{Deserialize, Deserializer, Serialize};

use crate::FieldErrors;
use crate::validate::{self, Checker};

/// A track as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Track {
    pub id: i64,
    pub title: String,
    pub artist: String,
    pub album: Option<String>,
    pub year: Option<i32>,
    pub label: Option<String>,
    /// Id of the user who added the track (they, and admins, may change it).
    pub created_by: Option<i64>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /tracks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTrack {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub title: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub artist: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
    pub album: Option<String>,
    /// From 1000 to next year.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1000))]
    pub year: Option<i32>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
    pub label: Option<String>,
}

impl NewTrack {
    /// `current_year` comes from the caller's clock: this crate has none of its own.
    pub fn validate(&self, current_year: i32) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("title", || validate::track_text(&self.title));
        check.field("artist", || validate::track_text(&self.artist));
        check.field("album", || validate::optional(self.album.as_deref(), validate::track_text));
        check.field("label", || validate::optional(self.label.as_deref(), validate::track_text));
        check.field("year", || match self.year {
            Some(year) => validate::year(year, current_year),
            None => Ok(()),
        });
        check.finish()
    }

    /// Trims the text fields and turns blank optional ones into `None`, as stored.
    pub fn tidy(self) -> Self {
        fn text(value: String) -> String {
            value.trim().to_owned()
        }
        fn optional(value: Option<String>) -> Option<String> {
            value.map(text).filter(|value| !value.is_empty())
        }
        Self {
            title: text(self.title),
            artist: text(self.artist),
            album: optional(self.album),
            year: self.year,
            label: optional(self.label),
        }
    }
}

/// `PATCH /tracks/{id}`: absent fields stay as they are; `null` clears an optional one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")
    )]
    pub artist: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
    pub album: Option<Option<String>>,
    /// From 1000 to next year.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1000))]
    pub year: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
    pub label: Option<Option<String>>,
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`, via `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl TrackUpdate {
    /// The track after this update, for checks and for storing.
    pub fn apply_to(&self, track: &NewTrack) -> NewTrack {
        NewTrack {
            title: self.title.clone().unwrap_or_else(|| track.title.clone()),
            artist: self.artist.clone().unwrap_or_else(|| track.artist.clone()),
            album: self.album.clone().unwrap_or_else(|| track.album.clone()),
            year: self.year.unwrap_or(track.year),
            label: self.label.clone().unwrap_or_else(|| track.label.clone()),
        }
    }
}

/// `GET /tracks?skip=&limit=&q=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ListQuery {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 0, maximum = 10_000))]
    pub skip: i64,
    #[serde(default = "ListQuery::default_limit")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: i64,
    /// Case-insensitive substring of the title or the artist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
    pub q: Option<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self { skip: 0, limit: Self::DEFAULT_LIMIT, q: None }
    }
}

impl ListQuery {
    pub const DEFAULT_LIMIT: i64 = 20;
    pub const MAX_LIMIT: i64 = 100;
    /// Pages start at most this far in: a deeper OFFSET makes the database step over that
    /// many rows for every request, which a client could ask for at will. Searching narrows
    /// a catalogue better than paging 500 pages in.
    pub const MAX_SKIP: i64 = 10_000;

    fn default_limit() -> i64 {
        Self::DEFAULT_LIMIT
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut check = Checker::default();
        check.field("skip", || {
            if (0..=Self::MAX_SKIP).contains(&self.skip) {
                Ok(())
            } else {
                Err(format!("must be between 0 and {}", Self::MAX_SKIP))
            }
        });
        check.field("limit", || {
            if (1..=Self::MAX_LIMIT).contains(&self.limit) {
                Ok(())
            } else {
                Err(format!("must be between 1 and {}", Self::MAX_LIMIT))
            }
        });
        check.field("q", || match &self.q {
            Some(q) if q.chars().count() > validate::TRACK_TEXT_MAX => {
                Err(format!("must be at most {} characters", validate::TRACK_TEXT_MAX))
            }
            Some(q) => validate::printable(q),
            None => Ok(()),
        });
        check.finish()
    }

    /// The search term, if it says anything.
    pub fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }
}

impl From<&Track> for NewTrack {
    /// The editable fields of a stored track.
    fn from(track: &Track) -> Self {
        Self {
            title: track.title.clone(),
            artist: track.artist.clone(),
            album: track.album.clone(),
            year: track.year,
            label: track.label.clone(),
        }
    }
}
