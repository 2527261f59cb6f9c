//! Extractors whose rejections are [`ApiError`]s, so malformed input gets the same JSON body
//! shape as every other error, and the current-user extractors.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::error::ApiError;
use crate::pages::Pages;
use crate::session::SignedIn;
use crate::state::AppState;
use crate::{client, db};

/// JSON both ways: as an extractor, a body that must be `Content-Type: application/json`
/// and is rejected with our error body; as a response, the value serialised. The one `Json`
/// handlers use.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// An urlencoded form body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct Form<T>(pub T);

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A body sent either like an HTML form or as JSON, chosen by `Content-Type`.
#[derive(Debug)]
pub struct FormOrJson<T>(pub T);

impl<T, S> FromRequest<S> for FormOrJson<T>
where
    T: DeserializeOwned + 'static,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            Json::from_request(req, state).await.map(|Json(value)| Self(value))
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            Form::from_request(req, state).await.map(|Form(value)| Self(value))
        } else {
            Err(ApiError::UnsupportedMediaType(
                "Expected an application/x-www-form-urlencoded or application/json body",
            ))
        }
    }
}

/// Axum answers 413 when a body passes the configured limit; a body that stalls past
/// `--body-timeout` fails with tower-http's timeout error somewhere in the cause chain.
fn body_error(err: &(dyn std::error::Error + 'static), status: StatusCode, text: String) -> ApiError {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::BodyTimeout;
        }
        cause = err.source();
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::BadRequest(text)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                Self::UnsupportedMediaType("Expected a JSON body (Content-Type: application/json)")
            }
            JsonRejection::JsonDataError(err) => Self::unprocessable(err.body_text()),
            JsonRejection::JsonSyntaxError(err) => Self::unprocessable(err.body_text()),
            JsonRejection::BytesRejection(err) => body_error(&err, err.status(), err.body_text()),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        match rejection {
            FormRejection::InvalidFormContentType(_) => Self::UnsupportedMediaType(
                "Expected a form body (Content-Type: application/x-www-form-urlencoded)",
            ),
            FormRejection::FailedToDeserializeForm(err) => Self::unprocessable(err.body_text()),
            FormRejection::FailedToDeserializeFormBody(err) => Self::unprocessable(err.body_text()),
            FormRejection::BytesRejection(err) => body_error(&err, err.status(), err.body_text()),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::unprocessable(rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::unprocessable(rejection.body_text())
    }
}

/// The signed-in user and their session; rejects with 401 when there is no valid session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: db::users::Account,
    pub signed_in: SignedIn,
    pub session: Session,
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the session layer is missing"))?;
        match state.sessions.resume(&session).await? {
            Some((account, signed_in)) => Ok(Self { account, signed_in, session }),
            None => Err(ApiError::NotAuthenticated),
        }
    }
}

/// Signed in or not: `None` without a valid session (or with one still waiting for its second
/// step), errors (a backend down) still fail.
impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        match <Self as FromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(ApiError::NotAuthenticated | ApiError::SecondFactorRequired) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// Whether the browser itself sent this request as a page navigation, as it does when it
/// submits an HTML form without JavaScript, and so expects a page back rather than JSON:
/// `Sec-Fetch-Mode: navigate`, or, from a browser without Fetch Metadata, an `Accept` that
/// lists `text/html` first. `fetch()` (mode `cors`/`same-origin`, `Accept: */*`) and curl
/// get JSON as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Navigation(bool);

impl Navigation {
    pub fn is_browser(self) -> bool {
        self.0
    }

    /// The pages to answer this browser with: `None` for API callers, and when this server
    /// renders no pages (no `--static-dir`), so both get the JSON answer.
    pub fn pages(self, state: &AppState) -> Option<&Pages> {
        state.pages.as_ref().filter(|_| self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Navigation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name| parts.headers.get(name).and_then(|value| value.to_str().ok());
        let navigation = match header("sec-fetch-mode") {
            Some(mode) => mode == "navigate",
            None => header("accept").is_some_and(|accept| accept.trim_start().starts_with("text/html")),
        };
        Ok(Self(navigation))
    }
}

/// The client's address: the peer's, or the one a trusted proxy forwarded for (`client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddr
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("the server runs without connect info"))?;
        let state = AppState::from_ref(state);
        Ok(Self(client::resolve(peer.ip(), &parts.headers, &state.config.trusted_proxies)))
    }
}
