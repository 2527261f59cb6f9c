//! The server's one error type and how each variant answers over HTTP.
//!
//! Client errors carry a message that is safe to show; `Internal` keeps its cause for the log
//! and answers with a generic body, so no database or library text ever reaches a client.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::{ErrorBody, FieldErrors};

/// Handlers return this; `E` defaults to [`ApiError`].
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// Wrong password and unknown user alike, so the answer tells nothing about accounts.
    #[error("Incorrect username or password")]
    InvalidCredentials,
    #[error("Not authenticated")]
    NotAuthenticated,
    /// The password was right; the session waits for a code (`POST /login/second-factor`).
    #[error("Enter the code from your authenticator app to finish signing in")]
    SecondFactorRequired,
    /// A wrong, used or expired code at the second step of signing in.
    #[error("That code is not right. Try the current one, or a recovery code.")]
    InvalidCode,
    #[error("Two-step sign-in is not on for this account")]
    TwoFactorOff,
    /// A one-time link that was used or expired.
    #[error("{0}")]
    LinkUnusable(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// The `Host` is not one this server answers for (DNS rebinding).
    #[error("This server does not serve that host")]
    MisdirectedRequest,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("Request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    #[error("Too many failed sign-in attempts. Try again in {} seconds.", whole_seconds(*retry_after))]
    TooManyRequests { retry_after: std::time::Duration },
    #[error("{detail}")]
    Validation { detail: String, fields: Option<FieldErrors> },
    /// The request body stalled for longer than `--body-timeout`.
    #[error("The request body arrived too slowly")]
    BodyTimeout,
    /// The request ran past `--request-timeout`.
    #[error("The request took too long")]
    RequestTimeout,
    /// A search ran past `--search-timeout` and was stopped.
    #[error("The search took too long; try a longer or more precise term")]
    SearchTimeout,
    /// The database or the session store is out of reach; the cause, when known, is logged.
    #[error("Service temporarily unavailable")]
    Unavailable(Option<anyhow::Error>),
    /// Too many password checks are queued: shed load rather than queue without bound.
    #[error("The server is busy; try again in a moment")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// 422 with a message per field.
    pub fn invalid_fields(fields: FieldErrors) -> Self {
        Self::Validation { detail: "Some fields are invalid".into(), fields: Some(fields) }
    }

    /// 422 with a message for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid_fields(FieldErrors::from([(field.to_owned(), message.into())]))
    }

    /// 422 for input that is malformed as a whole (bad JSON, a non-numeric id).
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::Validation { detail: detail.into(), fields: None }
    }

    /// A backend out of reach, for this reason.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable(Some(cause.into()))
    }

    /// The status and the stable code clients match on: the one table of both.
    pub fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::NotAuthenticated => (StatusCode::UNAUTHORIZED, "not_authenticated"),
            Self::SecondFactorRequired => (StatusCode::UNAUTHORIZED, "second_factor_required"),
            Self::InvalidCode => (StatusCode::UNAUTHORIZED, "invalid_code"),
            Self::TwoFactorOff => (StatusCode::CONFLICT, "two_factor_off"),
            Self::LinkUnusable(_) => (StatusCode::GONE, "link_unusable"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::MisdirectedRequest => (StatusCode::MISDIRECTED_REQUEST, "misdirected_request"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            Self::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            Self::RequestTimeout => (StatusCode::SERVICE_UNAVAILABLE, "request_timeout"),
            Self::SearchTimeout => (StatusCode::SERVICE_UNAVAILABLE, "search_timeout"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&err) { Self::unavailable(err) } else { Self::Internal(err.into()) }
    }
}

impl From<crate::db::Error> for ApiError {
    fn from(err: crate::db::Error) -> Self {
        match err {
            err if err.is_timed_out() => Self::SearchTimeout,
            crate::db::Error::Sqlx(err) => err.into(),
            err if err.is_unavailable() => Self::unavailable(err),
            err => Self::Internal(err.into()),
        }
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(err: tower_sessions::session::Error) -> Self {
        match err {
            tower_sessions::session::Error::Store(err) => err.into(),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<tower_sessions::session_store::Error> for ApiError {
    fn from(err: tower_sessions::session_store::Error) -> Self {
        // Store failures are the backend being out of reach (or answering garbage): the
        // request may succeed once it is back.
        Self::unavailable(anyhow::Error::new(err).context("the session store failed"))
    }
}

impl ApiError {
    /// The status, the extra headers (`Retry-After`, `WWW-Authenticate`) and the body this
    /// error answers with, as JSON or inside a page. Errors are logged here, the one place.
    pub fn answer(self) -> (StatusCode, HeaderMap, ErrorBody) {
        let (status, code) = self.parts();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after } => Some(whole_seconds(*retry_after)),
            _ => None,
        };
        let mut body = ErrorBody::new(self.to_string());
        body.code = Some(code.to_owned());
        // `{:?}` of anyhow prints the whole cause chain; the client gets none of it.
        match self {
            Self::Internal(err) => {
                tracing::error!(error = ?err, "request failed");
                body.detail = "Internal server error".into();
            }
            Self::Unavailable(Some(cause)) => tracing::error!(error = ?cause, "a backend is unavailable"),
            Self::SearchTimeout => tracing::warn!("a search ran past --search-timeout and was stopped"),
            Self::Validation { fields, .. } => body.fields = fields,
            _ => {}
        }
        let mut headers = HeaderMap::new();
        if status == StatusCode::UNAUTHORIZED {
            // What a 401 must carry (RFC 9110); the scheme names our cookie session.
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Cookie"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        (status, headers, body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, headers, body) = self.answer();
        (status, headers, axum::Json(body)).into_response()
    }
}

/// Seconds for `Retry-After`, rounded up so a client that waits that long is let in.
fn whole_seconds(duration: std::time::Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Outermost response check: the session layer answers a failed session save with a bare
/// 500; that is the store being out of reach, so it becomes the JSON 503 everything else gets.
pub fn json_for_bare_failures(response: Response) -> Response {
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        return ApiError::Unavailable(None).into_response();
    }
    response
}

/// `answer`, or 503 when it runs past `limit` (`--request-timeout`); what it was doing is
/// dropped, as when the client goes away.
pub async fn time_limit(
    limit: std::time::Duration,
    answer: impl std::future::Future<Output = Response>,
) -> Response {
    match tokio::time::timeout(limit, answer).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            ApiError::RequestTimeout.into_response()
        }
    }
}

/// Router fallback: unknown API paths answer JSON, not an empty 404.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found")
}

/// Router fallback for a known path with the wrong method (`GET /logout`).
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
