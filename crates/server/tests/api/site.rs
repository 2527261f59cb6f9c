//! Serving the browser bundle's files next to the API (the pages themselves: `pages.rs`).

use reqwest::{Method, StatusCode};

use crate::helpers::{Api, TestApp, assert_error};

const INDEX: &str = "<!doctype html><title>Tracklist</title>";
const ASSET: &str = "console.log('hi');";

async fn spawn_with_files() -> (TestApp, tempfile::TempDir) {
    let dist = tempfile::tempdir().expect("folder");
    std::fs::write(dist.path().join("index.html"), INDEX).expect("index written");
    std::fs::write(dist.path().join("frontend-0123456789abcdef.js"), ASSET.repeat(100))
        .expect("asset written");
    std::fs::write(dist.path().join("robots.txt"), "User-agent: *").expect("asset written");
    let dir = dist.path().to_owned();
    let app = TestApp::spawn_with(move |config| config.static_dir = Some(dir)).await;
    (app, dist)
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_compressed_on_request() {
    let (app, _dist) = spawn_with_files().await;

    let response = app.api().get("/frontend-0123456789abcdef.js").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(response.text().await.expect("body"), ASSET.repeat(100));
    let gzipped = Api::send(
        app.api().request(Method::GET, "/frontend-0123456789abcdef.js").header("accept-encoding", "gzip"),
    )
    .await;
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let unhashed = app.api().get("/robots.txt").await;
    assert_eq!(unhashed.headers()["cache-control"], "no-cache", "a name without a hash may change");
    let missing = app.api().get("/missing-file.js").await;
    assert_error(missing, StatusCode::NOT_FOUND, "Not Found").await;
}

#[tokio::test]
async fn api_paths_are_never_shadowed_by_pages_or_files() {
    let (app, _dist) = spawn_with_files().await;

    let me = app.api().get("/users/me").await;
    assert_error(me, StatusCode::UNAUTHORIZED, "Not authenticated").await;
    let unknown = app.api().get("/users/nobody/else").await;
    assert_error(unknown, StatusCode::NOT_FOUND, "Not Found").await;
    let logout = app.api().get("/logout").await;
    assert_error(logout, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").await;
    let tracks = app.api().get("/tracks").await;
    assert_eq!(tracks.headers()["content-type"], "application/json");
}
