//! Accounts: sign-up, who am I, my sessions, my password.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use shared::{FieldErrors, PasswordChange, SessionInfo, SignupForm, SuccessBody, User};

use crate::auth::{self, policy};
use crate::db;
use crate::error::{ApiError, Result};
use crate::extract::{CurrentUser, FormOrJson, Path};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(sign_up))
        .route("/users/me", get(me))
        .route("/users/me/password", put(change_password))
        .route("/users/me/sessions", get(sessions).delete(revoke_other_sessions))
        .route("/users/me/sessions/{id}", delete(revoke_session))
}

async fn me(CurrentUser { account, .. }: CurrentUser) -> Json<User> {
    Json(account.view())
}

async fn sign_up(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    FormOrJson(form): FormOrJson<SignupForm>,
) -> Result<(StatusCode, Json<User>)> {
    if !state.config.allow_signup {
        return Err(ApiError::Forbidden("Sign-up is disabled on this server"));
    }
    form.validate().map_err(ApiError::invalid_fields)?;
    policy::check_new_password(&form.password, &form.username).map_err(|m| field_error("password", m))?;
    let account =
        auth::create_account(&state.db, &state.passwords, &form.username, &form.password, false).await?;
    tracing::info!(event = "user_created", user_id = account.id, username = %account.username, %client, "account created");
    Ok((StatusCode::CREATED, Json(account.view())))
}

/// Needs the current password; revokes every other session and gives this one a new id, so
/// whoever knew the old password (or held a copied cookie) is out.
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    CurrentUser { account, signed_in, session }: CurrentUser,
    FormOrJson(change): FormOrJson<PasswordChange>,
) -> Result<Json<SuccessBody>> {
    change.validate().map_err(ApiError::invalid_fields)?;
    // Guessing the current password from a stolen session is throttled like sign-in.
    state.throttle.check(&account.username, client.ip()).await?;
    let verdict = state.passwords.verify(&change.current_password, Some(&account.password_hash)).await?;
    if !verdict.matches {
        state.throttle.record_failure(&account.username, client.ip()).await?;
        tracing::warn!(event = "password_change_refused", user_id = account.id, %client, "wrong current password");
        return Err(field_error("current_password", "is not your current password".into()));
    }
    policy::check_new_password(&change.new_password, &account.username)
        .map_err(|m| field_error("new_password", m))?;
    let hash = state.passwords.hash(&change.new_password).await?;
    db::users::set_password_hash(&state.db, account.id, &hash).await?;
    let revoked = state.sessions.revoke_all(account.id, Some(&signed_in.reference)).await?;
    state.sessions.rotate(&session, &signed_in).await?;
    tracing::info!(event = "password_changed", user_id = account.id, revoked, %client, "password changed");
    Ok(Json(SuccessBody::OK))
}

async fn sessions(
    State(state): State<AppState>,
    CurrentUser { account, signed_in, .. }: CurrentUser,
) -> Result<Json<Vec<SessionInfo>>> {
    Ok(Json(state.sessions.list(account.id, &signed_in.reference).await?))
}

/// Signs out everywhere else.
async fn revoke_other_sessions(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    CurrentUser { account, signed_in, .. }: CurrentUser,
) -> Result<Json<SuccessBody>> {
    let revoked = state.sessions.revoke_all(account.id, Some(&signed_in.reference)).await?;
    tracing::info!(event = "sessions_revoked", user_id = account.id, revoked, %client, "other sessions revoked");
    Ok(Json(SuccessBody::OK))
}

async fn revoke_session(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    CurrentUser { account, signed_in, session }: CurrentUser,
    Path(reference): Path<String>,
) -> Result<Json<SuccessBody>> {
    if reference == signed_in.reference {
        // Revoking this very session is signing out.
        state.sessions.end(&session).await?;
    } else if !state.sessions.revoke(account.id, &reference).await? {
        return Err(ApiError::NotFound("Session not found"));
    }
    tracing::info!(event = "session_revoked", user_id = account.id, %client, "session revoked");
    Ok(Json(SuccessBody::OK))
}

fn field_error(field: &str, message: String) -> ApiError {
    ApiError::invalid_fields(FieldErrors::from([(field.to_owned(), message)]))
}
