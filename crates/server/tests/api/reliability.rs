//! Probes, restarts and concurrency, on whichever backends the suite runs against.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use tracklist::db::tracks::Catalogue;
use tracklist::db::{Db, Readers};

use crate::helpers::{Backend, TestApp, futures_join_all};
use crate::services::skip;

#[tokio::test]
async fn healthz_is_ok_and_readyz_checks_the_backends() {
    let app = TestApp::spawn().await;

    let health = app.api().get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.expect("JSON"), json!({"status": "ok"}));
    let ready = app.api().get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.expect("JSON"), json!({"status": "ready"}));
}

#[tokio::test]
async fn sessions_users_and_tracks_survive_a_restart() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let session = app.session_id_for("alice").await;
    let created = app
        .api_with_session(&session)
        .post_json("/tracks", &json!({"title": "Song 2", "artist": "Blur"}))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let track: Value = created.json().await.expect("JSON");

    let (config, dir) = app.stop().await;
    let restarted = TestApp::spawn_on(config, dir).await;

    assert_eq!(restarted.me_with_cookie(Some(&session)).await.status(), StatusCode::OK);
    let fetched = restarted.api_with_session(&session).get(&format!("/tracks/{}", track["id"])).await;
    assert_eq!(fetched.json::<Value>().await.expect("JSON"), track);
}

#[tokio::test]
async fn concurrent_writes_from_one_session_lose_nothing() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;

    let writes = (0..24).map(|n| {
        let client = client.clone();
        async move {
            client
                .post_json("/tracks", &json!({"title": format!("Take {n}"), "artist": "Band"}))
                .await
                .status()
        }
    });
    let statuses = futures_join_all(writes).await;

    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let tracks: Vec<Value> = app.api().get("/tracks?limit=100").await.json().await.expect("JSON");
    assert_eq!(tracks.len(), 24);
    assert_eq!(client.get("/users/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_and_loses_no_acknowledged_write() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let scratch = crate::helpers::Scratch::new().await;
    let config = scratch.config();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tracklist"))
        .args(["serve", "--bind", "127.0.0.1:0", "--demo"])
        .env("TRACKLIST_DATABASE_URL", &config.database.database_url)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tracklist serve runs");
    let stdout = server.stdout.take().expect("stdout");
    let address = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.split("listening on ").nth(1).map(|rest| rest.trim().to_owned()))
            .expect("the server says where it listens")
    })
    .await
    .expect("read");
    let client = Client::builder().cookie_store(true).build().expect("client");
    let login = client
        .post(format!("{address}/login"))
        .form(&[("username", "john"), ("password", tracklist::demo::PASSWORD)])
        .send()
        .await
        .expect("sent");
    assert_eq!(login.status(), StatusCode::OK);

    let writes: Vec<_> = (0..40)
        .map(|n| {
            let request = client
                .post(format!("{address}/tracks"))
                .json(&json!({"title": format!("Drain {n}"), "artist": "Band"}));
            tokio::spawn(async move {
                let response = request.send().await.ok()?;
                (response.status() == StatusCode::CREATED).then_some(())?;
                response.json::<Value>().await.ok()
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let mut acknowledged = Vec::new();
    for write in writes {
        if let Some(track) = write.await.expect("task") {
            acknowledged.push(track);
        }
    }
    assert!(!acknowledged.is_empty(), "some writes were in flight when SIGTERM came");
    let exit = tokio::task::spawn_blocking(move || server.wait()).await.expect("wait").expect("exit status");
    assert!(exit.success(), "the server exits cleanly on SIGTERM: {exit:?}");

    // Every write the server acknowledged is in the database.
    let restarted = TestApp::spawn_on(config, std::sync::Arc::new(scratch)).await;
    for track in &acknowledged {
        let stored: Value = restarted.get_json(&format!("/tracks/{}", track["id"])).await;
        assert_eq!(&stored, track);
    }
}

#[tokio::test]
async fn a_flood_of_sign_ins_is_shed_with_503_and_retry_after_not_queued() {
    let app = TestApp::spawn_with(|config| {
        config.hashing.concurrency = 1;
        config.hashing.queue = 1;
        config.throttle.max_failures = usize::MAX;
        config.throttle.max_failures_per_client = usize::MAX;
    })
    .await;
    app.create_user("alice", false).await;

    let logins = (0..16).map(|_| {
        let request = Client::new()
            .post(app.url("/login"))
            .form(&[("username", "alice"), ("password", crate::helpers::PASSWORD)]);
        async move {
            let response = request.send().await.expect("sent");
            let retry_after = response.headers().get("retry-after").cloned();
            (response.status(), retry_after, response.json::<Value>().await.expect("JSON"))
        }
    });
    let answers = futures_join_all(logins).await;

    let shed: Vec<_> =
        answers.iter().filter(|(status, ..)| *status == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!shed.is_empty(), "16 simultaneous sign-ins with 1 running and 1 queued must shed some");
    assert!(shed.iter().all(|(_, retry, body)| retry.is_some() && body["code"] == "busy"), "{shed:?}");
    assert!(answers.iter().any(|(status, ..)| *status == StatusCode::OK), "the ones let in succeed");
    // Other requests are unaffected.
    assert_eq!(app.api().get("/tracks").await.status(), StatusCode::OK);
}

/// Sixteen reads at once, each made by `hold`: more than any set of connections holds, so
/// every connection of the set `hold` reads on is taken.
fn occupy<F>(hold: impl Fn() -> F) -> Vec<tokio::task::JoinHandle<()>>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    (0..16).map(|_| tokio::spawn(hold())).collect()
}

/// A read of one of `readers`' connections that takes `for_how_long`.
async fn sleep_on_a_reader(readers: Readers, for_how_long: Duration) {
    let sleep = move |_: &rusqlite::Connection| {
        std::thread::sleep(for_how_long);
        Ok::<_, rusqlite::Error>(())
    };
    // The reads beyond the connections wait, then give up: that is the point.
    let _ = readers.slow(sleep).await;
}

/// PostgreSQL's own sleep, for `$1` seconds.
const PG_SLEEP: &str = "SELECT pg_sleep($1)";

/// Holds every ordinary database connection with reads that take `for_how_long`.
fn occupy_the_catalogue_connections(
    app: &TestApp,
    for_how_long: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let db = app.state.db.clone();
    occupy(move || {
        let db = db.clone();
        async move {
            match db {
                Db::Sqlite { readers, .. } => sleep_on_a_reader(readers, for_how_long).await,
                Db::Postgres { pool, .. } => {
                    let _ = sqlx::query(PG_SLEEP).bind(for_how_long.as_secs_f64()).execute(&pool).await;
                }
            }
        }
    })
}

#[tokio::test]
async fn signed_in_requests_do_not_wait_behind_slow_catalogue_reads() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let slow_reads = occupy_the_catalogue_connections(&app, Duration::from_secs(2));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    let me = client.get("/users/me").await;

    assert_eq!(me.status(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500), "{:?}", started.elapsed());
    for read in slow_reads {
        read.await.expect("the slow read");
    }
}

/// Holds every connection the catalogue's long searches run on with reads that take
/// `for_how_long`, as searches for one rare term after another would.
fn occupy_the_search_connections(app: &TestApp, for_how_long: Duration) -> Vec<tokio::task::JoinHandle<()>> {
    let catalogue = app.state.catalogue.reads().clone();
    occupy(move || {
        let catalogue = catalogue.clone();
        async move {
            match catalogue {
                Catalogue::Sqlite { searches, .. } => sleep_on_a_reader(searches.long, for_how_long).await,
                Catalogue::Postgres { searches, .. } => {
                    let sleep = sqlx::query(PG_SLEEP).bind(for_how_long.as_secs_f64());
                    let _ = searches.read(async |conn| sleep.execute(conn).await).await;
                }
            }
        }
    })
}

/// A search for a term few tracks hold runs for seconds at a million tracks; a few at once
/// must not hold the connections the catalogue's other reads need.
#[tokio::test]
async fn the_catalogue_is_read_while_long_searches_hold_every_search_connection() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in("alice", false).await;
    let added = client.post_json("/tracks", &json!({"title": "Tender", "artist": "Blur"})).await;
    let track: Value = added.json().await.expect("the track");
    let long_searches = occupy_the_search_connections(&app, Duration::from_secs(2));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let started = std::time::Instant::now();
    let listed = app.api().get("/tracks").await;
    let fetched = app.api().get(&format!("/tracks/{}", track["id"])).await;
    // On SQLite a search starts on the request's thread and this one ends there, within its
    // budget; on PostgreSQL every search is on the search connections, and waits.
    let searched = match app.state.catalogue.reads() {
        Catalogue::Sqlite { .. } => Some(app.api().get("/tracks?q=tender").await),
        Catalogue::Postgres { .. } => None,
    };

    assert!(started.elapsed() < std::time::Duration::from_millis(1_500), "{:?}", started.elapsed());
    assert_eq!(listed.json::<Value>().await.expect("a page"), json!([track.clone()]));
    assert_eq!(fetched.json::<Value>().await.expect("the track"), track);
    if let Some(searched) = searched {
        assert_eq!(searched.json::<Value>().await.expect("a page"), json!([track]));
    }
    for search in long_searches {
        search.await.expect("the long search");
    }
}

/// Ends every connection the server holds to its PostgreSQL database, as a restart of
/// PostgreSQL, an administrator or a proxy's idle timeout would.
async fn end_the_servers_postgres_connections(app: &TestApp) {
    let database = sqlx::PgPool::connect(&app.config().database.database_url).await.expect("connected");
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ended",
    )
    .fetch_one(&database)
    .await
    .expect("terminated");
    database.close().await;
    assert!(ended > 0, "the server had connections to end");
}

/// Neither the hot reads' connections (`db::pg_readers`) nor sqlx's pool check a connection
/// before every use any more. When PostgreSQL ends them, requests must come back by
/// themselves: a connection idle for a while is checked before it is used, and one that
/// failed is replaced, its failure answered 503 (try again), never 500, and no write lost or
/// made twice.
#[tokio::test]
async fn requests_recover_by_themselves_when_postgresql_ends_the_servers_connections() {
    if !matches!(Backend::current(), Backend::Postgres | Backend::PostgresRedis) {
        return skip(
            "requests_recover_by_themselves_when_postgresql_ends_the_servers_connections",
            "needs TRACKLIST_TEST_POSTGRES (scripts/test.sh sets it)",
        );
    }
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let session = app.session_id_for("alice").await;
    let api = app.api_with_session(&session);
    let created = api.post_json("/tracks", &json!({"title": "Beat It", "artist": "Michael Jackson"})).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("JSON")["id"].clone();
    let track = format!("/tracks/{id}");
    let reads = ["/tracks?limit=5", "/tracks?q=beat", track.as_str(), "/users/me"];
    for path in reads {
        assert_eq!(api.get(path).await.status(), StatusCode::OK, "{path}");
    }

    end_the_servers_postgres_connections(&app).await;
    // Idle for longer than the check's threshold (a second): every request works at once.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    for path in reads {
        let response = api.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path} after an idle spell");
        let body = response.text().await.expect("a body");
        let expected = if path == "/users/me" { "alice" } else { "Beat It" };
        assert!(body.contains(expected), "{path} after an idle spell: {body}");
    }
    let thriller = json!({"title": "Thriller", "artist": "Michael Jackson"});
    assert_eq!(api.post_json("/tracks", &thriller).await.status(), StatusCode::CREATED);

    end_the_servers_postgres_connections(&app).await;
    // Straight away: a read on an ended connection may fail, with 503, and that connection
    // is replaced; within a few reads every read works again.
    let mut statuses = Vec::new();
    let mut consecutive_ok = 0;
    while consecutive_ok < 2 * reads.len() {
        let status = api.get(reads[statuses.len() % reads.len()]).await.status();
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} after {statuses:?}"
        );
        consecutive_ok = if status == StatusCode::OK { consecutive_ok + 1 } else { 0 };
        statuses.push(status.as_u16());
        assert!(statuses.len() <= 60, "reads did not recover: {statuses:?}");
    }

    end_the_servers_postgres_connections(&app).await;
    // The same for a write, through sqlx's pool: until one is acknowledged, each attempt
    // fails with 503 and is not made.
    let bad = json!({"title": "Bad", "artist": "Michael Jackson"});
    let mut statuses = Vec::new();
    loop {
        let status = api.post_json("/tracks", &bad).await.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} after {statuses:?}"
        );
        statuses.push(status.as_u16());
        if status == StatusCode::CREATED {
            break;
        }
        assert!(statuses.len() <= 20, "writes did not recover: {statuses:?}");
    }
    // Read from the database itself: the server's other connections may still be ended ones.
    let database = sqlx::PgPool::connect(&app.config().database.database_url).await.expect("connected");
    let titles: Vec<String> =
        sqlx::query_scalar("SELECT title FROM tracks ORDER BY id").fetch_all(&database).await.expect("read");
    assert_eq!(titles, ["Beat It", "Thriller", "Bad"], "each acknowledged write once, no other");
}
