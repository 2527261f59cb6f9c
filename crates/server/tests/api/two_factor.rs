//! Two-step sign-in: enrolment, the pending session, codes used once, recovery codes,
//! throttling of codes, turning it off (issue 15).

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{RecoveryCodes, TwoFactorSetup, TwoFactorStatus};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{Api, PASSWORD, TestApp, assert_json_error, request_id, session_cookie};

/// The app's code for the step `offset` steps from now, as the user's app shows it.
pub fn code(secret: &[u8], offset: i64) -> String {
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, secret.to_vec(), None, String::new());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
    totp.generate(now.saturating_add_signed(offset * 30))
}

/// Turns two-step sign-in on for the signed-in `api` with the current code; returns the key
/// and the recovery codes.
pub async fn enrol(api: &Api) -> (Vec<u8>, Vec<String>) {
    let (secret, codes, _) = enrol_by_request(api).await;
    (secret, codes)
}

/// [`enrol`], and the id of the request that turned it on (for the tests that read its log).
pub async fn enrol_by_request(api: &Api) -> (Vec<u8>, Vec<String>, String) {
    let response = api.post("/users/me/two-factor/setup").await;
    assert_eq!(response.status(), StatusCode::OK);
    let setup: TwoFactorSetup = response.json().await.expect("a setup");
    let secret = Secret::Encoded(setup.secret.clone()).to_bytes().expect("a base32 key");
    let confirm = json!({"password": PASSWORD, "code": code(&secret, 0)});
    let response = api.post_json("/users/me/two-factor/enable", &confirm).await;
    assert_eq!(response.status(), StatusCode::OK);
    let enabled_by = request_id(&response);
    let codes: RecoveryCodes = response.json().await.expect("recovery codes");
    (secret, codes.codes, enabled_by)
}

/// Whether two-step sign-in is on, and how many recovery codes are left.
async fn status(api: &Api) -> (bool, i64) {
    let status: TwoFactorStatus = api.get("/users/me/two-factor").await.json().await.expect("a status");
    (status.enabled, status.recovery_codes_left)
}

/// A user with two-step sign-in on, signed out again; its key and recovery codes.
async fn enrolled(app: &TestApp, name: &str) -> (Vec<u8>, Vec<String>) {
    let (api, _) = app.signed_in(name, false).await;
    let enrolled = enrol(&api).await;
    assert_eq!(api.post("/logout").await.status(), StatusCode::OK);
    enrolled
}

/// A fresh client whose password was accepted: its session waits for a code.
async fn pending(app: &TestApp, name: &str) -> Api {
    let api = app.api();
    let response = api.sign_in(name, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body, json!({"second_factor_required": true}));
    api
}

async fn second_factor(api: &Api, code: &str) -> reqwest::Response {
    api.post_form("/login/second-factor", &[("code", code)]).await
}

#[tokio::test]
async fn enrolment_is_refused_with_a_wrong_code_or_password_and_then_shows_ten_recovery_codes() {
    let app = TestApp::spawn().await;
    let (api, _) = app.signed_in("alice", false).await;
    assert_eq!(
        api.post_json("/users/me/two-factor/enable", &json!({"password": PASSWORD, "code": "123456"}))
            .await
            .status(),
        StatusCode::CONFLICT,
        "confirming before any key was offered"
    );
    let setup: TwoFactorSetup = api.post("/users/me/two-factor/setup").await.json().await.expect("setup");
    assert!(setup.qr_svg.starts_with("<svg"), "a QR code drawn by the server");
    assert!(setup.otpauth_url.starts_with("otpauth://totp/Tracklist:alice?"));
    let secret = Secret::Encoded(setup.secret).to_bytes().expect("base32");

    let wrong_code = json!({"password": PASSWORD, "code": code(&secret, -3)});
    let body = assert_json_error(
        api.post_json("/users/me/two-factor/enable", &wrong_code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["code"].is_string(), "{body}");
    let wrong_password = json!({"password": "not the password at all", "code": code(&secret, 0)});
    let body = assert_json_error(
        api.post_json("/users/me/two-factor/enable", &wrong_password).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["password"].is_string(), "{body}");
    assert_eq!(status(&api).await, (false, 0));

    let right = json!({"password": PASSWORD, "code": code(&secret, 0)});
    let response = api.post_json("/users/me/two-factor/enable", &right).await;
    assert_eq!(response.status(), StatusCode::OK);
    let codes: RecoveryCodes = response.json().await.expect("codes");
    assert_eq!(codes.codes.len(), 10);
    assert_eq!(status(&api).await, (true, 10));
    assert_eq!(api.post("/users/me/two-factor/setup").await.status(), StatusCode::CONFLICT, "already on");
}

#[tokio::test]
async fn a_right_password_only_opens_a_pending_session_that_can_read_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (secret, _) = enrolled(&app, "alice").await;
    let api = app.api();
    let response = api.sign_in("alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let pending_cookie = session_cookie(&response).expect("a pending session");
    let max_age = pending_cookie.attributes.iter().find_map(|a| a.strip_prefix("max-age=")).expect("Max-Age");
    assert!(
        max_age.parse::<u64>().expect("seconds") <= 300,
        "a pending sign-in lasts 5 minutes, not {max_age}s"
    );

    let body = assert_json_error(api.get("/users/me").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["code"], "second_factor_required");
    assert_eq!(api.get("/users/me/sessions").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.get("/users/me/two-factor").await.status(), StatusCode::UNAUTHORIZED);
    let track = json!({"title": "Sneaked in", "artist": "Nobody"});
    assert_eq!(api.post_json("/tracks", &track).await.status(), StatusCode::UNAUTHORIZED);
    let change = json!({"current_password": PASSWORD, "new_password": "a completely different one"});
    assert_eq!(api.put_json("/users/me/password", &change).await.status(), StatusCode::UNAUTHORIZED);

    let response = second_factor(&api, &code(&secret, 1)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let signed_in = session_cookie(&response).expect("a new session id");
    assert_ne!(signed_in.value, pending_cookie.value, "the session gets a new id once complete");
    let me: Value = api.get("/users/me").await.json().await.expect("me");
    assert_eq!(me["username"], "alice");
    assert_eq!(app.me_with_cookie(Some(&pending_cookie.value)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_code_signs_in_once_and_no_older_code_works_after_it() {
    let app = TestApp::spawn().await;
    let (secret, _) = enrolled(&app, "alice").await;
    let first = pending(&app, "alice").await;
    assert_eq!(second_factor(&first, &code(&secret, 1)).await.status(), StatusCode::OK);

    let replay = pending(&app, "alice").await;
    for used in [code(&secret, 1), code(&secret, 0)] {
        let body = assert_json_error(second_factor(&replay, &used).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(body["code"], "invalid_code");
    }
    assert_eq!(replay.get("/users/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_same_code_sent_twice_at_once_signs_in_only_once() {
    let app = TestApp::spawn().await;
    let (secret, _) = enrolled(&app, "alice").await;
    let (a, b) = (pending(&app, "alice").await, pending(&app, "alice").await);
    let code = code(&secret, 1);
    let (first, second) = tokio::join!(second_factor(&a, &code), second_factor(&b, &code));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let app = TestApp::spawn().await;
    let (_, codes) = enrolled(&app, "alice").await;
    let api = pending(&app, "alice").await;
    // Typed loosely: upper case, the hyphen as a space.
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_eq!(second_factor(&api, &typed).await.status(), StatusCode::OK);
    assert_eq!(status(&api).await, (true, 9));

    let again = pending(&app, "alice").await;
    assert_eq!(second_factor(&again, &codes[3]).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(second_factor(&again, &codes[4]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_codes_are_throttled_and_a_right_password_does_not_reset_the_count() {
    let app = TestApp::spawn().await;
    let (secret, _) = enrolled(&app, "alice").await;
    let api = pending(&app, "alice").await;
    let limit = app.config().throttle.max_failures;
    for _ in 0..limit {
        assert_eq!(second_factor(&api, "000000").await.status(), StatusCode::UNAUTHORIZED);
    }
    let response = second_factor(&api, &code(&secret, 1)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "even the right code, once over the limit");
    assert!(response.headers().contains_key("retry-after"));

    let again = pending(&app, "alice").await;
    assert_eq!(second_factor(&again, &code(&secret, 1)).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code_then_the_password_alone_signs_in() {
    let app = TestApp::spawn().await;
    let (api, _) = app.signed_in("alice", false).await;
    let (secret, _) = enrol(&api).await;
    let wrong = json!({"password": PASSWORD, "code": "999999"});
    let body = assert_json_error(
        api.post_json("/users/me/two-factor/disable", &wrong).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["fields"]["code"].is_string(), "{body}");
    let no_password = json!({"password": "not the password at all", "code": code(&secret, 1)});
    assert_eq!(
        api.post_json("/users/me/two-factor/disable", &no_password).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(status(&api).await.0);

    let right = json!({"password": PASSWORD, "code": code(&secret, 1)});
    assert_eq!(api.post_json("/users/me/two-factor/disable", &right).await.status(), StatusCode::OK);
    assert_eq!(status(&api).await, (false, 0));
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn new_recovery_codes_need_a_code_and_retire_the_old_ones() {
    let app = TestApp::spawn().await;
    let (api, _) = app.signed_in("alice", false).await;
    let (secret, old) = enrol(&api).await;
    let response = api.post_json("/users/me/two-factor/recovery-codes", &json!({"code": "111111"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response =
        api.post_json("/users/me/two-factor/recovery-codes", &json!({"code": code(&secret, 1)})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let new: RecoveryCodes = response.json().await.expect("codes");
    assert_eq!(new.codes.len(), 10);
    assert!(new.codes.iter().all(|code| !old.contains(code)));
    api.post("/logout").await;

    let again = pending(&app, "alice").await;
    assert_eq!(second_factor(&again, &old[0]).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(second_factor(&again, &new.codes[0]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_javascript_the_password_leads_to_the_code_page_and_the_code_to_next() {
    let (app, _dist) = crate::pages::spawn_with_pages().await;
    let (secret, _) = enrolled(&app, "alice").await;
    let browser = app.browser();
    let response =
        browser.post_form("/login?next=/account", &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/sign-in/code?next=%2Faccount");
    let page = browser.get("/sign-in/code?next=%2Faccount").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("HTML");
    assert!(html.contains(r#"name="code""#), "the code form: {html}");

    let wrong = browser.post_form("/login/second-factor?next=/account", &[("code", "000000")]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.expect("HTML").contains("That code is not right"));
    let right =
        browser.post_form("/login/second-factor?next=/account", &[("code", code(&secret, 1).as_str())]).await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(right.headers()["location"], "/account");
}

#[tokio::test]
async fn without_javascript_the_account_page_turns_two_step_sign_in_on_and_off() {
    let (app, _dist) = crate::pages::spawn_with_pages().await;
    app.create_user("alice", false).await;
    let browser = app.browser();
    let signed_in = browser.post_form("/login", &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);

    let offered = browser.post_form("/users/me/two-factor/setup", &[("", "")]).await;
    assert_eq!(offered.status(), StatusCode::SEE_OTHER);
    assert_eq!(offered.headers()["location"], "/account");
    let page = browser.get("/account").await.text().await.expect("HTML");
    assert!(page.contains("<svg"), "the QR code is on the page");
    let secret = page
        .split(r#"data-testid="totp-secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the key as text");
    let secret = Secret::Encoded(secret.to_owned()).to_bytes().expect("base32");

    let wrong = [("password", PASSWORD), ("code", "000000")];
    let refused = browser.post_form("/users/me/two-factor/enable", &wrong).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("HTML");
    assert!(
        page.contains("is not the app&#x27;s current code") || page.contains("is not the app's current code"),
        "{page}"
    );

    let current = code(&secret, 0);
    let right = [("password", PASSWORD), ("code", current.as_str())];
    let enabled = browser.post_form("/users/me/two-factor/enable", &right).await;
    assert_eq!(enabled.status(), StatusCode::OK);
    let page = enabled.text().await.expect("HTML");
    assert_eq!(page.matches("<li><code>").count(), 10, "the recovery codes, shown once: {page}");
    // Answered at the form's address, the page puts its own back before hydrating.
    assert!(page.contains(r#"history.replaceState(null, "", "/account");"#), "{page}");
    let again = browser.get("/account").await;
    assert_eq!(again.status(), StatusCode::OK, "{:?}", again.headers());
    let again = again.text().await.expect("HTML");
    assert!(!again.contains("<li><code>"), "recovery codes are shown only once");
    assert!(again.contains("10 recovery codes left"), "{again}");

    let next = code(&secret, 1);
    let off = [("password", PASSWORD), ("code", next.as_str())];
    let disabled = browser.post_form("/users/me/two-factor/disable", &off).await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    let page = browser.get("/account").await.text().await.expect("HTML");
    assert!(page.contains("Turn on two-step sign-in"));
}
