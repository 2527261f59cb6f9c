//! The HTTP API, one module per resource, each exposing `router()`.

pub mod account;
pub mod health;
pub mod tracks;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// Sign-in forms are tiny; a small limit keeps guessing cheap for us.
const AUTH_BODY_LIMIT: usize = 64 * 1024;
const BODY_LIMIT: usize = 1024 * 1024;

/// Every API route, with body limits, and `no-store` on everything about accounts.
pub fn router() -> Router<AppState> {
    let accounts = Router::new()
        .merge(account::router())
        .merge(users::router())
        .layer(DefaultBodyLimit::max(AUTH_BODY_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let catalogue = tracks::router().layer(DefaultBodyLimit::max(BODY_LIMIT));
    Router::new().merge(accounts).merge(catalogue).merge(health::router())
}
