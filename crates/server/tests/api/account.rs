//! SECURITY.md 9, 10 and 17: a user's own sessions, password changes, disabling, the
//! password blocklist.

use reqwest::header::USER_AGENT;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::SessionInfo;

use crate::helpers::{Api, PASSWORD, TestApp, assert_error, session_cookie};

const NEW_PASSWORD: &str = "an entirely fresh passphrase";

/// Signs `name` in from a cookie-less client with this user agent; returns the session id.
async fn sign_in_as(app: &TestApp, name: &str, agent: &str) -> String {
    let response = Api::send(
        app.api()
            .request(Method::POST, "/login")
            .header(USER_AGENT, agent)
            .form(&[("username", name), ("password", PASSWORD)]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    session_cookie(&response).expect("a cookie").value
}

async fn list_sessions(app: &TestApp, id: &str) -> Vec<SessionInfo> {
    let response = app.api_with_session(id).get("/users/me/sessions").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.expect("sessions")
}

#[tokio::test]
async fn item_9_a_user_lists_their_own_sessions_with_the_current_one_marked() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    app.create_user("bob", false).await;
    let laptop = sign_in_as(&app, "alice", "Laptop browser").await;
    let _phone = sign_in_as(&app, "alice", "Phone browser").await;
    let _bob = sign_in_as(&app, "bob", "Bob's browser").await;

    let sessions = list_sessions(&app, &laptop).await;

    assert_eq!(sessions.len(), 2, "only alice's sessions: {sessions:?}");
    let current: Vec<_> = sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].user_agent.as_deref(), Some("Laptop browser"));
    assert!(sessions.iter().any(|s| s.user_agent.as_deref() == Some("Phone browser") && !s.current));
    assert!(sessions.iter().all(|s| s.client_address.as_deref() == Some("127.0.0.1")));
    assert!(sessions.iter().all(|s| s.id != laptop), "the reference must not be the session id");
}

#[tokio::test]
async fn item_9_revoking_one_session_kills_only_that_one() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let laptop = sign_in_as(&app, "alice", "Laptop").await;
    let phone = sign_in_as(&app, "alice", "Phone").await;
    let phone_ref =
        list_sessions(&app, &laptop).await.into_iter().find(|s| !s.current).expect("the phone").id;

    let response = app.api_with_session(&laptop).delete(&format!("/users/me/sessions/{phone_ref}")).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.me_with_cookie(Some(&phone)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_with_cookie(Some(&laptop)).await.status(), StatusCode::OK);
    assert_eq!(list_sessions(&app, &laptop).await.len(), 1);
}

#[tokio::test]
async fn item_9_nobody_can_revoke_another_users_session() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    app.create_user("mallory", false).await;
    let alice = sign_in_as(&app, "alice", "Alice").await;
    let alice_ref = list_sessions(&app, &alice).await[0].id.clone();
    let mallory = sign_in_as(&app, "mallory", "Mallory").await;

    let response = app.api_with_session(&mallory).delete(&format!("/users/me/sessions/{alice_ref}")).await;

    assert_error(response, StatusCode::NOT_FOUND, "Session not found").await;
    assert_eq!(app.me_with_cookie(Some(&alice)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_9_signing_out_everywhere_else_keeps_the_current_session() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let keep = sign_in_as(&app, "alice", "Keep").await;
    let others = [sign_in_as(&app, "alice", "A").await, sign_in_as(&app, "alice", "B").await];

    let response = app.api_with_session(&keep).delete("/users/me/sessions").await;

    assert_eq!(response.status(), StatusCode::OK);
    for other in &others {
        assert_eq!(app.me_with_cookie(Some(other)).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.me_with_cookie(Some(&keep)).await.status(), StatusCode::OK);
    let remaining = list_sessions(&app, &keep).await;
    assert_eq!(remaining.len(), 1);
    assert!(remaining[0].current);
}

#[tokio::test]
async fn item_9_logout_removes_the_session_from_the_list() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let stay = sign_in_as(&app, "alice", "Stay").await;
    let leave = sign_in_as(&app, "alice", "Leave").await;

    app.api_with_session(&leave).post("/logout").await;

    let sessions = list_sessions(&app, &stay).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
}

/// Alice signed in "Here" (the session to act from) and "Elsewhere".
async fn alice_on_two_devices(app: &TestApp) -> (String, String) {
    app.create_user("alice", false).await;
    (sign_in_as(app, "alice", "Here").await, sign_in_as(app, "alice", "Elsewhere").await)
}

#[tokio::test]
async fn item_10_changing_the_password_revokes_other_sessions_and_rotates_this_one() {
    let app = TestApp::spawn().await;
    let (current, elsewhere) = alice_on_two_devices(&app).await;

    let response = app
        .api_with_session(&current)
        .put_json("/users/me/password", &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let rotated = session_cookie(&response).expect("a new session cookie").value;
    assert_ne!(rotated, current);
    assert_eq!(app.me_with_cookie(Some(&current)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_with_cookie(Some(&elsewhere)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_with_cookie(Some(&rotated)).await.status(), StatusCode::OK);
    assert_eq!(list_sessions(&app, &rotated).await.len(), 1);
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.api().sign_in("alice", NEW_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_10_a_wrong_current_password_changes_nothing() {
    let app = TestApp::spawn().await;
    let (current, elsewhere) = alice_on_two_devices(&app).await;

    let response = app
        .api_with_session(&current)
        .put_json(
            "/users/me/password",
            &json!({"current_password": "not my password at all", "new_password": NEW_PASSWORD}),
        )
        .await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert_eq!(body["fields"]["current_password"], "is not your current password");
    assert_eq!(app.me_with_cookie(Some(&elsewhere)).await.status(), StatusCode::OK);
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_10_the_new_password_must_meet_the_policy() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let current = sign_in_as(&app, "alice", "Here").await;

    let response = app
        .api_with_session(&current)
        .put_json(
            "/users/me/password",
            &json!({"current_password": PASSWORD, "new_password": "1qaz2wsx3edc4rfv"}),
        )
        .await;

    let body: Value =
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert!(body["fields"]["new_password"].as_str().is_some_and(|m| m.contains("commonly used")), "{body}");
}

#[tokio::test]
async fn item_10_changing_the_password_needs_a_session() {
    let app = TestApp::spawn().await;

    let response = app
        .api()
        .put_json("/users/me/password", &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .await;

    assert_error(response, StatusCode::UNAUTHORIZED, "Not authenticated").await;
}

#[tokio::test]
async fn item_17_sign_up_refuses_breached_passwords_with_the_reason() {
    let app = TestApp::spawn().await;

    let response =
        app.api().post_json("/users", &json!({"username": "carol", "password": "passwordpassword"})).await;

    let body = assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "Some fields are invalid").await;
    assert_eq!(body["fields"]["password"], "is a commonly used password; choose another");
}
