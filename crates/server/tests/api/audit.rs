//! SECURITY.md 23: sign-in events are logged with user and client address, and no password
//! or session id ever reaches the log.

use std::sync::PoisonError;

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, captured_logs, logged, request_id, session_cookie};

#[tokio::test]
async fn item_23_account_events_are_logged_without_secrets() {
    let logs = captured_logs();
    let app = TestApp::spawn_with(|config| config.throttle.max_failures = 2).await;
    let account = app.create_user("audited", false).await;
    let wrong_password = "audited wrong password 9431";

    let refused = app.api().sign_in("audited", wrong_password).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let login = app.api().sign_in("audited", PASSWORD).await;
    let session_id = session_cookie(&login).expect("a cookie").value;
    let signed_in = app.api_with_session(&session_id);
    let revoked = signed_in.delete("/users/me/sessions").await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let new_password = "audited new password 7730";
    let changed = signed_in
        .put_json(
            "/users/me/password",
            &serde_json::json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let first_session_id = session_id.clone();
    let session_id = session_cookie(&changed).expect("a rotated cookie").value;
    let logout = app.api_with_session(&session_id).post("/logout").await;
    assert_eq!(logout.status(), StatusCode::OK);
    let mut guesses = Vec::new();
    for attempt in 0..3 {
        guesses.push(request_id(&app.api().sign_in("audited", &format!("{wrong_password} {attempt}")).await));
    }
    // A password typed into the username field, and a username that would forge a log line.
    let misplaced = "misplaced password 5521";
    let forged = "x\n2026-01-01T00:00:00Z  INFO forged event=\"login_succeeded\"";
    for username in [misplaced, forged] {
        assert_eq!(app.api().sign_in(username, "whatever").await.status(), StatusCode::UNAUTHORIZED);
    }

    let text = String::from_utf8_lossy(&logs.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    let user_id = format!("user_id={}", account.id);
    let has = |line: &str, field: &str| line.split_whitespace().any(|it| it == field);
    let failed = logged(&text, &request_id(&refused), "login_failed").expect("a login_failed event");
    assert!(has(failed, "client=127.0.0.1"), "{failed}");
    let succeeded = logged(&text, &request_id(&login), "login_succeeded").expect("a login_succeeded event");
    assert!(has(succeeded, &user_id), "{succeeded}");
    for (response, event) in
        [(&revoked, "sessions_revoked"), (&changed, "password_changed"), (&logout, "logout")]
    {
        let line = logged(&text, &request_id(response), event).unwrap_or_else(|| panic!("no {event} event"));
        assert!(has(line, &user_id), "{line}");
    }
    assert!(
        guesses.iter().any(|guess| logged(&text, guess, "login_throttled").is_some()),
        "no login_throttled event"
    );
    assert!(!text.lines().any(|line| line.contains("INFO forged")), "a username forged a log line");
    for secret in [wrong_password, PASSWORD, new_password, misplaced] {
        assert!(!text.contains(secret), "a password reached the log");
    }
    for id in [first_session_id, session_id] {
        assert!(!text.contains(&id), "a session id reached the log");
    }
}

#[tokio::test]
async fn issue_15_wrong_codes_and_used_links_are_logged_without_the_secrets() {
    let logs = captured_logs();
    let app = TestApp::spawn().await;
    let (api, account) = app.signed_in("coded", false).await;
    let (secret, recovery_codes, enabled) = crate::two_factor::enrol_by_request(&api).await;
    api.post("/logout").await;

    let pending = app.api();
    assert_eq!(pending.sign_in("coded", PASSWORD).await.status(), StatusCode::ACCEPTED);
    let wrong = pending.post_form("/login/second-factor", &[("code", "000000")]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = pending.post_form("/login/second-factor", &[("code", recovery_codes[0].as_str())]).await;
    assert_eq!(right.status(), StatusCode::OK);
    let output = crate::cli::tracklist(&app, &["user", "reset-link", "coded"], "").await;
    let link = String::from_utf8(output.stdout).expect("UTF-8");
    let token = link.trim().split_once('#').expect("a fragment").1.to_owned();
    let reset = serde_json::json!({"token": token, "new_password": "the coded user's new password"});
    let reset = app.api().post_json("/password-reset", &reset).await;
    assert_eq!(reset.status(), StatusCode::OK);

    let text = String::from_utf8_lossy(&logs.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    let user_id = format!("user_id={}", account.id);
    let events = [
        (enabled, "two_factor_enabled"),
        (request_id(&wrong), "second_factor_failed"),
        (request_id(&right), "login_succeeded"),
        (request_id(&reset), "password_reset"),
    ];
    for (request, event) in events {
        let line = logged(&text, &request, event).unwrap_or_else(|| panic!("no {event} event"));
        assert!(line.split_whitespace().any(|field| field == user_id), "{line}");
    }
    let verifier = token.split_once('.').expect("selector.verifier").1;
    let key = totp_rs::Secret::Raw(secret).to_encoded().to_string();
    for secret in [recovery_codes[0].as_str(), verifier, key.as_str()] {
        assert!(!text.contains(secret), "a secret reached the log");
    }
}
