//! Malformed requests: every one gets a JSON error with the right status, never a 500.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Api, PASSWORD, TestApp, assert_error, assert_json_error};

#[tokio::test]
async fn json_sent_as_text_plain_is_415() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let body = json!({"title": "Song 2", "artist": "Blur"}).to_string();

    let track =
        Api::send(client.request(Method::POST, "/tracks").header(CONTENT_TYPE, "text/plain").body(body))
            .await;
    assert_json_error(track, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let login_body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let login = Api::send(
        app.api().request(Method::POST, "/login").header(CONTENT_TYPE, "text/plain").body(login_body),
    )
    .await;
    assert_json_error(login, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn malformed_json_is_422() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    for body in ["{", "[]", r#"{"title": 5, "artist": "x"}"#, "null"] {
        let response = Api::send(
            client.request(Method::POST, "/tracks").header(CONTENT_TYPE, "application/json").body(body),
        )
        .await;
        assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let login = Api::send(
        app.api().request(Method::POST, "/login").header(CONTENT_TYPE, "application/json").body("{"),
    )
    .await;
    assert_json_error(login, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn an_auth_body_over_64_kib_is_413() {
    let app = TestApp::spawn().await;

    let response =
        app.api().post_form("/login", &[("username", "alice"), ("password", &"x".repeat(70 * 1024))]).await;

    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large").await;
}

#[tokio::test]
async fn a_track_body_over_1_mib_is_413_but_under_it_is_read() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let big = json!({"title": "x".repeat(1024 * 1024), "artist": "Blur"});
    let response = client.post_json("/tracks", &big).await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large").await;

    // 100 KiB is past the auth limit but fine here: it fails validation, not the size check.
    let medium = json!({"title": "x".repeat(100 * 1024), "artist": "Blur"});
    let response = client.post_json("/tracks", &medium).await;
    assert_json_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn an_unknown_path_is_404_json() {
    let app = TestApp::spawn().await;

    let response = app.api().get("/no/such/thing").await;

    assert_error(response, StatusCode::NOT_FOUND, "Not Found").await;
}

#[tokio::test]
async fn a_wrong_method_is_405_json() {
    let app = TestApp::spawn().await;

    let response = app.api().put_json("/tracks/1", &json!({})).await;

    assert_error(response, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").await;
}
