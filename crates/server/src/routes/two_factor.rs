//! Two-step sign-in for the signed-in user: turning it on (a key offered, then confirmed with
//! the password and a code), turning it off, and recovery codes.

use std::net::IpAddr;

use axum::extract::State;
use shared::{
    CodeForm, ErrorBody, FieldErrors, RecoveryCodes, SuccessBody, TwoFactorChange, TwoFactorSetup,
    TwoFactorStatus,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::account::password_confirmed;
use crate::auth::two_factor;
use crate::db;
use crate::db::users::Account;
use crate::error::{ApiError, Result};
use crate::extract::{ClientAddr, CurrentUser, FormOrJson, Json};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(setup))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(regenerate_recovery_codes))
}

/// Whether two-step sign-in is on, and how many recovery codes are left.
#[utoipa::path(get, path = "/users/me/two-factor", tag = "two-step sign-in", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "The state of two-step sign-in", body = TwoFactorStatus),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn status(
    State(state): State<AppState>,
    CurrentUser { account, .. }: CurrentUser,
) -> Result<Json<TwoFactorStatus>> {
    let enabled = db::two_factor::find(&state.db, account.id).await?.is_some();
    let recovery_codes_left = db::two_factor::count_recovery_codes(&state.db, account.id).await?;
    Ok(Json(TwoFactorStatus { enabled, recovery_codes_left }))
}

/// Offer a new authenticator key.
///
/// The key (as text, as an `otpauth://` URL and as an SVG QR code) is kept in this session
/// until `POST /users/me/two-factor/enable` confirms it; asking again replaces it.
#[utoipa::path(post, path = "/users/me/two-factor/setup", tag = "two-step sign-in", security(("session_cookie" = [])),
    responses(
        (status = 200, description = "A new key to add to an authenticator app", body = TwoFactorSetup),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 409, description = "Two-step sign-in is already on", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn setup(
    State(state): State<AppState>,
    CurrentUser { account, session, .. }: CurrentUser,
) -> Result<Json<TwoFactorSetup>> {
    if db::two_factor::find(&state.db, account.id).await?.is_some() {
        return Err(ApiError::Conflict("Two-step sign-in is already on"));
    }
    let secret = two_factor::new_secret();
    state.sessions.offer_key(&session, &secret).await?;
    Ok(Json(two_factor::setup(&secret, &account.username)?))
}

/// Turn two-step sign-in on.
///
/// Confirms the key offered on this session with a current code from the app and the
/// password. Answers the ten recovery codes, shown this once.
#[utoipa::path(post, path = "/users/me/two-factor/enable", tag = "two-step sign-in", security(("session_cookie" = [])),
    request_body(content((TwoFactorChange = "application/json"), (TwoFactorChange = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "On; the recovery codes", body = RecoveryCodes),
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
    CurrentUser { account, session, .. }: CurrentUser,
    FormOrJson(change): FormOrJson<TwoFactorChange>,
) -> Result<Json<RecoveryCodes>> {
    change.validate().map_err(ApiError::invalid_fields)?;
    let secret = state
        .sessions
        .offered_key(&session, false)
        .await?
        .ok_or(ApiError::Conflict("Ask for a key first (POST /users/me/two-factor/setup)"))?;
    if !password_confirmed(&state, &account, client, &change.password).await? {
        return Err(field_error("password", "is not your password"));
    }
    let Some(step) = two_factor::matching_step(&secret, &change.code, two_factor::now_seconds()) else {
        return Err(field_error("code", "is not the app's current code"));
    };
    let (codes, digests) = two_factor::new_recovery_codes();
    if !db::two_factor::enable(&state.db, account.id, &secret, step, &digests).await? {
        return Err(ApiError::Conflict("Two-step sign-in is already on"));
    }
    state.sessions.offered_key(&session, true).await?;
    tracing::info!(event = "two_factor_enabled", user_id = account.id, %client, "two-step sign-in turned on");
    Ok(Json(RecoveryCodes { codes }))
}

/// Turn two-step sign-in off: needs the password and a code (or a recovery code).
#[utoipa::path(post, path = "/users/me/two-factor/disable", tag = "two-step sign-in", security(("session_cookie" = [])),
    request_body(content((TwoFactorChange = "application/json"), (TwoFactorChange = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Off; the recovery codes are gone", body = SuccessBody),
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
    CurrentUser { account, .. }: CurrentUser,
    FormOrJson(change): FormOrJson<TwoFactorChange>,
) -> Result<Json<SuccessBody>> {
    change.validate().map_err(ApiError::invalid_fields)?;
    if !password_confirmed(&state, &account, client, &change.password).await? {
        return Err(field_error("password", "is not your password"));
    }
    code_confirmed(&state, &account, client, &change.code).await?;
    db::two_factor::disable(&state.db, account.id).await?;
    tracing::info!(event = "two_factor_disabled", user_id = account.id, %client, "two-step sign-in turned off");
    Ok(Json(SuccessBody::OK))
}

/// New recovery codes in place of the old ones: needs a code (or a recovery code).
#[utoipa::path(post, path = "/users/me/two-factor/recovery-codes", tag = "two-step sign-in", security(("session_cookie" = [])),
    request_body(content((CodeForm = "application/json"), (CodeForm = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Ten new recovery codes; the old ones no longer work", body = RecoveryCodes),
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
    CurrentUser { account, .. }: CurrentUser,
    FormOrJson(form): FormOrJson<CodeForm>,
) -> Result<Json<RecoveryCodes>> {
    form.validate().map_err(ApiError::invalid_fields)?;
    code_confirmed(&state, &account, client, &form.code).await?;
    let (codes, digests) = two_factor::new_recovery_codes();
    db::two_factor::replace_recovery_codes(&state.db, account.id, &digests).await?;
    tracing::info!(event = "recovery_codes_regenerated", user_id = account.id, %client, "recovery codes replaced");
    Ok(Json(RecoveryCodes { codes }))
}

/// A code from the app or a recovery code, checked and throttled; 422 on the `code` field
/// when wrong, 409 when two-step sign-in is off.
async fn code_confirmed(state: &AppState, account: &Account, client: IpAddr, code: &str) -> Result<()> {
    match two_factor::check_throttled(&state.db, &state.throttle, account, client, code).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(field_error("code", "is not a current code or an unused recovery code")),
        Err(ApiError::TwoFactorOff) => Err(ApiError::Conflict("Two-step sign-in is not on")),
        Err(err) => Err(err),
    }
}

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::invalid_fields(FieldErrors::from([(field.to_owned(), message.to_owned())]))
}
