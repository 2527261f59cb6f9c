//! Signing in and out: `POST /login`, `POST /logout`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use shared::{ErrorBody, LoginForm, SuccessBody, validate};
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Result};
use crate::extract::FormOrJson;
use crate::session::ClientInfo;
use crate::state::AppState;
use crate::{auth, metrics};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout))
}

/// Sign in.
///
/// Urlencoded like an HTML form, or JSON. Success starts a session under a new id (the
/// `id` cookie, `HttpOnly`, `SameSite=Strict`).
#[utoipa::path(post, path = "/login", tag = "account",
    request_body(content(
        (LoginForm = "application/x-www-form-urlencoded"),
        (LoginForm = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SuccessBody),
        (status = 401, description = "Incorrect username or password", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 422, description = "Missing or empty fields", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
        (status = 503, description = "Busy or a backend is unavailable; see Retry-After", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    FormOrJson(form): FormOrJson<LoginForm>,
) -> Result<Json<SuccessBody>> {
    form.validate().map_err(ApiError::invalid_fields)?;
    let username = validate::normalize_username(&form.username);
    if let Err(err) = state.throttle.check(&username, client.ip()).await {
        if matches!(err, ApiError::TooManyRequests { .. }) {
            metrics::login("throttled");
            tracing::warn!(event = "login_throttled", %username, %client, "sign-in throttled");
        }
        return Err(err);
    }
    let account = match auth::authenticate(&state, &username, &form.password).await {
        Ok(account) => account,
        Err(err) => {
            if matches!(err, ApiError::InvalidCredentials) {
                metrics::login("failure");
                state.throttle.record_failure(&username, client.ip()).await?;
                tracing::warn!(event = "login_failed", %username, %client, "sign-in refused");
            }
            return Err(err);
        }
    };
    metrics::login("success");
    state.throttle.record_success(&username, client.ip()).await?;
    state.sessions.start(&session, &account, &ClientInfo::new(client, &headers)).await?;
    tracing::info!(event = "login_succeeded", user_id = account.id, username = %account.username, %client, "signed in");
    Ok(Json(SuccessBody::OK))
}

/// Sign out.
///
/// Deletes the session server-side, so a copy of the cookie is worthless afterwards.
/// Succeeds without a session too: the client is signed out either way.
#[utoipa::path(post, path = "/logout", tag = "account",
    responses(
        (status = 200, description = "Signed out; the cookie is expired", body = SuccessBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 503, description = "The session store is unavailable", body = ErrorBody),
    ))]
async fn logout(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    session: Session,
) -> Result<Json<SuccessBody>> {
    // Read and delete in one go: checking or sliding the deadline first would only write a
    // record that is about to be deleted.
    if let Some(signed_in) = state.sessions.end(&session).await? {
        tracing::info!(event = "logout", user_id = signed_in.user_id, %client, "signed out");
    }
    Ok(Json(SuccessBody::OK))
}
