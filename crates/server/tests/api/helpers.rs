//! Spawning the application and talking to it.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tracklist::db::users::Account;
use tracklist::state::AppState;
use tracklist::{Application, Config, auth};

pub const PASSWORD: &str = "a long enough test password";

/// A running server with its own database.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    /// Held so the database outlives the test.
    _dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`spawn`](Self::spawn), with the configuration adjusted first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("tracklist.db").display());
        let mut config = Config::new(url, "127.0.0.1:0".parse().expect("address"));
        configure(&mut config);
        let app = Application::build(config).await.expect("the application builds");
        let address = format!("http://{}", app.local_addr().expect("bound"));
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        Self { address, state, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Adds an account straight to the database.
    pub async fn create_user(&self, name: &str, is_admin: bool) -> Account {
        auth::create_account(&self.state.db, &self.state.passwords, name, PASSWORD, is_admin)
            .await
            .expect("user created")
    }

    /// `POST /login` as an HTML form would send it.
    pub async fn login(&self, client: &Client, username: &str, password: &str) -> Response {
        client
            .post(self.url("/login"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("request sent")
    }

    /// A cookie-keeping client signed in as a new user `name`.
    pub async fn signed_in(&self, name: &str, is_admin: bool) -> (Client, Account) {
        let account = self.create_user(name, is_admin).await;
        let client = cookie_client();
        let response = self.login(&client, name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        (client, account)
    }

    /// `GET /users/me` with exactly this session cookie (or none), from a cookie-less client.
    pub async fn me_with_cookie(&self, session_id: Option<&str>) -> Response {
        let mut request = Client::new().get(self.url("/users/me"));
        if let Some(id) = session_id {
            request = request.header(COOKIE, format!("id={id}"));
        }
        request.send().await.expect("request sent")
    }

    /// Signs `name` in from a cookie-less client and returns the session id it was given.
    pub async fn session_id_for(&self, name: &str) -> String {
        let response = self.login(&Client::new(), name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).expect("a session cookie").value
    }
}

pub fn cookie_client() -> Client {
    Client::builder().cookie_store(true).build().expect("client")
}

/// The session cookie a response sets, with its attributes.
#[derive(Debug)]
pub struct SetCookie {
    pub value: String,
    /// Lower-cased attributes after the value, e.g. `httponly`, `path=/`.
    pub attributes: Vec<String>,
}

impl SetCookie {
    pub fn has(&self, attribute: &str) -> bool {
        self.attributes.iter().any(|a| a == attribute)
    }
}

pub fn session_cookie(response: &Response) -> Option<SetCookie> {
    session_cookie_named(response, "id")
}

pub fn session_cookie_named(response: &Response, name: &str) -> Option<SetCookie> {
    response.headers().get_all(SET_COOKIE).iter().find_map(|header| {
        let text = header.to_str().ok()?;
        let mut parts = text.split(';').map(str::trim);
        let (cookie_name, value) = parts.next()?.split_once('=')?;
        (cookie_name == name).then(|| SetCookie {
            value: value.to_owned(),
            attributes: parts.map(str::to_ascii_lowercase).collect(),
        })
    })
}

/// Asserts the status and that the body is `{"detail": detail, ...}`; returns the body.
pub async fn assert_error(response: Response, status: StatusCode, detail: &str) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(content_type.as_ref().and_then(|v| v.to_str().ok()), Some("application/json"));
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["detail"], detail, "body: {body}");
    body
}

/// Asserts the status and that the body is a JSON error of any message; returns the body.
pub async fn assert_json_error(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let body: Value = response.json().await.expect("a JSON body");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "body: {body}");
    body
}
