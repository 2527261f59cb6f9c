//! Probes for load balancers and orchestrators.

use axum::extract::State;
use serde_json::{Value, json};
use shared::ErrorBody;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Result};
use crate::extract::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = Object, example = json!({"status": "ok"}))))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database and the session store answer: send traffic here.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready"})),
        (status = 503, description = "The database or the session store does not answer", body = ErrorBody),
    ))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>> {
    let database = state.db.ping().await;
    let store = state.sessions.store().ping().await;
    if let Err(err) = &database {
        tracing::warn!(%err, "not ready: the database does not answer");
    }
    if let Err(err) = &store {
        tracing::warn!(err = %format!("{err:#}"), "not ready: the session store does not answer");
    }
    if database.is_err() || store.is_err() {
        return Err(ApiError::Unavailable(None));
    }
    Ok(Json(json!({"status": "ready"})))
}
