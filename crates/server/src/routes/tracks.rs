//! The catalogue: anyone may read; signed-in users add; the creator or an admin changes.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use shared::{ErrorBody, ListQuery, NewTrack, SuccessBody, Track, TrackUpdate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db;
use crate::db::users::Account;
use crate::error::{ApiError, Result};
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

const NOT_FOUND: ApiError = ApiError::NotFound("Track not found");

/// The catalogue's reads, open to anyone: they use no session, so they are mounted outside
/// its layer (see `routes::sessionless`).
pub fn reads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(show))
}

/// The catalogue's changes, by signed-in users.
pub fn changes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create)).routes(routes!(update, remove))
}

/// A page of the catalogue, optionally searched.
#[utoipa::path(get, path = "/tracks", tag = "tracks", params(ListQuery),
    responses(
        (status = 200, description = "Tracks in id order", body = [Track]),
        (status = 422, description = "Invalid skip, limit or q", body = ErrorBody),
        (status = 503, description = "The database is unavailable, or the search ran past --search-timeout", body = ErrorBody),
    ))]
async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Result<impl IntoResponse> {
    query.validate().map_err(ApiError::invalid_fields)?;
    // Already JSON: pages are kept encoded (see `catalogue_cache`).
    let page = state.catalogue.get((&query).into()).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], page.json))
}

/// One track.
#[utoipa::path(get, path = "/tracks/{id}", tag = "tracks", params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The track", body = Track),
        (status = 404, description = "Track not found", body = ErrorBody),
        (status = 422, description = "A non-numeric id", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Track>> {
    db::tracks::get(&state.db, id).await?.map(Json).ok_or(NOT_FOUND)
}

/// Add a track.
#[utoipa::path(post, path = "/tracks", tag = "tracks", security(("session_cookie" = [])),
    request_body(content = NewTrack, content_type = "application/json"),
    responses(
        (status = 201, description = "Added; `Location` names it", body = Track),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-site request refused", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, with `fields`", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    CurrentUser { account, .. }: CurrentUser,
    Json(track): Json<NewTrack>,
) -> Result<(StatusCode, HeaderMap, Json<Track>)> {
    let track = checked(track)?;
    let track = db::tracks::insert(&state.db, &track, Some(account.id)).await?;
    let mut headers = HeaderMap::new();
    let location = HeaderValue::from_str(&format!("/tracks/{}", track.id)).map_err(anyhow::Error::from)?;
    headers.insert(header::LOCATION, location);
    Ok((StatusCode::CREATED, headers, Json(track)))
}

/// Change a track (its creator or an admin); absent fields stay, `null` clears.
#[utoipa::path(patch, path = "/tracks/{id}", tag = "tracks", security(("session_cookie" = [])),
    params(("id" = i64, Path)),
    request_body(content = TrackUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed track", body = Track),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the creator or an admin, or a cross-site request", body = ErrorBody),
        (status = 404, description = "Track not found", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, with `fields`", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn update(
    State(state): State<AppState>,
    CurrentUser { account, .. }: CurrentUser,
    Path(id): Path<i64>,
    Json(update): Json<TrackUpdate>,
) -> Result<Json<Track>> {
    let current = editable(&state, &account, id).await?;
    let track = checked(update.apply_to(&NewTrack::from(&current)))?;
    db::tracks::update(&state.db, id, &track).await?.map(Json).ok_or(NOT_FOUND)
}

/// Delete a track (its creator or an admin).
#[utoipa::path(delete, path = "/tracks/{id}", tag = "tracks", security(("session_cookie" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Deleted", body = SuccessBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the creator or an admin, or a cross-site request", body = ErrorBody),
        (status = 404, description = "Track not found", body = ErrorBody),
        (status = 422, description = "A non-numeric id", body = ErrorBody),
        (status = 503, description = "A backend is unavailable", body = ErrorBody),
    ))]
async fn remove(
    State(state): State<AppState>,
    CurrentUser { account, .. }: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<SuccessBody>> {
    editable(&state, &account, id).await?;
    if db::tracks::delete(&state.db, id).await? { Ok(Json(SuccessBody::OK)) } else { Err(NOT_FOUND) }
}

/// The track, if `account` may change it.
async fn editable(state: &AppState, account: &Account, id: i64) -> Result<Track> {
    let track = db::tracks::get(&state.db, id).await?.ok_or(NOT_FOUND)?;
    if account.is_admin || track.created_by == Some(account.id) {
        Ok(track)
    } else {
        Err(ApiError::Forbidden("Only the track's creator or an admin can change it"))
    }
}

/// Tidied and validated against this year's calendar.
fn checked(track: NewTrack) -> Result<NewTrack> {
    let track = track.tidy();
    let year = time::OffsetDateTime::now_utc().year();
    track.validate(year).map_err(ApiError::invalid_fields)?;
    Ok(track)
}
