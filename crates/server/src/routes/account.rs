//! Accounts: sign-up, who am I, my sessions, my password.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use frontend::Page;
use shared::{ErrorBody, LinkPurpose, PasswordChange, SessionInfo, SignupForm, SuccessBody, User};
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{self, links, policy};
use crate::db;
use crate::error::{ApiError, Result};
use crate::extract::{ClientAddr, CurrentUser, FormOrJson, Json, Navigation, Path};
use crate::session::ClientInfo;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(sessions, revoke_other_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_other_sessions_by_form))
        .routes(routes!(revoke_session_by_form))
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "account", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = User),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn me(CurrentUser { account, .. }: CurrentUser) -> Json<User> {
    Json(account.view())
}

/// Create an account (when sign-up is enabled, or with an invitation).
///
/// `invitation` is an invitation link's fragment (`POST /invitations`, `tracklist user
/// invite`): it works with sign-up closed, once, and may make the account an admin.
///
/// A browser posting the sign-up page's form itself (no JavaScript, see `POST /login`) is
/// signed in as the new user and sent to the library with 303, or gets the sign-up page
/// again with the message and the username.
#[utoipa::path(post, path = "/users", tag = "account",
    request_body(content((SignupForm = "application/json"), (SignupForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 201, description = "Created", body = User),
        (status = 303, description = "Created and signed in, from a browser's form post: to the library"),
        (status = 403, description = "Sign-up is disabled (and no invitation), or a cross-site request", body = ErrorBody),
        (status = 404, description = "The invitation is not a valid link", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 410, description = "The invitation was used or has expired", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 422, description = "Invalid username or password, with `fields`", body = ErrorBody),
        (status = 503, description = "Busy or a backend is unavailable", body = ErrorBody),
    ))]
async fn sign_up(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    headers: HeaderMap,
    session: Session,
    FormOrJson(form): FormOrJson<SignupForm>,
) -> Result<Response> {
    let Some(pages) = navigation.pages(&state) else {
        let account = create(&state, client, &form).await?;
        return Ok((StatusCode::CREATED, Json(account.view())).into_response());
    };
    let created = match create(&state, client, &form).await {
        Ok(account) => account,
        Err(refused) => {
            return Ok(pages
                .refused(
                    state.clone(),
                    Page::SignUp.path(),
                    None,
                    frontend::form_action::SIGN_UP,
                    form.username,
                    refused,
                )
                .await);
        }
    };
    state.sessions.start(&session, &created, &ClientInfo::new(client, &headers)).await?;
    Ok(Redirect::to(Page::Library.path()).into_response())
}

/// Creates the account `form` asks for: with sign-up open, or with an invitation (which also
/// says whether the account is an admin).
async fn create(state: &AppState, client: IpAddr, form: &SignupForm) -> Result<db::users::Account> {
    if !state.config.allow_signup && form.invitation.is_none() {
        return Err(ApiError::Forbidden("Sign-up is disabled on this server"));
    }
    form.validate().map_err(ApiError::invalid_fields)?;
    policy::check_new_password(&form.password, &form.username)
        .map_err(|m| ApiError::invalid_field("password", m))?;
    // Counted before the hash it costs; sign-ups hash in their own lane (see `Passwords`).
    state.throttle.begin_sign_up(client).await?;
    let invitation = match &form.invitation {
        Some(token) => Some(links::redeem(&state.db, token, LinkPurpose::Invite).await?),
        None => None,
    };
    let is_admin = invitation.as_ref().is_some_and(|(_, link)| link.is_admin);
    let account =
        match auth::create_account(&state.db, &state.passwords, &form.username, &form.password, is_admin)
            .await
        {
            Ok(account) => account,
            Err(err) => {
                if let Some((selector, _)) = &invitation {
                    links::give_back(&state.db, selector).await?;
                }
                return Err(err);
            }
        };
    let invited = invitation.is_some();
    tracing::info!(event = "user_created", user_id = account.id, username = %account.username, is_admin, invited, %client, "account created");
    Ok(account)
}

/// Change the password.
///
/// Needs the current password; revokes every other session and gives this one a new id, so
/// whoever knew the old password (or held a copied cookie) is out.
#[utoipa::path(put, path = "/users/me/password", tag = "account", security(("session_cookie" = [])),
    request_body(content((PasswordChange = "application/json"), (PasswordChange = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Changed; other sessions revoked, this one has a new id", body = SuccessBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 422, description = "Wrong current password or a weak new one, with `fields`", body = ErrorBody),
        (status = 429, description = "Too many wrong current passwords", body = ErrorBody),
        (status = 503, description = "Busy or a backend is unavailable", body = ErrorBody),
    ))]
async fn change_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    CurrentUser { account, signed_in, session }: CurrentUser,
    FormOrJson(change): FormOrJson<PasswordChange>,
) -> Result<Json<SuccessBody>> {
    change.validate().map_err(ApiError::invalid_fields)?;
    if !password_confirmed(&state, &account, client, &change.current_password).await? {
        return Err(ApiError::invalid_field("current_password", "is not your current password"));
    }
    policy::check_new_password(&change.new_password, &account.username)
        .map_err(|m| ApiError::invalid_field("new_password", m))?;
    let hash = state.passwords.hash(&change.new_password).await?;
    // From this write on, every other session's credential epoch is stale: they are signed
    // out even before the revocation below deletes them.
    db::users::set_password_hash(&state.db, account.id, &hash).await?;
    let revoked = state.sessions.revoke_all(account.id, Some(&signed_in.reference)).await?;
    let account = db::users::Account { password_hash: hash, ..account };
    state.sessions.rotate(&session, &signed_in, &account).await?;
    tracing::info!(event = "password_changed", user_id = account.id, revoked, %client, "password changed");
    Ok(Json(SuccessBody::OK))
}

/// Whether `password` is the signed-in `account`'s, asked again before a sensitive change.
/// Guessing it from a stolen session is throttled like sign-in, and a wrong one is logged.
pub(super) async fn password_confirmed(
    state: &AppState,
    account: &db::users::Account,
    client: IpAddr,
    password: &str,
) -> Result<bool> {
    let attempt = state.throttle.begin_sign_in(&account.username, client, None).await?;
    let verdict = match state.passwords.verify(password, Some(&account.password_hash)).await {
        Ok(verdict) => verdict,
        Err(err) => {
            state.throttle.abandoned(attempt).await?;
            return Err(err.into());
        }
    };
    if !verdict.matches {
        tracing::warn!(event = "password_confirmation_refused", user_id = account.id, %client, "wrong current password");
        return Ok(false);
    }
    state.throttle.succeeded(attempt).await?;
    Ok(true)
}

/// The signed-in user's active sessions.
#[utoipa::path(get, path = "/users/me/sessions", tag = "sessions", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "Active sessions, the current one marked", body = [SessionInfo]),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn sessions(
    State(state): State<AppState>,
    CurrentUser { account, signed_in, .. }: CurrentUser,
) -> Result<Json<Vec<SessionInfo>>> {
    Ok(Json(state.sessions.list(account.id, &signed_in.reference).await?))
}

/// Sign out everywhere else.
#[utoipa::path(delete, path = "/users/me/sessions", tag = "sessions", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "Every other session revoked", body = SuccessBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn revoke_other_sessions(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    user: CurrentUser,
) -> Result<Json<SuccessBody>> {
    revoke_others(&state, client, &user).await?;
    Ok(Json(SuccessBody::OK))
}

/// Sign out everywhere else, as an HTML form can ask: the same as
/// `DELETE /users/me/sessions`, answering a browser's own form post with 303 to the account page.
#[utoipa::path(post, path = "/users/me/sessions/revoke-others", tag = "sessions", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "Every other session revoked", body = SuccessBody),
        (status = 303, description = "Revoked, from a browser's form post: to the account page"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn revoke_other_sessions_by_form(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    user: CurrentUser,
) -> Result<Response> {
    revoke_others(&state, client, &user).await?;
    Ok(done(navigation))
}

/// Revoke one of your sessions (your current one signs you out).
#[utoipa::path(delete, path = "/users/me/sessions/{id}", tag = "sessions", security(("session_cookie" = [])),
    params(("id" = String, Path, description = "A session reference from the list")),
    responses(
        (status = 200, description = "Revoked", body = SuccessBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 404, description = "Session not found", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn revoke_session(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    user: CurrentUser,
    Path(reference): Path<String>,
) -> Result<Json<SuccessBody>> {
    revoke_one(&state, client, &user, &reference).await?;
    Ok(Json(SuccessBody::OK))
}

/// Revoke one of your sessions, as an HTML form can ask: the same as
/// `DELETE /users/me/sessions/{id}`, answering a browser's own form post with 303 to the
/// account page.
#[utoipa::path(post, path = "/users/me/sessions/{id}/revoke", tag = "sessions", security(("session_cookie" = [])),
    params(("id" = String, Path, description = "A session reference from the list")),
    responses(
        (status = 200, description = "Revoked", body = SuccessBody),
        (status = 303, description = "Revoked, from a browser's form post: to the account page"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 404, description = "Session not found", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn revoke_session_by_form(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    user: CurrentUser,
    Path(reference): Path<String>,
) -> Result<Response> {
    revoke_one(&state, client, &user, &reference).await?;
    Ok(done(navigation))
}

async fn revoke_others(state: &AppState, client: IpAddr, user: &CurrentUser) -> Result<()> {
    let revoked = state.sessions.revoke_all(user.account.id, Some(&user.signed_in.reference)).await?;
    tracing::info!(event = "sessions_revoked", user_id = user.account.id, revoked, %client, "other sessions revoked");
    Ok(())
}

async fn revoke_one(state: &AppState, client: IpAddr, user: &CurrentUser, reference: &str) -> Result<()> {
    if reference == user.signed_in.reference {
        // Revoking this very session is signing out.
        state.sessions.end(&user.session).await?;
    } else if !state.sessions.revoke(user.account.id, reference).await? {
        return Err(ApiError::NotFound("Session not found"));
    }
    tracing::info!(event = "session_revoked", user_id = user.account.id, %client, "session revoked");
    Ok(())
}

/// A form post's success: back to the account page for a browser's own post, else JSON.
fn done(navigation: Navigation) -> Response {
    if navigation.is_browser() {
        Redirect::to(Page::Account.path()).into_response()
    } else {
        Json(SuccessBody::OK).into_response()
    }
}
