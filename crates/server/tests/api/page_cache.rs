//! Pages of the catalogue are kept between requests, and a change to the catalogue, made
//! anywhere, shows in the very next page (see `catalogue_cache.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};
use serde_json::json;
use shared::Track;
use tracklist::db::Db;

use crate::helpers::{TestApp, execute, futures_join_all};

async fn titles(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.api().get(&format!("/tracks{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json", "kept pages are sent as JSON too");
    let tracks: Vec<Track> = response.json().await.expect("tracks");
    tracks.into_iter().map(|track| track.title).collect()
}

/// Stops changes to `tracks` from moving the catalogue's version (the triggers' work).
async fn freeze_the_version(app: &TestApp) {
    let sql = match &app.state.db {
        Db::Sqlite { .. } => "DROP TRIGGER catalogue_version_update",
        Db::Postgres { .. } => "DROP TRIGGER catalogue_version_bump ON tracks",
    };
    execute(app, sql).await;
}

#[tokio::test]
async fn changes_on_another_instance_show_in_the_next_page() {
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    let (client, _) = a.signed_in("alice", false).await;
    let add = |title: &'static str| {
        let client = client.clone();
        async move {
            let response = client.post_json("/tracks", &json!({"title": title, "artist": "Blur"})).await;
            response.json::<Track>().await.expect("a track")
        }
    };
    let first = add("Girls and Boys").await;
    assert_eq!(titles(&b, "").await, ["Girls and Boys"]);
    assert_eq!(titles(&b, "?q=blur").await, ["Girls and Boys"]);

    add("Parklife").await;
    assert_eq!(titles(&b, "").await, ["Girls and Boys", "Parklife"]);
    assert_eq!(titles(&b, "?q=blur").await, ["Girls and Boys", "Parklife"]);

    let path = format!("/tracks/{}", first.id);
    let renamed = client.patch(&path, &json!({"title": "Song 2"})).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(titles(&b, "?q=blur").await, ["Song 2", "Parklife"]);

    assert_eq!(client.delete(&path).await.status(), StatusCode::OK);
    assert_eq!(titles(&b, "").await, ["Parklife"]);
    assert_eq!(titles(&b, "?q=blur").await, ["Parklife"]);
}

#[tokio::test]
async fn changes_made_in_plain_sql_show_in_the_next_page() {
    let app = TestApp::spawn().await;
    assert!(titles(&app, "").await.is_empty());
    assert!(titles(&app, "?q=wonderwall").await.is_empty());

    execute(&app, "INSERT INTO tracks (title, artist) VALUES ('Wonderwall', 'Oasis')").await;
    assert_eq!(titles(&app, "").await, ["Wonderwall"]);
    assert_eq!(titles(&app, "?q=wonderwall").await, ["Wonderwall"]);

    execute(&app, "UPDATE tracks SET title = 'Supersonic'").await;
    assert_eq!(titles(&app, "").await, ["Supersonic"]);
    assert!(titles(&app, "?q=wonderwall").await.is_empty());

    execute(&app, "DELETE FROM tracks").await;
    assert!(titles(&app, "").await.is_empty());
}

#[tokio::test]
async fn a_kept_page_is_sent_while_the_version_stands_still() {
    let app = TestApp::spawn().await;
    execute(&app, "INSERT INTO tracks (title, artist) VALUES ('Wonderwall', 'Oasis')").await;
    assert_eq!(titles(&app, "").await, ["Wonderwall"]);

    // A change that does not move the version is not seen: the page came from the cache...
    freeze_the_version(&app).await;
    execute(&app, "UPDATE tracks SET title = 'Supersonic'").await;
    assert_eq!(titles(&app, "").await, ["Wonderwall"]);
    // ...and the same query in other words is the same kept page.
    assert_eq!(titles(&app, "?skip=0&limit=20").await, ["Wonderwall"]);

    // Moving the version is what makes the change show.
    execute(&app, "UPDATE catalogue_version SET version = version + 1").await;
    assert_eq!(titles(&app, "").await, ["Supersonic"]);
}

#[tokio::test]
async fn with_the_cache_off_every_page_is_read() {
    let app = TestApp::spawn_with(|config| config.catalogue_cache_mib = 0).await;
    execute(&app, "INSERT INTO tracks (title, artist) VALUES ('Wonderwall', 'Oasis')").await;
    assert_eq!(titles(&app, "").await, ["Wonderwall"]);

    freeze_the_version(&app).await;
    execute(&app, "UPDATE tracks SET title = 'Supersonic'").await;
    assert_eq!(titles(&app, "").await, ["Supersonic"]);
}

#[tokio::test]
async fn concurrent_pages_all_show_a_change_made_before_they_were_asked() {
    let app = TestApp::spawn().await;
    for (round, title) in ["Wonderwall", "Supersonic", "Live Forever"].into_iter().enumerate() {
        execute(&app, &format!("INSERT INTO tracks (title, artist) VALUES ('{title}', 'Oasis')")).await;
        // On PostgreSQL these share version reads; none may take one that began before it.
        for page in asked_at_once(&app.url("/tracks?q=oasis"), 32).await {
            assert_eq!(page.len(), round + 1, "{page:?}");
        }
    }
}

/// The page at `url`, asked `count` times at once, each on a connection of its own.
async fn asked_at_once(url: &str, count: usize) -> Vec<Vec<Track>> {
    futures_join_all((0..count).map(|_| {
        let request = Client::new().get(url);
        async move { request.send().await.expect("sent").json::<Vec<Track>>().await.expect("tracks") }
    }))
    .await
}

/// Adds `count` tracks in one statement, every 20th by the artist "Filler".
async fn add_tracks(app: &TestApp, count: u32) {
    const ROW: &str = "SELECT 'Track ' || i, CASE WHEN i % 20 = 0 THEN 'Filler' ELSE 'Other' END";
    let sql = match &app.state.db {
        Db::Sqlite { .. } => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
             INSERT INTO tracks (title, artist) {ROW} FROM n"
        ),
        Db::Postgres { .. } => {
            format!("INSERT INTO tracks (title, artist) {ROW} FROM generate_series(1, {count}) AS i")
        }
    };
    execute(app, &sql).await;
}

#[tokio::test]
async fn pages_asked_under_load_all_show_a_change_acknowledged_before_they_were_asked() {
    let app = TestApp::spawn_with(|config| config.catalogue_cache_mib = 0).await;
    // A search whose page lies past 10 000 matches among 200 000 tracks, so that each read
    // lasts (about 10 ms on PostgreSQL); the tracks added below come last, on this page.
    add_tracks(&app, 200_000).await;
    let url = app.url("/tracks?q=fill&skip=10000&limit=20");
    // The same page asked without pause, so that a read of it is nearly always under way when
    // a change is acknowledged: requests share page reads (on either engine), and none may take
    // one that began before it was asked.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..8)
        .map(|_| {
            let (stop, request) = (Arc::clone(&stop), Client::new().get(&url));
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let request = request.try_clone().expect("a plain GET");
                    assert_eq!(request.send().await.expect("sent").status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for round in 1..=10 {
        execute(&app, &format!("INSERT INTO tracks (title, artist) VALUES ('Song {round}', 'Filler')")).await;
        for page in asked_at_once(&url, 16).await {
            assert_eq!(page.len(), round, "{page:?}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("the load ran without failing");
    }
}
