//! SECURITY.md 23: sign-in events are logged with user and client address, and no password
//! or session id ever reaches the log.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use reqwest::header::COOKIE;
use reqwest::{Client, StatusCode};

use crate::helpers::{PASSWORD, TestApp, session_cookie};

/// Everything the process logs at INFO and above, from the first call on.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn item_23_sign_in_events_are_logged_without_secrets() {
    let logs = captured_logs();
    let app = TestApp::spawn().await;
    let account = app.create_user("audited", false).await;
    let wrong_password = "audited wrong password 9431";

    assert_eq!(app.login(&Client::new(), "audited", wrong_password).await.status(), StatusCode::UNAUTHORIZED);
    let login = app.login(&Client::new(), "audited", PASSWORD).await;
    let session_id = session_cookie(&login).expect("a cookie").value;
    let logout = Client::new()
        .post(app.url("/logout"))
        .header(COOKIE, format!("id={session_id}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(logout.status(), StatusCode::OK);

    let text = String::from_utf8_lossy(&logs.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    let line = |event: &str| {
        text.lines().find(|line| line.contains(event) && line.contains("audited")).map(str::to_owned)
    };
    let failed = line("event=\"login_failed\"").expect("a login_failed event");
    assert!(failed.contains("client=127.0.0.1:"), "{failed}");
    let succeeded = line("event=\"login_succeeded\"").expect("a login_succeeded event");
    assert!(succeeded.contains(&format!("user_id={}", account.id)), "{succeeded}");
    let user_id = format!("user_id={}", account.id);
    assert!(text.lines().any(|l| l.contains("event=\"logout\"") && l.contains(&user_id)), "no logout event");
    assert!(!text.contains(wrong_password) && !text.contains(PASSWORD), "a password reached the log");
    assert!(!text.contains(&session_id), "a session id reached the log");
}
