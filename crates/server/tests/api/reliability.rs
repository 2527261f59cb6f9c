//! Probes, restarts and concurrency, on whichever backends the suite runs against.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, cookie_client};

#[tokio::test]
async fn healthz_is_ok_and_readyz_checks_the_backends() {
    let app = TestApp::spawn().await;

    let health = Client::new().get(app.url("/healthz")).send().await.expect("sent");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.expect("JSON"), json!({"status": "ok"}));
    let ready = Client::new().get(app.url("/readyz")).send().await.expect("sent");
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.expect("JSON"), json!({"status": "ready"}));
}

#[tokio::test]
async fn sessions_users_and_tracks_survive_a_restart() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let session = app.session_id_for("alice").await;
    let client = Client::new();
    let created = client
        .post(app.url("/tracks"))
        .header("cookie", format!("id={session}"))
        .json(&json!({"title": "Song 2", "artist": "Blur"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), StatusCode::CREATED);
    let track: Value = created.json().await.expect("JSON");

    let (config, dir) = app.stop().await;
    let restarted = TestApp::spawn_on(config, dir).await;

    assert_eq!(restarted.me_with_cookie(Some(&session)).await.status(), StatusCode::OK);
    let fetched = client.get(restarted.url(&format!("/tracks/{}", track["id"]))).send().await.expect("sent");
    assert_eq!(fetched.json::<Value>().await.expect("JSON"), track);
}

#[tokio::test]
async fn concurrent_writes_from_one_session_lose_nothing() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let writes = (0..24).map(|n| {
        let request =
            client.post(app.url("/tracks")).json(&json!({"title": format!("Take {n}"), "artist": "Band"}));
        async move { request.send().await.expect("sent").status() }
    });
    let statuses = futures_join_all(writes).await;

    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let tracks: Vec<Value> = cookie_client()
        .get(app.url("/tracks?limit=100"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(tracks.len(), 24);
    assert_eq!(client.get(app.url("/users/me")).send().await.expect("sent").status(), StatusCode::OK);
}

/// Runs the futures concurrently on the test's runtime.
async fn futures_join_all<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("task"));
    }
    results
}
