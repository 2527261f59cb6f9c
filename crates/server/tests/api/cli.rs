//! `tracklist user …` against the same database the server uses.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;

use tower_sessions::session::Id;
use tower_sessions::session_store::SessionStore;

use crate::helpers::{TestApp, session_cookie};

/// Runs `tracklist` on the app's database and session store, off the test's runtime thread so
/// the server keeps answering meanwhile.
pub async fn tracklist(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let database = app.config().database.clone();
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tracklist"));
        command.env("TRACKLIST_DATABASE_URL", &database.database_url);
        command.env("TRACKLIST_REDIS_KEY_PREFIX", &database.redis_key_prefix);
        command.env("TRACKLIST_SESSION_STORE", database.session_store.to_string());
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracklist runs");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("password written");
        child.wait_with_output().expect("tracklist finishes")
    })
    .await
    .expect("the command's thread")
}

#[tokio::test]
async fn user_add_passwd_and_list_work_on_the_servers_database() {
    let app = TestApp::spawn().await;

    let added =
        tracklist(&app, &["user", "add", "Dave", "--password-stdin", "--admin"], "first password of dave\n")
            .await;
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let login = app.api().sign_in("dave", "first password of dave").await;
    assert_eq!(login.status(), StatusCode::OK);
    let session = session_cookie(&login).expect("a session").value;

    let changed =
        tracklist(&app, &["user", "passwd", "dave", "--password-stdin"], "second password of dave\n").await;
    assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
    assert!(String::from_utf8_lossy(&changed.stdout).contains("1 session(s) signed out"));
    assert_revoked(&app, &session).await;
    assert_eq!(app.api().sign_in("dave", "first password of dave").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.api().sign_in("dave", "second password of dave").await.status(), StatusCode::OK);

    let listed = tracklist(&app, &["user", "list"], "").await;
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.lines().any(|line| line.contains("dave") && line.contains("admin")), "{listing}");
}

#[tokio::test]
async fn user_add_refuses_a_weak_password_and_a_taken_name() {
    let app = TestApp::spawn().await;
    app.create_user("erin", false).await;

    let weak = tracklist(&app, &["user", "add", "frank", "--password-stdin"], "short\n").await;
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 15"));

    let taken =
        tracklist(&app, &["user", "add", "ERIN", "--password-stdin"], "a long enough password\n").await;
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("taken"));
}

#[tokio::test]
async fn item_10_user_disable_signs_the_user_out_everywhere_and_blocks_sign_in() {
    let app = TestApp::spawn().await;
    app.create_user("erin", false).await;
    let session = app.session_id_for("erin").await;

    let disabled = tracklist(&app, &["user", "disable", "erin"], "").await;

    assert!(disabled.status.success(), "{}", String::from_utf8_lossy(&disabled.stderr));
    assert!(String::from_utf8_lossy(&disabled.stdout).contains("1 session(s) signed out"));
    assert_eq!(app.me_with_cookie(Some(&session)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.api().sign_in("erin", crate::helpers::PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    let enabled = tracklist(&app, &["user", "enable", "erin"], "").await;
    assert!(enabled.status.success());
    assert_eq!(app.api().sign_in("erin", crate::helpers::PASSWORD).await.status(), StatusCode::OK);
    // Enabling the account again brings back none of the sessions disabling it ended.
    assert_revoked(&app, &session).await;
}

/// The session is not merely refused: its record is gone from the store, and it is 401.
async fn assert_revoked(app: &TestApp, session_id: &str) {
    let id: Id = session_id.parse().expect("a session id");
    let record = app.state.sessions.store().load(&id).await.expect("the store answers");
    assert!(record.is_none(), "the command left the session's record in the store");
    assert_eq!(app.me_with_cookie(Some(session_id)).await.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn serve_refuses_an_in_memory_database() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracklist"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", "sqlite::memory:"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracklist runs");
    // A server that accepted the URL would run until stopped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("waitable").is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().expect("killed");
            panic!("the server started on an in-memory database");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let output = child.wait_with_output().expect("finished");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in-memory database; name a file"), "{stderr}");
}
