//! The catalogue: anyone may read; signed-in users add; the creator or an admin changes.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use shared::{ListQuery, NewTrack, SuccessBody, Track, TrackUpdate};

use crate::db;
use crate::db::users::Account;
use crate::error::{ApiError, Result};
use crate::extract::{self, CurrentUser, Path, Query};
use crate::state::AppState;

const NOT_FOUND: ApiError = ApiError::NotFound("Track not found");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tracks", get(list).post(create))
        .route("/tracks/{id}", get(show).patch(update).delete(remove))
}

async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Result<Json<Vec<Track>>> {
    query.validate().map_err(ApiError::invalid_fields)?;
    Ok(Json(db::tracks::list(&state.db, &query).await?))
}

async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Track>> {
    db::tracks::get(&state.db, id).await?.map(Json).ok_or(NOT_FOUND)
}

async fn create(
    State(state): State<AppState>,
    CurrentUser { account, .. }: CurrentUser,
    extract::Json(track): extract::Json<NewTrack>,
) -> Result<(StatusCode, HeaderMap, Json<Track>)> {
    let track = checked(track)?;
    let track = db::tracks::insert(&state.db, &track, Some(account.id)).await?;
    let mut headers = HeaderMap::new();
    let location = HeaderValue::from_str(&format!("/tracks/{}", track.id)).map_err(anyhow::Error::from)?;
    headers.insert(header::LOCATION, location);
    Ok((StatusCode::CREATED, headers, Json(track)))
}

async fn update(
    State(state): State<AppState>,
    CurrentUser { account, .. }: CurrentUser,
    Path(id): Path<i64>,
    extract::Json(update): extract::Json<TrackUpdate>,
) -> Result<Json<Track>> {
    let current = editable(&state, &account, id).await?;
    let track = checked(update.apply_to(&NewTrack::from(&current)))?;
    db::tracks::update(&state.db, id, &track).await?.map(Json).ok_or(NOT_FOUND)
}

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
