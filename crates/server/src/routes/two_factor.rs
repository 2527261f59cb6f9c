//! Two-step sign-in for the signed-in user: turning it on (a key offered, then confirmed with
//! the password and a code), turning it off, and recovery codes.
//!
//! The account page's forms post here as plain HTML forms, with or without JavaScript: a
//! browser's own post is answered with the account page (showing new recovery codes once, or
//! the form again with why it was refused) or 303 back to it; API callers get JSON.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use frontend::form_action::{
    RECOVERY_CODES as NEW_CODES, TWO_STEP_DISABLE as DISABLE, TWO_STEP_ENABLE as ENABLE,
    TWO_STEP_SETUP as SETUP,
};
use frontend::{Page, PostAnswer};
use shared::{
    CodeForm, ErrorBody, RecoveryCodes, SuccessBody, TwoFactorChange, TwoFactorSetup, TwoFactorStatus,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::account::password_confirmed;
use crate::auth::two_factor;
use crate::db;
use crate::db::users::Account;
use crate::error::{ApiError, Result};
use crate::extract::{ClientAddr, CurrentUser, FormOrJson, Json, Navigation};
use crate::pages::Pages;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(setup))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(regenerate_recovery_codes))
}

/// Whether two-step sign-in is on, how many recovery codes are left, and the key offered on
/// this session (while it waits to be confirmed).
#[utoipa::path(get, path = "/users/me/two-factor", tag = "two-step sign-in", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "The state of two-step sign-in", body = TwoFactorStatus),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn status(
    State(state): State<AppState>,
    CurrentUser { account, session, .. }: CurrentUser,
) -> Result<Json<TwoFactorStatus>> {
    let offered = state.sessions.offered_key(&session).await?;
    Ok(Json(two_factor::status(&state.db, &account, offered.as_deref()).await?))
}

/// Offer a new authenticator key.
///
/// The key (as text, as an `otpauth://` URL and as an SVG QR code) is kept in this session
/// until `POST /users/me/two-factor/enable` confirms it; asking again replaces it.
#[utoipa::path(post, path = "/users/me/two-factor/setup", tag = "two-step sign-in", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "A new key to add to an authenticator app", body = TwoFactorSetup),
        (status = 303, description = "From a browser's form post: to the account page, which shows the key"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 409, description = "Two-step sign-in is already on", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn setup(State(state): State<AppState>, navigation: Navigation, user: CurrentUser) -> Result<Response> {
    let offered = offer_key(&state, &user).await;
    if let Some(pages) = navigation.pages(&state) {
        return Ok(answer_browser(pages, &state, user, SETUP, offered.map(|_| None)).await);
    }
    Ok(Json(offered?).into_response())
}

async fn offer_key(
    state: &AppState,
    CurrentUser { account, session, .. }: &CurrentUser,
) -> Result<TwoFactorSetup> {
    if db::two_factor::find(&state.db, account.id).await?.is_some() {
        return Err(ApiError::Conflict("Two-step sign-in is already on"));
    }
    let secret = two_factor::new_secret();
    state.sessions.offer_key(session, &secret).await?;
    two_factor::setup(&secret, &account.username)
}

/// Turn two-step sign-in on.
///
/// Confirms the key offered on this session with a current code from the app and the
/// password. Answers the ten recovery codes, shown this once.
#[utoipa::path(post, path = "/users/me/two-factor/enable", tag = "two-step sign-in", security(("session_cookie" = [])),
    request_body(content((TwoFactorChange = "application/json"), (TwoFactorChange = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "On; the recovery codes (a browser's form post: the account page showing them)", body = RecoveryCodes),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 409, description = "Already on, or no key was offered on this session", body = ErrorBody),
        (status = 422, description = "Wrong password or code, with `fields`", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = ErrorBody),
        (status = 503, description = "Busy or a backend is unavailable", body = ErrorBody),
    ))]
async fn enable(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    user: CurrentUser,
    FormOrJson(change): FormOrJson<TwoFactorChange>,
) -> Result<Response> {
    let enabled = turn_on(&state, client, &user, change).await;
    if let Some(pages) = navigation.pages(&state) {
        return Ok(answer_browser(pages, &state, user, ENABLE, enabled.map(Some)).await);
    }
    Ok(Json(RecoveryCodes { codes: enabled? }).into_response())
}

async fn turn_on(
    state: &AppState,
    client: IpAddr,
    CurrentUser { account, session, .. }: &CurrentUser,
    change: TwoFactorChange,
) -> Result<Vec<String>> {
    change.validate().map_err(ApiError::invalid_fields)?;
    let secret = state
        .sessions
        .offered_key(session)
        .await?
        .ok_or(ApiError::Conflict("Ask for a key first (POST /users/me/two-factor/setup)"))?;
    password_checked(state, account, client, &change.password).await?;
    let Some(step) = two_factor::matching_step(&secret, &change.code, two_factor::now_seconds()) else {
        return Err(ApiError::invalid_field("code", "is not the app's current code"));
    };
    let (codes, digests) = two_factor::new_recovery_codes();
    if !db::two_factor::enable(&state.db, account.id, &secret, step, &digests).await? {
        return Err(ApiError::Conflict("Two-step sign-in is already on"));
    }
    state.sessions.forget_offered_key(session).await?;
    tracing::info!(event = "two_factor_enabled", user_id = account.id, %client, "two-step sign-in turned on");
    Ok(codes)
}

/// Turn two-step sign-in off: needs the password and a code (or a recovery code).
#[utoipa::path(post, path = "/users/me/two-factor/disable", tag = "two-step sign-in", security(("session_cookie" = [])),
    request_body(content((TwoFactorChange = "application/json"), (TwoFactorChange = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Off; the recovery codes are gone", body = SuccessBody),
        (status = 303, description = "Off, from a browser's form post: to the account page"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 409, description = "Two-step sign-in is not on", body = ErrorBody),
        (status = 422, description = "Wrong password or code, with `fields`", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes", body = ErrorBody),
        (status = 503, description = "Busy or a backend is unavailable", body = ErrorBody),
    ))]
async fn disable(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    user: CurrentUser,
    FormOrJson(change): FormOrJson<TwoFactorChange>,
) -> Result<Response> {
    let disabled = turn_off(&state, client, &user.account, change).await;
    if let Some(pages) = navigation.pages(&state) {
        return Ok(answer_browser(pages, &state, user, DISABLE, disabled.map(|()| None)).await);
    }
    disabled?;
    Ok(Json(SuccessBody::OK).into_response())
}

async fn turn_off(
    state: &AppState,
    client: IpAddr,
    account: &Account,
    change: TwoFactorChange,
) -> Result<()> {
    change.validate().map_err(ApiError::invalid_fields)?;
    password_checked(state, account, client, &change.password).await?;
    code_confirmed(state, account, client, &change.code).await?;
    db::two_factor::disable(&state.db, account.id).await?;
    tracing::info!(event = "two_factor_disabled", user_id = account.id, %client, "two-step sign-in turned off");
    Ok(())
}

/// New recovery codes in place of the old ones: needs a code (or a recovery code).
#[utoipa::path(post, path = "/users/me/two-factor/recovery-codes", tag = "two-step sign-in", security(("session_cookie" = [])),
    request_body(content((CodeForm = "application/json"), (CodeForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Ten new recovery codes; the old ones no longer work (a browser's form post: the account page showing them)", body = RecoveryCodes),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 409, description = "Two-step sign-in is not on", body = ErrorBody),
        (status = 422, description = "Wrong code, with `fields`", body = ErrorBody),
        (status = 429, description = "Too many wrong codes", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    user: CurrentUser,
    FormOrJson(form): FormOrJson<CodeForm>,
) -> Result<Response> {
    let made = new_recovery_codes(&state, client, &user.account, form).await;
    if let Some(pages) = navigation.pages(&state) {
        return Ok(answer_browser(pages, &state, user, NEW_CODES, made.map(Some)).await);
    }
    Ok(Json(RecoveryCodes { codes: made? }).into_response())
}

async fn new_recovery_codes(
    state: &AppState,
    client: IpAddr,
    account: &Account,
    form: CodeForm,
) -> Result<Vec<String>> {
    form.validate().map_err(ApiError::invalid_fields)?;
    code_confirmed(state, account, client, &form.code).await?;
    let (codes, digests) = two_factor::new_recovery_codes();
    db::two_factor::replace_recovery_codes(&state.db, account.id, &digests).await?;
    tracing::info!(event = "recovery_codes_regenerated", user_id = account.id, %client, "recovery codes replaced");
    Ok(codes)
}

/// A browser's own post of `form` answered: new recovery codes shown on the account page
/// (this once, never stored to be shown again), 303 back to it when there is nothing to show,
/// or the page with the form again and why it was refused, under the error's status.
async fn answer_browser(
    pages: &Pages,
    state: &AppState,
    user: CurrentUser,
    form: &str,
    outcome: Result<Option<Vec<String>>>,
) -> Response {
    let account = Page::Account.path();
    match outcome {
        Ok(None) => Redirect::to(account).into_response(),
        Ok(Some(codes)) => {
            let answer = PostAnswer { recovery_codes: Some(codes), ..Default::default() };
            pages.answer(state.clone(), account, Some(user), StatusCode::OK, answer).await
        }
        Err(refused) => pages.refused(state.clone(), account, Some(user), form, String::new(), refused).await,
    }
}

/// The account's password, checked and throttled as the password change checks it; 422 on
/// the `password` field when wrong.
async fn password_checked(state: &AppState, account: &Account, client: IpAddr, password: &str) -> Result<()> {
    if password_confirmed(state, account, client, password).await? {
        Ok(())
    } else {
        Err(ApiError::invalid_field("password", "is not your password"))
    }
}

/// A code from the app or a recovery code, checked and throttled; 422 on the `code` field
/// when wrong, 409 when two-step sign-in is off.
async fn code_confirmed(state: &AppState, account: &Account, client: IpAddr, code: &str) -> Result<()> {
    match two_factor::check_throttled(&state.db, &state.throttle, account, client, code).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ApiError::invalid_field("code", "is not a current code or an unused recovery code")),
        Err(ApiError::TwoFactorOff) => Err(ApiError::Conflict("Two-step sign-in is not on")),
        Err(err) => Err(err),
    }
}
