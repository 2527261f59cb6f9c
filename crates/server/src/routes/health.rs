//! Probes for load balancers and orchestrators.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up and serving.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database and the session store answer: send traffic here.
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
        return Err(ApiError::Unavailable);
    }
    Ok(Json(json!({"status": "ready"})))
}
