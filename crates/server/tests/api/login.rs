//! `POST /login` and `GET /users/me`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error, session_cookie};

#[tokio::test]
async fn login_with_a_form_body_succeeds_and_sets_a_hardened_session_cookie() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;

    let response = app.api().sign_in("alice", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookie = session_cookie(&response).expect("a session cookie");
    assert!(cookie.has("httponly") && cookie.has("samesite=strict") && cookie.has("path=/"), "{cookie:?}");
    assert!(!cookie.attributes.iter().any(|a| a.starts_with("domain")), "{cookie:?}");
    assert!(!cookie.has("secure"), "plain-HTTP default must not mark the cookie Secure");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body, json!({"success": true}));
}

#[tokio::test]
async fn login_accepts_a_json_body() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let client = app.api();

    let response = client.post_json("/login", &json!({"username": "alice", "password": PASSWORD})).await;

    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = client.get("/users/me").await.json().await.expect("JSON");
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn users_me_returns_the_signed_in_user_with_no_store() {
    let app = TestApp::spawn().await;
    let (client, account) = app.signed_in("alice", false).await;

    let response = client.get("/users/me").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let me: Value = response.json().await.expect("JSON");
    assert_eq!(me, json!({"id": account.id, "username": "alice", "is_admin": false}));
}

#[tokio::test]
async fn usernames_are_case_insensitive_at_login() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;

    let response = app.api().sign_in("  ALICE ", PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_gets_401_incorrect_username_or_password() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;

    let response = app.api().sign_in("alice", "not the password at all").await;

    assert!(session_cookie(&response).is_none());
    assert_error(response, StatusCode::UNAUTHORIZED, "Incorrect username or password").await;
}

#[tokio::test]
async fn an_unknown_user_gets_exactly_the_wrong_password_answer() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;

    let wrong_password = app.api().sign_in("alice", "not the password at all").await;
    let unknown_user = app.api().sign_in("nobody", "not the password at all").await;

    assert_eq!(wrong_password.status(), unknown_user.status());
    let wrong_password: Value = wrong_password.json().await.expect("JSON");
    let unknown_user: Value = unknown_user.json().await.expect("JSON");
    assert_eq!(wrong_password, unknown_user);
}

#[tokio::test]
async fn unicode_and_hostile_usernames_get_401_never_500() {
    let app = TestApp::spawn().await;
    for username in ["jöhn", "名前", "🎵🎵🎵", "' OR 1=1 --", "a\u{0}b", &"x".repeat(5000)] {
        let response = app.api().sign_in(username, "whatever password").await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Incorrect username or password").await;
    }
}

#[tokio::test]
async fn missing_or_empty_login_fields_are_422() {
    let app = TestApp::spawn().await;
    let client = app.api();

    let missing = client.post_form("/login", &[("username", "alice")]).await;
    let body = crate::helpers::assert_json_error(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("password")), "{body}");

    let empty = client.post_form("/login", &[("username", ""), ("password", "")]).await;
    let body = crate::helpers::assert_json_error(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["fields"]["username"], "is required");
    assert_eq!(body["fields"]["password"], "is required");

    let json_missing = client.post_json("/login", &json!({"password": "x"})).await;
    crate::helpers::assert_json_error(json_missing, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn users_me_without_a_session_is_401_not_authenticated() {
    let app = TestApp::spawn().await;

    let response = app.api().get("/users/me").await;

    assert_eq!(response.headers()["www-authenticate"], "Cookie");
    assert_error(response, StatusCode::UNAUTHORIZED, "Not authenticated").await;
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_loses_its_sessions() {
    let app = TestApp::spawn().await;
    let (client, account) = app.signed_in("alice", false).await;

    tracklist::db::users::set_disabled(&app.state.db, account.id, true).await.expect("updated");

    let me = client.get("/users/me").await;
    assert_error(me, StatusCode::UNAUTHORIZED, "Not authenticated").await;
    let again = app.api().sign_in("alice", PASSWORD).await;
    assert_error(again, StatusCode::UNAUTHORIZED, "Incorrect username or password").await;
}

#[tokio::test]
async fn demo_mode_seeds_john_and_four_tracks_into_an_empty_database_only() {
    let app = TestApp::spawn_with(|config| config.demo = true).await;

    let response = app.api().sign_in("john", tracklist::demo::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tracks: Vec<shared::Track> = app.get_json("/tracks").await;
    let titles: Vec<&str> = tracks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Here Comes the Sun", "Song 2", "High & Dry", "The Rain Song"]);

    // A second seeding of a database that has data adds nothing.
    tracklist::demo::seed(&app.state).await.expect("seed");
    assert_eq!(tracklist::db::tracks::count(&app.state.db).await.expect("count"), 4);
}

#[tokio::test]
async fn without_demo_mode_there_is_no_default_account() {
    let app = TestApp::spawn().await;

    let response = app.api().sign_in("john", tracklist::demo::PASSWORD).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(tracklist::db::users::count(&app.state.db).await.expect("count"), 0);
}
