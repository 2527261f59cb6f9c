//! The HTTP API, one module per resource, each exposing `router()`. Every route is registered
//! through utoipa-axum, so the OpenAPI document is built from the same list the router is.

pub mod account;
pub mod health;
pub mod links;
pub mod login;
pub mod tracks;
pub mod two_factor;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Sign-in forms are tiny; a small limit keeps guessing cheap for us.
const AUTH_BODY_LIMIT: usize = 64 * 1024;
const BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tracklist", description = "A music-track library with session-cookie accounts."),
    modifiers(&SessionCookie),
    tags(
        (name = "account", description = "Signing in and out, the signed-in user"),
        (name = "sessions", description = "The signed-in user's sessions"),
        (name = "two-step sign-in", description = "Authenticator codes and recovery codes"),
        (name = "links", description = "One-time links: password resets and invitations"),
        (name = "tracks", description = "The catalogue"),
        (name = "operations", description = "Probes"),
    )
)]
struct ApiDoc;

/// Makes room for the session-cookie security scheme that [`document`] names.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.components.get_or_insert_with(Default::default);
    }
}

/// The OpenAPI document, with the session cookie under the name this server uses.
pub fn document(mut openapi: utoipa::openapi::OpenApi, cookie_name: &str) -> utoipa::openapi::OpenApi {
    if let Some(components) = openapi.components.as_mut() {
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                cookie_name,
                "The session cookie set by POST /login",
            ))),
        );
    }
    openapi
}

/// Every API route that may use the session, with body limits, `no-store` on everything
/// about accounts, and compression where bodies are large enough to gain from it (the
/// catalogue).
pub fn router() -> OpenApiRouter<AppState> {
    let accounts = OpenApiRouter::new()
        .merge(login::router())
        .merge(account::router())
        .merge(two_factor::router())
        .merge(links::router())
        .layer(DefaultBodyLimit::max(AUTH_BODY_LIMIT))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let changes = tracks::changes().layer(DefaultBodyLimit::max(BODY_LIMIT)).layer(CompressionLayer::new());
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(accounts).merge(changes)
}

/// The routes that use no session, which the server mounts outside the session layer: the
/// health probes (a few bytes, not compressed) and the catalogue's reads. Even untouched, the
/// layer costs every request it wraps a cookie jar and a session handle, and their checks on
/// the way out: about 6 µs of the 35-60 µs of server CPU a catalogue read costs (two A/Bs,
/// page cache off, ten rounds each way; see docs/performance.md).
pub fn sessionless() -> OpenApiRouter<AppState> {
    let catalogue = tracks::reads().layer(CompressionLayer::new());
    health::router().merge(catalogue)
}
