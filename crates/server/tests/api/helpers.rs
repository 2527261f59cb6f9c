//! Spawning the application and talking to it.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use reqwest::header::SET_COOKIE;
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;
use tracklist::config::SessionStoreChoice;
use tracklist::db::Db;
use tracklist::db::users::Account;
use tracklist::state::AppState;
use tracklist::{Application, Config, auth};

pub const PASSWORD: &str = "a long enough test password";

/// A running server with its own database (and session store).
pub struct TestApp {
    pub address: String,
    /// `http://…` of the metrics listener, when configured.
    pub metrics_address: Option<String>,
    pub state: AppState,
    config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    /// Where the test's data lives, shared with restarts and second instances.
    scratch: Arc<Scratch>,
}

/// The backends the suite runs against: SQLite with database sessions, unless
/// `TRACKLIST_TEST_POSTGRES` (an admin URL) and/or `TRACKLIST_TEST_REDIS` are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    SqliteRedis,
    Postgres,
    PostgresRedis,
}

impl Backend {
    pub fn current() -> Self {
        let set = |name| std::env::var(name).is_ok();
        match (set("TRACKLIST_TEST_POSTGRES"), set("TRACKLIST_TEST_REDIS")) {
            (false, false) => Self::Sqlite,
            (false, true) => Self::SqliteRedis,
            (true, false) => Self::Postgres,
            (true, true) => Self::PostgresRedis,
        }
    }

    /// Whether several instances can share this backend's state.
    pub fn is_shared(self) -> bool {
        self == Self::PostgresRedis
    }
}

/// A random name for a fresh database or key prefix.
fn unique_name() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    format!("t_{:016x}", OsRng.next_u64())
}

/// One test's data: a temporary folder, and on PostgreSQL a database of its own that is
/// dropped with it. Without the drop, every test of the PostgreSQL pass would leave a
/// database of about 12 MB behind until the cluster stops.
pub struct Scratch {
    /// Holds a SQLite database until the test is done.
    _dir: TempDir,
    database_url: String,
    /// The admin URL and name of the PostgreSQL database to drop.
    postgres: Option<(String, String)>,
}

impl Scratch {
    /// A fresh, empty database for one test.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let Ok(admin_url) = std::env::var("TRACKLIST_TEST_POSTGRES") else {
            let database_url = format!("sqlite://{}", dir.path().join("tracklist.db").display());
            return Self { _dir: dir, database_url, postgres: None };
        };
        let name = unique_name();
        let admin = sqlx::PgPool::connect(&admin_url).await.expect("PostgreSQL admin connection");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("database created");
        admin.close().await;
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
        let database_url = format!("{base}/{name}");
        Self { _dir: dir, database_url, postgres: Some((admin_url, name)) }
    }

    /// A configuration on this database (and a session store of the suite's backend).
    pub fn config(&self) -> Config {
        let mut config = Config::new(&self.database_url, "127.0.0.1:0".parse().expect("address"))
            .expect("the defaults parse");
        if let Ok(redis) = std::env::var("TRACKLIST_TEST_REDIS") {
            config.database.session_store = SessionStoreChoice::Redis(redis);
            // Tests run in parallel against one Redis: keep their throttling counters apart.
            config.database.redis_key_prefix = unique_name();
        }
        config
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        // On a thread and runtime of its own: the test's runtime may be shutting down, and a
        // drop cannot await. FORCE ends the connections of a server that is still running.
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let dropped = std::thread::spawn(move || -> Result<(), sqlx::Error> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&admin_url).await?;
                sqlx::query(&statement).execute(&admin).await?;
                admin.close().await;
                Ok(())
            })
        })
        .join();
        // Never a panic here: it may run while a failed test unwinds.
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("the test database {name} was not dropped: {dropped:?}");
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`spawn`](Self::spawn), with the configuration adjusted first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let scratch = Scratch::new().await;
        let mut config = scratch.config();
        configure(&mut config);
        Self::spawn_on(config, Arc::new(scratch)).await
    }

    /// Starts a server on exactly this configuration (a restart, or a second instance).
    pub async fn spawn_on(config: Config, scratch: Arc<Scratch>) -> Self {
        captured_logs();
        let app = servers()
            .spawn(Application::build(config.clone()))
            .await
            .expect("the build task")
            .expect("the application builds");
        let address = format!("http://{}", app.local_addr().expect("bound"));
        let metrics_address = app.metrics_addr().map(|addr| format!("http://{addr}"));
        let state = app.state().clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = servers().spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Self {
            address,
            metrics_address,
            state,
            config,
            shutdown: Some(shutdown),
            server: Some(server),
            scratch,
        }
    }

    /// Another instance sharing this one's database and session store.
    pub async fn second_instance(&self) -> Self {
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".parse().expect("address");
        Self::spawn_on(config, self.scratch.clone()).await
    }

    /// Stops gracefully (requests in flight finish) and hands back what a restart needs.
    pub async fn stop(mut self) -> (Config, Arc<Scratch>) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server task").expect("the server stopped cleanly");
        }
        (self.config.clone(), self.scratch.clone())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A client of this app with no session yet (it keeps the cookies it is given).
    pub fn api(&self) -> Api {
        let http = Client::builder().cookie_store(true).build().expect("client");
        Api { base: self.address.clone(), http }
    }

    /// A browser without JavaScript: every request is its own navigation (`Sec-Fetch-Mode:
    /// navigate`, `Sec-Fetch-Site: same-origin`, `Origin`, `Accept: text/html…`), cookies kept,
    /// and redirects not followed, so tests see them.
    pub fn browser(&self) -> Api {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in [
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-site", "same-origin"),
            ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
        ] {
            headers.insert(name, reqwest::header::HeaderValue::from_static(value));
        }
        headers.insert("origin", self.address.parse().expect("the app's origin"));
        let http = Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Api { base: self.address.clone(), http }
    }

    /// A client carrying exactly this session cookie, as a copied cookie would be replayed.
    pub fn api_with_session(&self, session_id: &str) -> Api {
        let jar = reqwest::cookie::Jar::default();
        let url = self.address.parse().expect("the app's URL");
        jar.add_cookie_str(&format!("id={session_id}"), &url);
        let http = Client::builder().cookie_provider(Arc::new(jar)).build().expect("client");
        Api { base: self.address.clone(), http }
    }

    /// `GET path` without a session, decoded from JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.api().get(path).await.json().await.expect("a JSON body")
    }

    /// Adds an account straight to the database.
    pub async fn create_user(&self, name: &str, is_admin: bool) -> Account {
        auth::create_account(&self.state.db, &self.state.passwords, name, PASSWORD, is_admin)
            .await
            .expect("user created")
    }

    /// A client signed in as a new user `name`.
    pub async fn signed_in(&self, name: &str, is_admin: bool) -> (Api, Account) {
        let account = self.create_user(name, is_admin).await;
        let api = self.api();
        assert_eq!(api.sign_in(name, PASSWORD).await.status(), StatusCode::OK);
        (api, account)
    }

    /// `GET /users/me` with exactly this session cookie (or none).
    pub async fn me_with_cookie(&self, session_id: Option<&str>) -> Response {
        match session_id {
            Some(id) => self.api_with_session(id).get("/users/me").await,
            None => self.api().get("/users/me").await,
        }
    }

    /// Signs `name` in from a cookie-less client and returns the session id it was given.
    pub async fn session_id_for(&self, name: &str) -> String {
        let response = self.api().sign_in(name, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        session_cookie(&response).expect("a session cookie").value
    }
}

/// A client of one app that keeps its cookies, the session among them: what tests drive the
/// API with. Paths are the app's (`/tracks`); every call panics if the request cannot be sent.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: Client,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to finish by hand (extra headers), sent with [`Api::send`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    pub async fn send(request: RequestBuilder) -> Response {
        request.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str) -> Response {
        Self::send(self.request(Method::GET, path)).await
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str) -> Response {
        Self::send(self.request(Method::POST, path)).await
    }

    pub async fn post_json(&self, path: &str, body: &impl Serialize) -> Response {
        Self::send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST path` urlencoded, as an HTML form sends it.
    pub async fn post_form(&self, path: &str, form: &impl Serialize) -> Response {
        Self::send(self.request(Method::POST, path).form(form)).await
    }

    pub async fn put_json(&self, path: &str, body: &impl Serialize) -> Response {
        Self::send(self.request(Method::PUT, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &impl Serialize) -> Response {
        Self::send(self.request(Method::PATCH, path).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        Self::send(self.request(Method::DELETE, path)).await
    }

    /// `POST /login` as a form; the session cookie, if any, is kept.
    pub async fn sign_in(&self, username: &str, password: &str) -> Response {
        self.post_form("/login", &[("username", username), ("password", password)]).await
    }
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

/// Runs SQL straight on the database, past the application.
pub async fn execute(app: &TestApp, sql: &str) {
    match &app.state.db {
        Db::Sqlite { pool, .. } => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        Db::Postgres { pool, .. } => sqlx::raw_sql(sql).execute(pool).await.map(drop),
    }
    .expect("the SQL ran");
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

/// Runs the futures concurrently on the test's runtime.
pub async fn futures_join_all<F: std::future::Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("task"));
    }
    results
}

/// The one runtime every test server runs on (and is built on, with its background tasks),
/// as a real server has one, rather than the runtime of whichever test started it.
fn servers() -> &'static tokio::runtime::Runtime {
    static SERVERS: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    SERVERS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-servers")
            .enable_all()
            .build()
            .expect("the test servers' runtime")
    })
}

/// The id the server gave the request that got `response` (`x-request-id`).
pub fn request_id(response: &Response) -> String {
    response.headers()["x-request-id"].to_str().expect("an ASCII id").to_owned()
}

/// The line of the captured log that holds `event` from the request whose id is
/// `request_id`. Every line logged while a request is served carries its id, and the log is
/// the whole process's, every test's servers together: an event found by user id alone (user
/// 1 in every test's database) or by its name alone could be another test's.
pub fn logged<'a>(log: &'a str, request_id: &str, event: &str) -> Option<&'a str> {
    let (request, event) = (format!("request_id=\"{request_id}\""), format!("event=\"{event}\""));
    log.lines().find(|line| line.contains(&request) && line.contains(&event))
}

/// Everything the servers of this test process log at INFO and above, from the first server
/// on (the audit tests read it). Their errors, and the warnings of page renders (one that
/// took over a second), also go to standard error as
/// they happen, so that the log of a failed run says what the server saw; the many expected
/// warnings (refused sign-ins, say) do not.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let captured = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .with_filter(LevelFilter::INFO);
        let shown =
            tracing_subscriber::fmt::layer().with_ansi(false).with_writer(std::io::stderr).with_filter(
                Targets::new()
                    .with_target("tracklist", tracing::Level::ERROR)
                    .with_target("tracklist::pages", tracing::Level::WARN),
            );
        tracing_subscriber::registry().with(captured).with(shown).init();
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
