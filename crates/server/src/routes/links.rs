//! One-time links (see `auth::links`): what a link's page asks before showing its form,
//! setting a password from a reset link, and admins making links.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use shared::{
    ErrorBody, InvitationRequest, LinkPurpose, LinkStatus, OneTimeLink, PasswordReset, ResetLinkRequest,
    SuccessBody, validate,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{links, policy};
use crate::clock::now_millis;
use crate::config::Config;
use crate::db;
use crate::error::{ApiError, Result};
use crate::extract::{ClientAddr, CurrentUser, FormOrJson, Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(link_status))
        .routes(routes!(reset_password))
        .routes(routes!(make_reset_link))
        .routes(routes!(make_invitation))
}

/// Whether a one-time link can still be used.
///
/// Takes the link's public selector only (the part before the dot), so a page can say
/// "expired" or "already used" before asking for anything.
#[utoipa::path(get, path = "/links/{selector}", tag = "links",
    params(("selector" = String, Path, description = "The part of the link's fragment before the dot")),
    responses(
        (status = 200, description = "What the link is for and whether it works", body = LinkStatus),
        (status = 404, description = "No such link", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn link_status(
    State(state): State<AppState>,
    Path(selector): Path<String>,
) -> Result<Json<LinkStatus>> {
    let link = db::links::find(&state.db, &selector).await?.ok_or(ApiError::NotFound("Link not found"))?;
    Ok(Json(LinkStatus { purpose: link.purpose, state: links::state(&link, now_millis()) }))
}

/// Set a new password with a reset link.
///
/// `token` is the link's fragment. Works once; every session of the account ends.
#[utoipa::path(post, path = "/password-reset", tag = "links",
    request_body(content((PasswordReset = "application/json"), (PasswordReset = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Password set; every session of the account ended", body = SuccessBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 404, description = "Not a valid reset link", body = ErrorBody),
        (status = 410, description = "The link was used or has expired", body = ErrorBody),
        (status = 422, description = "A weak password, with `fields`", body = ErrorBody),
        (status = 503, description = "Busy or a backend is unavailable", body = ErrorBody),
    ))]
async fn reset_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    FormOrJson(reset): FormOrJson<PasswordReset>,
) -> Result<Json<SuccessBody>> {
    reset.validate().map_err(ApiError::invalid_fields)?;
    // The link is checked before any hashing, and used up only after the password passed
    // the policy: a refused password must not cost the link.
    let (selector, link) = links::check(&state.db, &reset.token, LinkPurpose::Reset).await?;
    let not_found = || ApiError::NotFound("Link not found");
    let user_id = link.user_id.ok_or_else(not_found)?;
    let account = db::users::find_by_id(&state.db, user_id).await?.ok_or_else(not_found)?;
    policy::check_new_password(&reset.new_password, &account.username)
        .map_err(|message| ApiError::invalid_field("new_password", message))?;
    let hash = state.passwords.hash(&reset.new_password).await?;
    links::use_up(&state.db, &selector).await?;
    db::users::set_password_hash(&state.db, account.id, &hash).await?;
    let revoked = state.sessions.revoke_all(account.id, None).await?;
    tracing::info!(event = "password_reset", user_id = account.id, revoked, %client, "password set from a reset link");
    Ok(Json(SuccessBody::OK))
}

/// Make a password-reset link for a user (admins).
///
/// The link is shown this once; it works for `valid_for` (default 1 hour), once.
#[utoipa::path(post, path = "/users/{name}/reset-link", tag = "links", security(("session_cookie" = [])),
    params(("name" = String, Path, description = "The user's name")),
    request_body(content((ResetLinkRequest = "application/json")), description = "Optional"),
    responses(
        (status = 201, description = "The link", body = OneTimeLink),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin, or a cross-site request", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "An invalid `valid_for`", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn make_reset_link(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    admin: CurrentUser,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<OneTimeLink>)> {
    only_admins(&admin)?;
    // The body is optional: no body means the defaults.
    let request: ResetLinkRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ResetLinkRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|err| ApiError::unprocessable(format!("Invalid JSON: {err}")))?
    };
    let valid = links::validity(request.valid_for.as_deref(), links::RESET_VALID)
        .map_err(|message| ApiError::invalid_field("valid_for", message))?;
    let account = db::users::find_by_username(&state.db, &validate::normalize_username(&name))
        .await?
        .ok_or(ApiError::NotFound("User not found"))?;
    let base = base_url(&state.config, &headers);
    let link = links::make(&state.db, &base, LinkPurpose::Reset, Some(account.id), false, valid).await?;
    tracing::info!(event = "reset_link_made", by = admin.account.id, user_id = account.id, %client, "reset link made");
    Ok((StatusCode::CREATED, Json(link)))
}

/// Make an invitation to sign up (admins): it works with sign-up closed.
///
/// The link is shown this once; it works for `valid_for` (default 7 days), once.
#[utoipa::path(post, path = "/invitations", tag = "links", security(("session_cookie" = [])),
    request_body(content((InvitationRequest = "application/json"))),
    responses(
        (status = 201, description = "The link", body = OneTimeLink),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not an admin, or a cross-site request", body = ErrorBody),
        (status = 422, description = "An invalid `valid_for`", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn make_invitation(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    admin: CurrentUser,
    Json(request): Json<InvitationRequest>,
) -> Result<(StatusCode, Json<OneTimeLink>)> {
    only_admins(&admin)?;
    let valid = links::validity(request.valid_for.as_deref(), links::INVITE_VALID)
        .map_err(|message| ApiError::invalid_field("valid_for", message))?;
    let base = base_url(&state.config, &headers);
    let link = links::make(&state.db, &base, LinkPurpose::Invite, None, request.is_admin, valid).await?;
    tracing::info!(event = "invitation_made", by = admin.account.id, is_admin = request.is_admin, %client, "invitation made");
    Ok((StatusCode::CREATED, Json(link)))
}

fn only_admins(user: &CurrentUser) -> Result<()> {
    if user.account.is_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Only administrators can make links"))
    }
}

/// Where links point: `--public-url`, or else this request's own origin (its `Host` was
/// already checked against the hosts this server answers for).
fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or("localhost");
    let scheme = if config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}
