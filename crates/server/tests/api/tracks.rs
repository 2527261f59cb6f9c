//! The tracks catalogue.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::Track;
use sqlx::Connection;

use tracklist::db::Db;

use crate::helpers::{Api, TestApp, assert_error, assert_json_error, execute};
use crate::services::skip;

fn song(title: &str, artist: &str) -> Value {
    json!({"title": title, "artist": artist, "album": "An Album", "year": 1997, "label": "Food"})
}

async fn add(_app: &TestApp, client: &Api, body: &Value) -> Track {
    let response = client.post_json("/tracks", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.expect("a track")
}

fn titles(tracks: Vec<Track>) -> Vec<String> {
    tracks.into_iter().map(|track| track.title).collect()
}

async fn list(app: &TestApp, query: &str) -> Vec<Track> {
    let response = app.api().get(&format!("/tracks{query}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("tracks")
}

#[tokio::test]
async fn a_signed_in_user_adds_a_track_and_gets_201_with_its_location() {
    let app = TestApp::spawn().await;
    let (client, alice) = app.signed_in("alice", false).await;

    let response = client.post_json("/tracks", &song("Song 2", "Blur")).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().expect("text").to_owned();
    let track: Track = response.json().await.expect("a track");
    assert_eq!(location, format!("/tracks/{}", track.id));
    assert_eq!((track.title.as_str(), track.artist.as_str(), track.year), ("Song 2", "Blur", Some(1997)));
    assert_eq!(track.created_by, Some(alice.id));
    let fetched: Track = app.get_json(&location).await;
    assert_eq!(fetched, track);
}

#[tokio::test]
async fn adding_a_track_needs_a_session() {
    let app = TestApp::spawn().await;

    let response = app.api().post_json("/tracks", &song("Song 2", "Blur")).await;

    assert_error(response, StatusCode::UNAUTHORIZED, "Not authenticated").await;
    assert!(list(&app, "").await.is_empty());
}

#[tokio::test]
async fn invalid_tracks_get_422_with_a_message_per_field() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let response =
        client.post_json("/tracks", &json!({"title": "  ", "artist": "x".repeat(201), "year": 999})).await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert_eq!(body["fields"]["title"], "is required");
    assert_eq!(body["fields"]["artist"], "must be at most 200 characters");
    assert!(body["fields"]["year"].as_str().is_some_and(|m| m.starts_with("must be between 1000")));
}

#[tokio::test]
async fn text_fields_are_trimmed_and_blank_optionals_dropped() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let track = add(&app, &client, &json!({"title": " Song 2 ", "artist": "Blur", "album": "  "})).await;

    assert_eq!(track.title, "Song 2");
    assert_eq!(track.album, None);
}

#[tokio::test]
async fn the_list_is_public_and_pages_with_skip_and_limit() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    for n in 1..=5 {
        add(&app, &client, &song(&format!("Track {n}"), "Artist")).await;
    }

    assert_eq!(list(&app, "").await.len(), 5);
    assert_eq!(titles(list(&app, "?skip=1&limit=2").await), ["Track 2", "Track 3"]);
    assert_eq!(titles(list(&app, "?skip=4&limit=20").await), ["Track 5"]);
    assert!(list(&app, "?skip=10").await.is_empty());
    assert!(list(&app, "?skip=5000").await.is_empty());
}

#[tokio::test]
async fn a_page_far_into_the_catalogue_holds_the_right_tracks() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    for n in 1..=203 {
        add(&app, &client, &song(&format!("Track {n}"), "Artist")).await;
    }

    // Past the first 200 rows the page is read off the request's thread; same answer.
    assert_eq!(titles(list(&app, "?skip=199&limit=2").await), ["Track 200", "Track 201"]);
    assert_eq!(titles(list(&app, "?skip=201&limit=5").await), ["Track 202", "Track 203"]);
}

#[tokio::test]
async fn the_list_has_a_default_limit_of_twenty() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    for n in 1..=21 {
        add(&app, &client, &song(&format!("Track {n}"), "Artist")).await;
    }

    assert_eq!(list(&app, "").await.len(), 20);
    assert_eq!(list(&app, "?limit=100").await.len(), 21);
}

#[tokio::test]
async fn search_matches_title_or_artist_case_insensitively() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    add(&app, &client, &song("Song 2", "Blur")).await;
    add(&app, &client, &song("High & Dry", "Radiohead")).await;
    add(&app, &client, &song("Blurred Lines", "Someone")).await;
    add(&app, &client, &song("100% Pure", "Nobody")).await;

    assert_eq!(titles(list(&app, "?q=blur").await), ["Song 2", "Blurred Lines"]);
    assert_eq!(titles(list(&app, "?q=RADIO").await), ["High & Dry"]);
    assert_eq!(titles(list(&app, "?q=%25").await), ["100% Pure"], "% is literal, not a wildcard");
    assert_eq!(titles(list(&app, "?q=0%25%20p").await), ["100% Pure"], "through the trigram index too");
    assert!(list(&app, "?q=0_%20p").await.is_empty(), "_ is literal too");
    assert!(list(&app, "?q=zzz").await.is_empty());
}

#[tokio::test]
async fn search_folds_case_beyond_ascii() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    add(&app, &client, &song("L'Été indien", "Joe Dassin")).await;
    add(&app, &client, &song("Über", "ÅSA")).await;

    assert_eq!(titles(list(&app, "?q=%C3%89T%C3%89%20I").await), ["L'Été indien"], "ÉTÉ I");
    assert_eq!(titles(list(&app, "?q=%C3%A5sa").await), ["Über"], "åsa");
    assert_eq!(titles(list(&app, "?q=%C3%BCBER").await), ["Über"], "üBER");
    // Terms too short for trigrams fold the same way.
    assert_eq!(titles(list(&app, "?q=%C3%A9T").await), ["L'Été indien"], "éT");
    assert_eq!(titles(list(&app, "?q=%C3%85s").await), ["Über"], "Ås");
    assert_eq!(titles(list(&app, "?q=%C3%BC").await), ["Über"], "ü");
}

#[tokio::test]
async fn a_search_holds_every_track_to_the_whole_term() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    // Every title holds both trigrams of `cabc` (`cab`, `abc`); only some hold the term, so
    // whichever trigram a search follows, it must drop the others, before and after a skip.
    for title in ["abcab", "xcabcx", "abcab", "Cabc", "ab cabc"] {
        add(&app, &client, &song(title, "Nobody")).await;
    }

    assert_eq!(titles(list(&app, "?q=cabc").await), ["xcabcx", "Cabc", "ab cabc"]);
    assert_eq!(titles(list(&app, "?q=CABC&skip=1&limit=1").await), ["Cabc"]);
    assert!(list(&app, "?q=cabc&skip=3").await.is_empty());
}

#[tokio::test]
async fn a_rare_term_of_common_trigrams_is_found_past_hundreds_of_near_misses() {
    let app = TestApp::spawn().await;
    // 600 tracks hold both trigrams of `xyzw` (`xyz`, `yzw`) but not the term: whichever
    // trigram a search follows, it meets all of them between the first hit and the others.
    execute(&app, "INSERT INTO tracks (title, artist) VALUES ('Xyzw 1', 'Nobody')").await;
    execute(
        &app,
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) \
         INSERT INTO tracks (title, artist) SELECT 'xyz yzw ' || i, 'Nobody' FROM n",
    )
    .await;
    execute(&app, "INSERT INTO tracks (title, artist) VALUES ('Xyzw 2', 'Nobody'), ('Xyzw 3', 'Nobody')")
        .await;

    assert_eq!(titles(list(&app, "?q=xyzw").await), ["Xyzw 1", "Xyzw 2", "Xyzw 3"]);
    assert_eq!(titles(list(&app, "?q=xyzw&skip=1&limit=1").await), ["Xyzw 2"]);
    assert_eq!(titles(list(&app, "?q=xyzw&skip=2").await), ["Xyzw 3"]);
}

/// A search for a term few tracks hold scans (under three characters) or walks (a term of
/// common trigrams) much of the catalogue: past `--search-timeout` the database stops it
/// and the client gets a clear 503, and the next reads are served as before.
#[tokio::test]
async fn a_search_past_its_time_limit_is_stopped_with_a_503_and_the_catalogue_reads_on() {
    let app = TestApp::spawn_with(|config| config.search_timeout = std::time::Duration::from_millis(1)).await;
    // 20 000 tracks: scanning them, or walking those holding `xyz`, takes milliseconds at the
    // least on either engine, and no track holds `zq` or `xyzw`.
    execute(
        &app,
        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
         INSERT INTO tracks (title, artist) SELECT 'xyz yzw ' || i, 'Nobody' FROM n",
    )
    .await;

    for term in ["zq", "xyzw"] {
        let response = app.api().get(&format!("/tracks?q={term}")).await;
        assert!(response.headers().contains_key("retry-after"), "{term}");
        let body = assert_error(
            response,
            StatusCode::SERVICE_UNAVAILABLE,
            "The search took too long; try a longer or more precise term",
        )
        .await;
        assert_eq!(body["code"], "search_timeout", "{term}");
    }

    let first = list(&app, "?limit=1").await;
    assert_eq!(titles(first.clone()), ["xyz yzw 1"]);
    let fetched: Track = app.get_json(&format!("/tracks/{}", first[0].id)).await;
    assert_eq!(fetched, first[0]);
}

#[tokio::test]
async fn searches_page_in_id_order_with_skip_and_limit() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    for n in 1..=6 {
        let artist = if n % 2 == 0 { "Blur" } else { "Oasis" };
        add(&app, &client, &song(&format!("Track {n}"), artist)).await;
    }

    // Through the trigram index, and (two characters) without it.
    assert_eq!(titles(list(&app, "?q=blur&skip=1&limit=2").await), ["Track 4", "Track 6"]);
    assert_eq!(titles(list(&app, "?q=bl&skip=1&limit=2").await), ["Track 4", "Track 6"]);
    assert_eq!(titles(list(&app, "?q=oasis&limit=2").await), ["Track 1", "Track 3"]);
    assert!(list(&app, "?q=oasis&skip=3").await.is_empty());
}

#[tokio::test]
async fn listed_and_searched_tracks_carry_every_field_as_created() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let created = add(&app, &client, &song("Song 2", "Blur")).await;
    let sparse = add(&app, &client, &json!({"title": "Tender", "artist": "Blur"})).await;

    assert_eq!(list(&app, "").await, [created.clone(), sparse.clone()]);
    assert_eq!(list(&app, "?q=blur").await, [created.clone(), sparse.clone()]);
    assert_eq!(list(&app, "?q=bl").await, [created, sparse.clone()]);
    let fetched: Track = app.get_json(&format!("/tracks/{}", sparse.id)).await;
    assert_eq!(fetched, sparse);
}

#[tokio::test]
async fn a_search_never_matches_across_the_title_and_the_artist() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    add(&app, &client, &song("Blue", "Sky")).await;

    // Three characters go through the trigram index, two through the scan.
    assert!(list(&app, "?q=e%20s").await.is_empty());
    assert!(list(&app, "?q=es").await.is_empty());
    assert_eq!(list(&app, "?q=ue").await.len(), 1, "each part still matches");
}

#[tokio::test]
async fn bad_list_parameters_are_422() {
    let app = TestApp::spawn().await;
    for query in ["?limit=101", "?limit=0", "?skip=-1", "?skip=10001", "?limit=ten", "?q=%00abc", "?q=a%0Ab"]
    {
        let response = app.api().get(&format!("/tracks{query}")).await;
        assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

#[tokio::test]
async fn an_unknown_track_is_404_track_not_found() {
    let app = TestApp::spawn().await;

    let response = app.api().get("/tracks/999").await;

    assert_error(response, StatusCode::NOT_FOUND, "Track not found").await;
}

#[tokio::test]
async fn a_non_numeric_track_id_is_422() {
    let app = TestApp::spawn().await;

    let response = app.api().get("/tracks/abc").await;

    assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn the_creator_updates_fields_and_null_clears_an_optional_one() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let track = add(&app, &client, &song("Song 2", "Blur")).await;

    let response =
        client.patch(&format!("/tracks/{}", track.id), &json!({"title": "Song Two", "album": null})).await;

    assert_eq!(response.status(), StatusCode::OK);
    let updated: Track = response.json().await.expect("a track");
    assert_eq!(updated.title, "Song Two");
    assert_eq!(updated.album, None);
    assert_eq!(updated.artist, "Blur");
    assert_eq!(updated.label.as_deref(), Some("Food"));
}

#[tokio::test]
async fn an_invalid_update_is_422_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let track = add(&app, &client, &song("Song 2", "Blur")).await;

    let response = client.patch(&format!("/tracks/{}", track.id), &json!({"title": ""})).await;

    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    let unchanged: Track = app.get_json(&format!("/tracks/{}", track.id)).await;
    assert_eq!(unchanged, track);
}

#[tokio::test]
async fn another_user_can_neither_change_nor_delete_a_track() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.signed_in("alice", false).await;
    let (bob, _) = app.signed_in("bob", false).await;
    let track = add(&app, &alice, &song("Song 2", "Blur")).await;
    let path = format!("/tracks/{}", track.id);

    let patch = bob.patch(&path, &json!({"title": "Mine now"})).await;
    assert_error(patch, StatusCode::FORBIDDEN, "Only the track's creator or an admin can change it").await;
    let delete = bob.delete(&path).await;
    assert_error(delete, StatusCode::FORBIDDEN, "Only the track's creator or an admin can change it").await;

    let unchanged: Track = app.api().get(&path).await.json().await.expect("JSON");
    assert_eq!(unchanged, track);
}

#[tokio::test]
async fn an_admin_can_change_and_delete_any_track() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.signed_in("alice", false).await;
    let (admin, _) = app.signed_in("root", true).await;
    let track = add(&app, &alice, &song("Song 2", "Blur")).await;
    let path = format!("/tracks/{}", track.id);

    let patch = admin.patch(&path, &json!({"year": 1998})).await;
    assert_eq!(patch.status(), StatusCode::OK);
    let delete = admin.delete(&path).await;
    assert_eq!(delete.status(), StatusCode::OK);
    let body: Value = delete.json().await.expect("JSON");
    assert_eq!(body, json!({"success": true}));

    assert_error(app.api().get(&path).await, StatusCode::NOT_FOUND, "Track not found").await;
}

#[tokio::test]
async fn changing_or_deleting_an_unknown_track_is_404() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let patch = client.patch("/tracks/42", &json!({"title": "x"})).await;
    assert_error(patch, StatusCode::NOT_FOUND, "Track not found").await;
    let delete = client.delete("/tracks/42").await;
    assert_error(delete, StatusCode::NOT_FOUND, "Track not found").await;
}

#[tokio::test]
async fn search_stays_correct_through_updates_and_deletes() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let track = add(&app, &client, &song("Paranoid Android", "Radiohead")).await;
    add(&app, &client, &song("Karma Police", "Radiohead")).await;
    assert_eq!(titles(list(&app, "?q=android").await), ["Paranoid Android"]);

    let path = format!("/tracks/{}", track.id);
    let renamed = client.patch(&path, &json!({"title": "Let Down"})).await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert!(list(&app, "?q=android").await.is_empty());
    assert_eq!(titles(list(&app, "?q=let%20do").await), ["Let Down"]);

    client.delete(&path).await;
    assert!(list(&app, "?q=let%20do").await.is_empty());
    assert_eq!(titles(list(&app, "?q=RADIOHEAD").await), ["Karma Police"]);
    assert_eq!(titles(list(&app, "?q=po").await), ["Karma Police"], "short terms work too");
    assert_eq!(titles(list(&app, "?q=%22").await), Vec::<String>::new(), "a quote is just a character");
}

#[tokio::test]
async fn control_characters_in_track_fields_are_422_not_a_database_error() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let response = client.post_json("/tracks", &song("Song\u{0}2", "Blur")).await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert_eq!(body["fields"]["title"], "must not contain control characters");
}

#[tokio::test]
async fn searches_see_tracks_added_renamed_and_removed_by_plain_sql() {
    let app = TestApp::spawn().await;
    // Several rows in one statement each time: the search indexes follow whole statements.
    let sql = [
        "INSERT INTO tracks (title, artist) VALUES ('Wonderwall', 'Oasis'), ('Champagne Supernova', 'Oasis'), ('Yellow', 'Coldplay')",
        "UPDATE tracks SET title = 'Stand By Me' WHERE title = 'Wonderwall' OR artist = 'Coldplay'",
        "UPDATE tracks SET year = 1995",
    ];
    for statement in sql {
        execute(&app, statement).await;
    }
    assert!(list(&app, "?q=wonder").await.is_empty());
    assert_eq!(titles(list(&app, "?q=stand%20by").await), ["Stand By Me", "Stand By Me"]);
    assert_eq!(titles(list(&app, "?q=super").await), ["Champagne Supernova"], "untouched by the renames");

    execute(&app, "DELETE FROM tracks WHERE artist = 'Coldplay'").await;
    assert_eq!(titles(list(&app, "?q=stand%20by").await), ["Stand By Me"]);
    assert_eq!(titles(list(&app, "?q=oasis").await), ["Stand By Me", "Champagne Supernova"]);
}

/// What a search's speed rests on with PostgreSQL, whatever the catalogue's size: the
/// tracks holding the term's rarest trigram, walked in id order as the outer loop, each
/// track read by its id, and nothing sorted, so the read stops after the page.
#[tokio::test]
async fn a_postgresql_search_walks_one_trigram_in_id_order_and_sorts_nothing() {
    let app = TestApp::spawn().await;
    let Db::Postgres { pool, .. } = &app.state.db else {
        return skip(
            "a_postgresql_search_walks_one_trigram_in_id_order_and_sorts_nothing",
            "needs TRACKLIST_TEST_POSTGRES (scripts/test.sh sets it)",
        );
    };
    execute(&app, "INSERT INTO tracks (title, artist) SELECT 'Song ' || n, 'Artist ' || n % 50 FROM generate_series(1, 2000) AS n").await;
    execute(&app, "ANALYZE tracks; ANALYZE track_trigrams").await;
    // As the server's readers plan it: once, whatever the parameters.
    let mut conn = pool.acquire().await.expect("a connection").detach();
    let prepare = format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE search(bigint, bigint, text, text) AS {}",
        tracklist::db::tracks::TRIGRAM_SEARCH
    );
    sqlx::raw_sql(&prepare).execute(&mut conn).await.expect("prepared");
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE search(20, 0, '%song 9%', 'g 9')")
        .fetch_all(&mut conn)
        .await
        .expect("planned");
    conn.close().await.expect("closed");

    let plan = plan.join("\n");
    assert!(plan.contains("Nested Loop"), "{plan}");
    assert!(plan.contains("Scan using track_trigrams_pkey on track_trigrams"), "{plan}");
    assert!(plan.contains("Index Scan using tracks_pkey on tracks"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}
