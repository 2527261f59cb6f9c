//! `POST /users` (sign-up).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn sign_up_creates_an_account_that_can_sign_in() {
    let app = TestApp::spawn().await;

    let response = app.api().post_json("/users", &json!({"username": "Carol", "password": PASSWORD})).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let user: Value = response.json().await.expect("JSON");
    assert_eq!(user["username"], "carol");
    assert_eq!(user["is_admin"], false);
    assert!(user.get("password_hash").is_none());
    let client = app.api();
    assert_eq!(client.sign_in("carol", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_up_accepts_a_form_body() {
    let app = TestApp::spawn().await;

    let response = app.api().post_form("/users", &[("username", "carol"), ("password", PASSWORD)]).await;

    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_taken_username_is_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.create_user("carol", false).await;

    let response = app.api().post_json("/users", &json!({"username": "CAROL", "password": PASSWORD})).await;

    assert_error(response, StatusCode::CONFLICT, "That username is taken").await;
}

#[tokio::test]
async fn weak_passwords_and_bad_usernames_get_422_with_field_messages() {
    let app = TestApp::spawn().await;

    let response = app.api().post_json("/users", &json!({"username": "ca rol", "password": "short"})).await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert!(body["fields"]["password"].as_str().is_some_and(|m| m.contains("15")), "{body}");
    assert!(body["fields"]["username"].as_str().is_some_and(|m| m.contains("letters")), "{body}");
    assert_eq!(tracklist::db::users::count(&app.state.db).await.expect("count"), 0);
}

#[tokio::test]
async fn a_password_over_128_characters_is_refused() {
    let app = TestApp::spawn().await;

    let response =
        app.api().post_json("/users", &json!({"username": "carol", "password": "x".repeat(129)})).await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert!(body["fields"]["password"].as_str().is_some_and(|m| m.contains("128")), "{body}");
}

#[tokio::test]
async fn sign_up_can_be_switched_off() {
    let app = TestApp::spawn_with(|config| config.allow_signup = false).await;

    let response = app.api().post_json("/users", &json!({"username": "carol", "password": PASSWORD})).await;

    assert_error(response, StatusCode::FORBIDDEN, "Sign-up is disabled on this server").await;
}
