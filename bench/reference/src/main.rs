//! The benchmark's reference (`scripts/bench.sh`): the least an axum 0.8 + tower-sessions
//! 0.14 server does to answer Tracklist's hot routes with the same JSON. No middleware, no
//! database: sessions in tower-sessions' `MemoryStore`, one user and 10 000 tracks in memory.
//! Tracklist's rows are compared with these in the same run, so a ratio says what
//! Tracklist's stack and storage cost on top of the framework.
//!
//!   tracklist-reference 127.0.0.1:3096

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

const USERNAME: &str = "john";
const PASSWORD: &str = "tracklist-demo-password";
const USER_KEY: &str = "user_id";

#[derive(Serialize)]
struct Track {
    id: i64,
    title: String,
    artist: String,
    album: Option<String>,
    year: Option<i32>,
    label: Option<String>,
    created_by: Option<i64>,
    created_at: String,
    updated_at: String,
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    skip: usize,
    #[serde(default = "twenty")]
    limit: usize,
}

fn twenty() -> usize {
    20
}

type Tracks = Arc<Vec<Track>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3096".to_owned())
        .parse()
        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?;
    let tracks: Tracks = Arc::new((1..=10_000).map(track).collect());
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/login", post(login))
        .route("/users/me", get(me))
        .route("/tracks", get(list))
        .with_state(tracks)
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

fn track(n: i64) -> Track {
    Track {
        id: n,
        title: format!("Song {n}"),
        artist: format!("Artist {}", n % 500),
        album: Some(format!("Album {}", n % 900)),
        year: Some(1950 + (n % 70) as i32),
        label: None,
        created_by: None,
        created_at: "2026-12-01T00:00:00.000Z".to_owned(),
        updated_at: "2026-12-01T00:00:00.000Z".to_owned(),
    }
}

fn error(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

async fn login(session: Session, Form(credentials): Form<Credentials>) -> Response {
    if credentials.username != USERNAME || credentials.password != PASSWORD {
        return error(StatusCode::UNAUTHORIZED, "Incorrect username or password");
    }
    if session.cycle_id().await.is_err() || session.insert(USER_KEY, 1_i64).await.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "The session store is unavailable");
    }
    Json(json!({ "success": true })).into_response()
}

async fn me(session: Session) -> Response {
    match session.get::<i64>(USER_KEY).await {
        Ok(Some(id)) => Json(json!({ "id": id, "username": USERNAME, "is_admin": false })).into_response(),
        _ => error(StatusCode::UNAUTHORIZED, "Not authenticated"),
    }
}

async fn list(State(tracks): State<Tracks>, Query(page): Query<Page>) -> Response {
    let end = page.skip.saturating_add(page.limit.min(100)).min(tracks.len());
    let start = page.skip.min(end);
    Json(&tracks[start..end]).into_response()
}
