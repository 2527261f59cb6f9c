//! Property tests over the real HTTP stack: generated login bodies (form, JSON, raw bytes)
//! and session cookies never make the server answer 5xx or anything but a JSON error.

use std::sync::OnceLock;

use proptest::prelude::*;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, StatusCode};
use tokio::runtime::Runtime;

use crate::helpers::TestApp;

/// One server for all generated cases; throttling is opened wide so parsing stays exercised.
fn app() -> &'static (Runtime, TestApp) {
    static APP: OnceLock<(Runtime, TestApp)> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = Runtime::new().expect("runtime");
        let app = runtime.block_on(TestApp::spawn_with(|config| {
            config.throttle.max_failures = usize::MAX;
            config.throttle.max_failures_per_client = usize::MAX;
        }));
        (runtime, app)
    })
}

/// Sends the request and checks the answer is a client error with a JSON `detail`.
fn assert_client_error(request: reqwest::RequestBuilder) -> Result<(), TestCaseError> {
    let (runtime, _) = app();
    let (status, body) = runtime.block_on(async {
        let response = request.send().await.expect("sent");
        let status = response.status();
        (status, response.json::<serde_json::Value>().await)
    });
    prop_assert!(status.is_client_error(), "status {status}");
    let body = body.map_err(|err| TestCaseError::fail(format!("not JSON ({status}): {err}")))?;
    prop_assert!(body["detail"].is_string(), "{body}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_login_form_gets_a_json_client_error(username in any::<String>(), password in any::<String>()) {
        let (_, app) = app();
        let request = Client::new().post(app.url("/login")).form(&[("username", username), ("password", password)]);
        assert_client_error(request)?;
    }

    #[test]
    fn any_login_json_gets_a_json_client_error(username in any::<String>(), password in any::<String>()) {
        let (_, app) = app();
        let body = serde_json::json!({"username": username, "password": password});
        assert_client_error(Client::new().post(app.url("/login")).json(&body))?;
    }

    #[test]
    fn any_login_bytes_get_a_json_client_error(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        json in any::<bool>(),
    ) {
        let (_, app) = app();
        let content_type = if json { "application/json" } else { "application/x-www-form-urlencoded" };
        let request = Client::new().post(app.url("/login")).header(CONTENT_TYPE, content_type).body(body);
        assert_client_error(request)?;
    }

    #[test]
    fn any_session_cookie_is_unauthenticated(cookie in "[ -~]{0,300}") {
        let (runtime, app) = app();
        let value = cookie.replace(';', "");
        let status = runtime.block_on(async {
            app.api_with_session(&value).get("/users/me").await.status()
        });
        prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
