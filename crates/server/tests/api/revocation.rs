//! SECURITY.md 24: revocation is final, even for a request that was already in flight.
//!
//! A request in flight is held between its session check and its body: it asks
//! `Expect: 100-continue`, and the server sends `100 Continue` only once the handler starts
//! reading the body, i.e. after the current-user extractor has loaded the session and slid
//! its idle deadline. The session is then revoked; the held request finishes (and its
//! response would save the slid session); the session must stay dead and out of the list.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use shared::SessionInfo;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tower_sessions::session::Id;
use tower_sessions::session_store::SessionStore;

use tracklist::config::SessionStoreChoice;

use crate::cli::tracklist;
use crate::helpers::{PASSWORD, TestApp, futures_join_all, session_cookie};

/// Sessions slide once less than half of this is left: [`IDLE_HALF`] after sign-in.
const IDLE: Duration = Duration::from_secs(4);
const IDLE_HALF: Duration = Duration::from_millis(2_100);

async fn app() -> TestApp {
    TestApp::spawn_with(|config| config.session.idle_timeout = IDLE).await
}

/// `POST /tracks` held after its headers, with the session already checked and slid.
struct InFlight {
    reader: BufReader<TcpStream>,
    body: &'static str,
}

impl InFlight {
    async fn start(app: &TestApp, session_id: &str) -> Self {
        let body = r#"{"title":"In flight","artist":"Held"}"#;
        let address = app.address.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).await.expect("connected");
        let head = format!(
            "POST /tracks HTTP/1.1\r\nHost: {address}\r\nCookie: id={session_id}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("headers sent");
        let mut reader = BufReader::new(stream);
        let status = read_status(&mut reader).await;
        assert_eq!(status, 100, "the handler must be waiting for the body (signed in, 100 Continue)");
        let mut blank = String::new();
        reader.read_line(&mut blank).await.expect("end of the interim response");
        Self { reader, body }
    }

    /// Sends the body and returns the final status.
    async fn finish(mut self) -> u16 {
        self.reader.get_mut().write_all(self.body.as_bytes()).await.expect("body sent");
        read_status(&mut self.reader).await
    }
}

async fn read_status(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line))
        .await
        .expect("an answer within 10 s")
        .expect("a status line");
    line.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{line:?}"))
}

/// Signs `name` in twice: the session to hold in flight, and a second one to act from.
async fn two_sessions(app: &TestApp, name: &str) -> (String, String) {
    app.create_user(name, false).await;
    (app.session_id_for(name).await, app.session_id_for(name).await)
}

/// `DELETE path` as the session `id`, which must succeed.
async fn delete_as(app: &TestApp, id: &str, path: &str) {
    let response = app.api_with_session(id).delete(path).await;
    assert_eq!(response.status(), StatusCode::OK, "DELETE {path}");
}

async fn references(app: &TestApp, id: &str) -> Vec<SessionInfo> {
    let response = app.api_with_session(id).get("/users/me/sessions").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("sessions")
}

/// The held session is dead: 401, and its record is gone from the store for good.
async fn assert_dead(app: &TestApp, session_id: &str) {
    assert_eq!(app.me_with_cookie(Some(session_id)).await.status(), StatusCode::UNAUTHORIZED);
    let id: Id = session_id.parse().expect("a session id");
    let record = app.state.sessions.store().load(&id).await.expect("the store answers");
    assert!(record.is_none(), "the revoked session's record was written back");
}

/// Holds a request on `held` until `revoke` has run, finishes it, and checks the outcome.
async fn revoke_while_in_flight<F: std::future::Future<Output = ()>>(
    app: &TestApp,
    held: &str,
    revoke: impl FnOnce() -> F,
) {
    tokio::time::sleep(IDLE_HALF).await;
    let in_flight = InFlight::start(app, held).await;
    revoke().await;
    assert_eq!(in_flight.finish().await, 201, "the held request was signed in when it started");
    assert_dead(app, held).await;
}

#[tokio::test]
async fn a_request_in_flight_cannot_revive_a_session_that_logged_out() {
    let app = app().await;
    let (held, _) = two_sessions(&app, "ann").await;

    revoke_while_in_flight(&app, &held, || async {
        let logout = app.api_with_session(&held).post("/logout").await;
        assert_eq!(logout.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_request_in_flight_cannot_revive_a_session_revoked_from_another() {
    let app = app().await;
    let (held, other) = two_sessions(&app, "ann").await;

    revoke_while_in_flight(&app, &held, || async {
        let target = references(&app, &other).await.into_iter().find(|s| !s.current).expect("the held one");
        delete_as(&app, &other, &format!("/users/me/sessions/{}", target.id)).await;
    })
    .await;
    assert_eq!(references(&app, &other).await.len(), 1, "the held session is listed again");
}

#[tokio::test]
async fn a_request_in_flight_cannot_survive_signing_out_everywhere_else() {
    let app = app().await;
    let (held, other) = two_sessions(&app, "ann").await;

    revoke_while_in_flight(&app, &held, || async {
        delete_as(&app, &other, "/users/me/sessions").await;
    })
    .await;
    assert_eq!(references(&app, &other).await.len(), 1, "the held session is listed again");
}

#[tokio::test]
async fn a_request_in_flight_cannot_survive_a_password_change() {
    let app = app().await;
    let (held, other) = two_sessions(&app, "ann").await;
    let mut rotated = String::new();

    revoke_while_in_flight(&app, &held, || async {
        let change = app.api_with_session(&other).put_json("/users/me/password", &serde_json::json!({"current_password": PASSWORD, "new_password": "another long test password"})).await;
        assert_eq!(change.status(), StatusCode::OK);
        rotated = session_cookie(&change).expect("the rotated id").value;
    })
    .await;
    assert_eq!(references(&app, &rotated).await.len(), 1, "the held session is listed again");
}

#[tokio::test]
async fn a_request_in_flight_cannot_survive_user_passwd_or_user_disable() {
    let app = app().await;
    for (name, action) in [("ann", "passwd"), ("bob", "disable")] {
        let (held, _) = two_sessions(&app, name).await;

        revoke_while_in_flight(&app, &held, || async {
            let args = ["user", action, name, "--password-stdin"];
            let args = if action == "passwd" { &args[..] } else { &args[..3] };
            let output = tracklist(&app, args, "a brand new long password\n").await;
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let said = String::from_utf8_lossy(&output.stdout);
            assert!(said.contains("2 session(s) signed out"), "{said}");
        })
        .await;
    }
    // Letting bob in again does not bring back what disabling him ended.
    assert!(tracklist(&app, &["user", "enable", "bob"], "").await.status.success());
    let fresh = app.session_id_for("bob").await;
    let listed = references(&app, &fresh).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
}

/// A sign-in that read the account before a password change and verified the old password
/// after it must not leave a working session, whatever the interleaving.
#[tokio::test]
async fn a_sign_in_racing_a_password_change_never_yields_a_working_session() {
    // One hashing thread makes the sign-ins queue, so the change lands among them.
    let app = TestApp::spawn_with(|config| {
        config.hashing.concurrency = 1;
        config.throttle.max_failures = 1_000;
        config.throttle.max_failures_per_client = 1_000;
    })
    .await;
    app.create_user("ann", false).await;
    let address = app.address.clone();
    let sign_ins = futures_join_all((0..60).map(|_| {
        let url = format!("{address}/login");
        async move {
            let response = Client::new()
                .post(url)
                .form(&[("username", "ann"), ("password", PASSWORD)])
                .send()
                .await
                .expect("sent");
            (Instant::now(), response.status(), session_cookie(&response).map(|cookie| cookie.value))
        }
    }));
    let change = async {
        // Let a few sign-ins through first, then change the password from the shell.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let output =
            tracklist(&app, &["user", "passwd", "ann", "--password-stdin"], "a brand new long password\n")
                .await;
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        Instant::now()
    };
    let (results, changed_at) = tokio::join!(sign_ins, change);

    let mut late_successes = 0;
    for (finished_at, status, cookie) in results {
        if status != StatusCode::OK {
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            continue;
        }
        late_successes += usize::from(finished_at > changed_at);
        let id = cookie.expect("a signed-in response sets the cookie");
        assert_eq!(app.me_with_cookie(Some(&id)).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(
        late_successes > 0,
        "no sign-in verified the old password after the change: the race was not tried"
    );
}

/// The suite runs on SQLite with database sessions and on PostgreSQL with Redis; this covers
/// the stores those passes do not: PostgreSQL's own session table, and the in-memory store.
#[tokio::test]
async fn a_request_in_flight_cannot_revive_a_revoked_session_on_any_store() {
    for store in [SessionStoreChoice::Database, SessionStoreChoice::Memory] {
        let app = TestApp::spawn_with(|config| {
            config.session.idle_timeout = IDLE;
            config.database.session_store = store.clone();
        })
        .await;
        let (held, other) = two_sessions(&app, "ann").await;

        revoke_while_in_flight(&app, &held, || async {
            delete_as(&app, &other, "/users/me/sessions").await;
        })
        .await;
        assert_eq!(
            references(&app, &other).await.len(),
            1,
            "store {store:?}: the held session is listed again"
        );
    }
}
