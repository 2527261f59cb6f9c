//! Session lifecycle: ids, rotation, revocation, tampering, expiry.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::header::COOKIE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, PASSWORD, TestApp, assert_error, session_cookie, session_cookie_named};

#[tokio::test]
async fn session_ids_are_opaque_random_and_distinct() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;

    let mut ids = HashSet::new();
    for _ in 0..20 {
        let id = app.session_id_for("alice").await;
        assert!(id.len() >= 22, "{id} is shorter than 128 bits in base64url");
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{id}");
        assert!(!id.contains("alice"), "the cookie must carry no user data");
        ids.insert(id);
    }

    assert_eq!(ids.len(), 20);
}

#[tokio::test]
async fn logout_revokes_the_session_server_side() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;
    assert_eq!(app.me_with_cookie(Some(&id)).await.status(), StatusCode::OK);

    let logout = app.api_with_session(&id).post("/logout").await;
    assert_eq!(logout.status(), StatusCode::OK);
    assert_eq!(logout.headers()["cache-control"], "no-store");
    let body: Value = logout.json().await.expect("JSON");
    assert_eq!(body, json!({"success": true}));

    // A copy of the cookie taken before logout is worthless afterwards.
    assert_error(app.me_with_cookie(Some(&id)).await, StatusCode::UNAUTHORIZED, "Not authenticated").await;
}

#[tokio::test]
async fn a_browser_form_post_to_logout_is_sent_to_the_library_with_303() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");

    let logout = no_redirects
        .post(app.url("/logout"))
        .header("cookie", format!("id={id}"))
        .header("sec-fetch-mode", "navigate")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("sent");

    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(logout.headers()["location"], "/");
    let removal = session_cookie(&logout).expect("a removal cookie");
    assert!(removal.has("max-age=0"), "{removal:?}");
    assert_error(app.me_with_cookie(Some(&id)).await, StatusCode::UNAUTHORIZED, "Not authenticated").await;
}

#[tokio::test]
async fn logout_expires_the_cookie_with_its_attributes() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;

    let logout = app.api_with_session(&id).post("/logout").await;

    let removal = session_cookie(&logout).expect("a removal cookie");
    assert!(removal.value.is_empty(), "{removal:?}");
    for attribute in ["max-age=0", "path=/", "httponly", "samesite=strict"] {
        assert!(removal.has(attribute), "missing {attribute}: {removal:?}");
    }
}

#[tokio::test]
async fn logout_with_secure_cookies_expires_the_host_prefixed_cookie_with_secure() {
    let app = TestApp::spawn_with(|config| config.secure_cookies = true).await;
    app.create_user("alice", false).await;

    let login = app.api().sign_in("alice", PASSWORD).await;
    let cookie = session_cookie_named(&login, "__Host-id").expect("a __Host- cookie");
    assert!(cookie.has("secure") && cookie.has("path=/"), "{cookie:?}");
    let logout = Api::send(
        app.api().request(Method::POST, "/logout").header(COOKIE, format!("__Host-id={}", cookie.value)),
    )
    .await;

    let removal = session_cookie_named(&logout, "__Host-id").expect("a removal cookie");
    for attribute in ["max-age=0", "path=/", "httponly", "secure"] {
        assert!(removal.has(attribute), "missing {attribute}: {removal:?}");
    }
}

#[tokio::test]
async fn logout_without_a_session_still_succeeds() {
    let app = TestApp::spawn().await;

    let response = app.api().post("/logout").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("JSON"), json!({"success": true}));
}

#[tokio::test]
async fn get_logout_is_405_and_signs_nobody_out() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;

    let response = app.api_with_session(&id).get("/logout").await;

    assert_error(response, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").await;
    assert_eq!(app.me_with_cookie(Some(&id)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_login_issues_a_new_id_and_kills_the_previous_one() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let first = app.session_id_for("alice").await;

    let second = app
        .api_with_session(&first)
        .post_form("/login", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    let second = session_cookie(&second).expect("a new cookie").value;

    assert_ne!(first, second);
    assert_eq!(app.me_with_cookie(Some(&first)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_with_cookie(Some(&second)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_planted_session_id_is_replaced_at_login_and_stays_dead() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";

    let response = app
        .api_with_session(planted)
        .post_form("/login", &[("username", "alice"), ("password", PASSWORD)])
        .await;
    let issued = session_cookie(&response).expect("a cookie").value;

    assert_ne!(issued, planted);
    assert_eq!(app.me_with_cookie(Some(planted)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_with_cookie(Some(&issued)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn tampered_truncated_oversized_or_unknown_cookies_get_401_json() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;
    let mut flipped: Vec<char> = id.chars().collect();
    flipped[3] = if flipped[3] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();

    for cookie in [flipped.as_str(), &id[..10], &"A".repeat(4000), "not-base64!!", "", "%00%ff", "ö"] {
        let response = app.me_with_cookie(Some(cookie)).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "Not authenticated").await;
    }
}

#[tokio::test]
async fn an_idle_session_expires_server_side() {
    let app = TestApp::spawn_with(|config| {
        config.session.idle_timeout = Duration::from_secs(2);
        config.session.lifetime = Duration::from_secs(60);
    })
    .await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;

    tokio::time::sleep(Duration::from_millis(2500)).await;

    assert_eq!(app.me_with_cookie(Some(&id)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn activity_slides_the_idle_timeout() {
    let app = TestApp::spawn_with(|config| {
        config.session.idle_timeout = Duration::from_secs(4);
        config.session.lifetime = Duration::from_secs(60);
    })
    .await;
    app.create_user("alice", false).await;
    let id = app.session_id_for("alice").await;

    // Past half the idle window: this request moves the deadline to now + 4 s.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.me_with_cookie(Some(&id)).await.status(), StatusCode::OK);
    // 5 s after sign-in: beyond the original deadline, within the slid one.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    assert_eq!(app.me_with_cookie(Some(&id)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_absolute_lifetime_ends_even_an_active_session() {
    // Redis expires keys at whole seconds (up to 1 s early): the bounds below allow for it.
    let app = TestApp::spawn_with(|config| {
        config.session.idle_timeout = Duration::from_secs(4);
        config.session.lifetime = Duration::from_secs(6);
    })
    .await;
    app.create_user("alice", false).await;
    let started = Instant::now();
    let id = app.session_id_for("alice").await;

    // Constant activity would keep the idle deadline moving for ever.
    let ended_after = loop {
        if app.me_with_cookie(Some(&id)).await.status() == StatusCode::UNAUTHORIZED {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(9), "the session outlived its lifetime");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    assert!(ended_after >= Duration::from_millis(4900), "ended early, after {ended_after:?}");
}
