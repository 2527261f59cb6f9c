//! Accounts: `POST /users` (sign-up), `GET /users/me`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use shared::{SignupForm, User};

use crate::auth;
use crate::error::{ApiError, Result};
use crate::extract::{CurrentUser, FormOrJson};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/users", post(sign_up)).route("/users/me", get(me))
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
    let account =
        auth::create_account(&state.db, &state.passwords, &form.username, &form.password, false).await?;
    tracing::info!(event = "user_created", user_id = account.id, username = %account.username, %client, "account created");
    Ok((StatusCode::CREATED, Json(account.view())))
}
