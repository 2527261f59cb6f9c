//! Signing in and out: `POST /login`, `POST /logout`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use frontend::{Page, form_action};
use serde::Deserialize;
use shared::{CodeForm, ErrorBody, LoginForm, SecondFactorRequired, SuccessBody, safe_next, validate};
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Refused;
use crate::auth::{device, two_factor};
use crate::db::users::Account;
use crate::error::{ApiError, Result};
use crate::extract::{ClientAddr, FormOrJson, Json, Navigation, Query};
use crate::session::ClientInfo;
use crate::state::AppState;
use crate::{auth, db, metrics};

/// Logged in place of a username that is no account's: it may be a password typed in the
/// wrong field.
const UNKNOWN: &str = "(no such account)";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(second_factor)).routes(routes!(logout))
}

/// Where a browser goes after signing in with the page's own form.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct After {
    /// A path of this app (anything else means the library).
    next: Option<String>,
}

/// Sign in.
///
/// Urlencoded like an HTML form, or JSON. Success starts a session under a new id (the
/// `id` cookie, `HttpOnly`, `SameSite=Strict`) and, on a browser not yet known for this
/// account, sets the `device` cookie that keeps its own budget of failed sign-ins.
///
/// With two-step sign-in on, a right password answers 202 instead: the session (new id)
/// waits five minutes for a code at `POST /login/second-factor`, and can do nothing else
/// (`GET /users/me` is 401 with code `second_factor_required`).
///
/// A browser posting the sign-in page's form itself (no JavaScript: `Sec-Fetch-Mode:
/// navigate`, or `Accept: text/html` first) gets pages instead of JSON: 303 to `next` on
/// success, or the sign-in page again with the message and the username, under the same
/// status the JSON answer has.
#[utoipa::path(post, path = "/login", tag = "account", params(After),
    request_body(content(
        (LoginForm = "application/x-www-form-urlencoded"),
        (LoginForm = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SuccessBody),
        (status = 202, description = "Password right; a code must follow at /login/second-factor", body = SecondFactorRequired),
        (status = 303, description = "Signed in, from a browser's form post: to `next` (or to the code page)"),
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
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    Query(after): Query<After>,
    headers: HeaderMap,
    session: Session,
    FormOrJson(form): FormOrJson<LoginForm>,
) -> Result<Response> {
    let Some(pages) = navigation.pages(&state) else {
        return Ok(match sign_in(&state, client, &headers, &session, form).await? {
            Step::SignedIn(device_cookie) => {
                with_cookie(Json(SuccessBody::OK).into_response(), device_cookie)
            }
            Step::NeedsCode => {
                (StatusCode::ACCEPTED, Json(SecondFactorRequired { second_factor_required: true }))
                    .into_response()
            }
        });
    };
    let typed = form.username.clone();
    let next = safe_next(after.next.as_deref(), LOCAL);
    match sign_in(&state, client, &headers, &session, form).await {
        Ok(Step::SignedIn(device_cookie)) => {
            Ok(with_cookie(Redirect::to(&next).into_response(), device_cookie))
        }
        Ok(Step::NeedsCode) => Ok(Redirect::to(&Page::SignInCode.then(&next)).into_response()),
        Err(refused) => {
            let page = match after.next {
                Some(next) => Page::sign_in_then(&next),
                None => Page::SignIn.path().to_owned(),
            };
            Ok(pages.refused(state.clone(), &page, None, form_action::LOGIN, typed, refused).await)
        }
    }
}

/// Finish signing in with a code (two-step sign-in).
///
/// After `POST /login` answered 202: a code from the authenticator app (each usable once;
/// the current one, or one step either side) or one of the recovery codes (used up). Right:
/// signed in under yet another session id. Wrong codes are throttled per account and client
/// on counters of their own, and logged.
///
/// A browser posting the code page's form itself gets 303 to `next`, or the page again.
#[utoipa::path(post, path = "/login/second-factor", tag = "account", params(After),
    request_body(content(
        (CodeForm = "application/x-www-form-urlencoded"),
        (CodeForm = "application/json"),
    )),
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SuccessBody),
        (status = 303, description = "Signed in, from a browser's form post: to `next`"),
        (status = 401, description = "No sign-in is waiting for a code (`not_authenticated`), or the code is wrong or used (`invalid_code`)", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 422, description = "No code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes; see Retry-After", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn second_factor(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    Query(after): Query<After>,
    headers: HeaderMap,
    session: Session,
    FormOrJson(form): FormOrJson<CodeForm>,
) -> Result<Response> {
    let Some(pages) = navigation.pages(&state) else {
        let device_cookie = finish_sign_in(&state, client, &headers, &session, &form).await?;
        return Ok(with_cookie(Json(SuccessBody::OK).into_response(), device_cookie));
    };
    match finish_sign_in(&state, client, &headers, &session, &form).await {
        Ok(device_cookie) => {
            let to_next = Redirect::to(&safe_next(after.next.as_deref(), LOCAL)).into_response();
            Ok(with_cookie(to_next, device_cookie))
        }
        Err(refused) => {
            let page = match after.next {
                Some(next) => Page::SignInCode.then(&next),
                None => Page::SignInCode.path().to_owned(),
            };
            Ok(pages
                .refused(state.clone(), &page, None, form_action::SECOND_FACTOR, String::new(), refused)
                .await)
        }
    }
}

/// Checks the code for the sign-in waiting on this session and finishes it; returns the
/// device cookie to set on a browser not yet known for this account.
async fn finish_sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    session: &Session,
    form: &CodeForm,
) -> Result<Option<HeaderValue>> {
    form.validate().map_err(ApiError::invalid_fields)?;
    let pending = state.sessions.pending(session).await?.ok_or(ApiError::NotAuthenticated)?;
    let account =
        db::users::find_by_id(&state.db, pending.user_id).await?.ok_or(ApiError::NotAuthenticated)?;
    let Some(proof) =
        two_factor::check_throttled(&state.db, &state.throttle, &account, client, &form.code).await?
    else {
        metrics::login("second_factor_failure");
        return Err(ApiError::InvalidCode);
    };
    if !state.sessions.finish_pending(session, &pending, &account, &ClientInfo::new(client, headers)).await? {
        return Err(ApiError::NotAuthenticated);
    }
    metrics::login("success");
    tracing::info!(event = "login_succeeded", user_id = account.id, username = %account.username, %client, second_factor = ?proof, "signed in");
    let name = device::cookie_name(state.config.secure_cookies);
    let known = device::recognise(&state.db, headers, name, &account.username).await?.is_some();
    device_cookie_unless(known, state, &account).await
}

/// `response` setting `cookie` too, when there is one.
fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The origin `next` is resolved against: only its path is ever kept, so any will do.
const LOCAL: &str = "http://tracklist.invalid";

/// Where a right password leads.
enum Step {
    /// Signed in; the device cookie to set on a browser not yet known for this account.
    SignedIn(Option<HeaderValue>),
    /// Two-step sign-in is on: the session waits for a code.
    NeedsCode,
}

/// Checks the password and starts the session: signed in, or waiting for a code.
async fn sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    session: &Session,
    form: LoginForm,
) -> Result<Step> {
    form.validate().map_err(ApiError::invalid_fields)?;
    let username = validate::normalize_username(&form.username);
    let device_cookie = device::cookie_name(state.config.secure_cookies);
    let device = device::recognise(&state.db, headers, device_cookie, &username).await?;
    let attempt = match state.throttle.begin_sign_in(&username, client, device.as_deref()).await {
        Ok(attempt) => attempt,
        Err(err) => {
            if matches!(err, ApiError::TooManyRequests { .. }) {
                metrics::login("throttled");
                // Named only if it is an account's name: what was typed may be a password.
                let account = db::users::find_by_username(&state.db, &username).await?;
                let username = account.as_ref().map_or(UNKNOWN, |account| account.username.as_str());
                tracing::warn!(event = "login_throttled", username, %client, "sign-in throttled");
            }
            return Err(err);
        }
    };
    let account = match auth::authenticate(&state.db, &state.passwords, &username, &form.password).await {
        Ok(Ok(account)) => account,
        Ok(Err(refused)) => {
            // The attempt stays counted.
            metrics::login("failure");
            let (user_id, username) = match &refused {
                Refused::Account(account) => (Some(account.id), account.username.as_str()),
                Refused::NoAccount => (None, UNKNOWN),
            };
            tracing::warn!(event = "login_failed", user_id, username, %client, "sign-in refused");
            return Err(ApiError::InvalidCredentials);
        }
        Err(err) => {
            state.throttle.abandoned(attempt).await?;
            return Err(err);
        }
    };
    state.throttle.succeeded(attempt).await?;
    if db::two_factor::find(&state.db, account.id).await?.is_some() {
        state.sessions.start_pending(session, &account).await?;
        tracing::info!(event = "login_password_accepted", user_id = account.id, %client, "password right; waiting for the code");
        return Ok(Step::NeedsCode);
    }
    metrics::login("success");
    state.sessions.start(session, &account, &ClientInfo::new(client, headers)).await?;
    tracing::info!(event = "login_succeeded", user_id = account.id, username = %account.username, %client, "signed in");
    // The device was recognised (or not) before the password was checked.
    Ok(Step::SignedIn(device_cookie_unless(device.is_some(), state, &account).await?))
}

/// The device cookie to set after `account` signed in, unless this browser is `known` as
/// one of its devices already.
async fn device_cookie_unless(
    known: bool,
    state: &AppState,
    account: &Account,
) -> Result<Option<HeaderValue>> {
    if known {
        return Ok(None);
    }
    let name = device::cookie_name(state.config.secure_cookies);
    Ok(Some(device::remember(&state.db, account.id, name, state.config.secure_cookies).await?))
}

/// Sign out.
///
/// Deletes the session server-side, so a copy of the cookie is worthless afterwards.
/// Succeeds without a session too: the client is signed out either way. A browser that
/// submitted the page header's sign-out form itself (a navigation, `Sec-Fetch-Mode:
/// navigate`) is sent to the library with 303; every other caller gets JSON.
#[utoipa::path(post, path = "/logout", tag = "account",
    responses(
        (status = 200, description = "Signed out; the cookie is expired", body = SuccessBody),
        (status = 303, description = "Signed out, from a browser's form post: to the library"),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 503, description = "The session store is unavailable", body = ErrorBody),
    ))]
async fn logout(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    navigation: Navigation,
    session: Session,
) -> Result<Response> {
    // Read and delete in one go: checking or sliding the deadline first would only write a
    // record that is about to be deleted.
    if let Some(signed_in) = state.sessions.end(&session).await? {
        tracing::info!(event = "logout", user_id = signed_in.user_id, %client, "signed out");
    }
    if navigation.is_browser() {
        return Ok(Redirect::to(Page::Library.path()).into_response());
    }
    Ok(Json(SuccessBody::OK).into_response())
}
