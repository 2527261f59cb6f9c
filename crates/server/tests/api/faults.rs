//! Backends going away and coming back, with real servers stopped and restarted: requests
//! that need them answer 503 JSON in bounded time, the rest keep working, and everything
//! recovers by itself. Also the bounded load run with a Redis restart in the middle.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::COOKIE;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use tracklist::config::SessionStoreChoice;

use crate::helpers::{PASSWORD, TestApp, assert_error, session_cookie};
use crate::services::{Postgres, Redis, postgres_available, redis_available, report, skip};

/// How long a request may take while a backend is down: bounded, never a hang.
const BOUND: Duration = Duration::from_secs(8);

async fn timed(request: reqwest::RequestBuilder) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let response = request.send().await.expect("sent");
    (response, started.elapsed())
}

/// Retries `probe` until it gives `want` (the service is back) or 30 s pass.
async fn eventually(want: StatusCode, probe: impl Fn() -> reqwest::RequestBuilder) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = probe().send().await.expect("sent").status();
        if status == want {
            return;
        }
        assert!(Instant::now() < deadline, "still {status}, not {want}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_redis_outage_answers_503_quickly_and_recovers_by_itself() {
    if !redis_available() {
        return skip(
            "a_redis_outage_answers_503_quickly_and_recovers_by_itself",
            "redis-server is not installed",
        );
    }
    let redis = Redis::start().expect("Redis starts");
    let url = redis.url();
    let app =
        TestApp::spawn_with(move |config| config.database.session_store = SessionStoreChoice::Redis(url))
            .await;
    app.create_user("alice", false).await;
    let session = app.session_id_for("alice").await;
    let client = Client::new();

    redis.down().expect("Redis stops");

    let (me, took) = timed(client.get(app.url("/users/me")).header(COOKIE, format!("id={session}"))).await;
    assert!(took < BOUND, "took {took:?}");
    assert_eq!(me.headers()["retry-after"], "1");
    assert_error(me, StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable").await;
    let (login, took) =
        timed(client.post(app.url("/login")).form(&[("username", "alice"), ("password", PASSWORD)])).await;
    assert!(took < BOUND, "took {took:?}");
    assert_error(login, StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable").await;
    let (tracks, _) = timed(client.get(app.url("/tracks"))).await;
    assert_eq!(tracks.status(), StatusCode::OK, "public reads do not need the session store");
    let (ready, _) = timed(client.get(app.url("/readyz"))).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    redis.up().expect("Redis starts again");

    eventually(StatusCode::OK, || client.get(app.url("/readyz"))).await;
    // Redis kept nothing (no persistence here), so the old session is gone; signing in works.
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_postgres_outage_answers_503_keeps_the_spa_up_and_recovers_by_itself() {
    if !postgres_available() {
        return skip(
            "a_postgres_outage_answers_503_keeps_the_spa_up_and_recovers_by_itself",
            "PostgreSQL is not installed",
        );
    }
    let postgres = Postgres::start().expect("PostgreSQL starts");
    let url = postgres.url();
    let dist = tempfile::tempdir().expect("folder");
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>Tracklist</title>")
        .expect("written");
    let static_dir = dist.path().to_owned();
    let app = TestApp::spawn_with(move |config| {
        config.database.database_url = url;
        config.database.session_store = SessionStoreChoice::Database;
        config.static_dir = Some(static_dir);
    })
    .await;
    app.create_user("alice", false).await;
    let client = Client::new();

    postgres.down().expect("PostgreSQL stops");

    let (tracks, took) = timed(client.get(app.url("/tracks"))).await;
    assert!(took < BOUND, "took {took:?}");
    assert_error(tracks, StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable").await;
    let (login, took) =
        timed(client.post(app.url("/login")).form(&[("username", "alice"), ("password", PASSWORD)])).await;
    assert!(took < BOUND, "took {took:?}");
    assert_error(login, StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable").await;
    let (page, _) = timed(client.get(app.url("/sign-in"))).await;
    assert_eq!(page.status(), StatusCode::OK, "the SPA's pages do not need the database");

    postgres.up().expect("PostgreSQL starts again");

    eventually(StatusCode::OK, || client.get(app.url("/tracks"))).await;
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
}

/// What the load run saw.
#[derive(Debug, Default)]
struct Tally {
    by_status: BTreeMap<u16, u64>,
    /// Tracks the server acknowledged with 201: id → title.
    acknowledged: BTreeMap<i64, String>,
    transport_errors: u64,
}

#[tokio::test]
async fn load_with_a_redis_restart_loses_no_acknowledged_write() {
    if !redis_available() {
        return skip(
            "load_with_a_redis_restart_loses_no_acknowledged_write",
            "redis-server is not installed",
        );
    }
    const CLIENTS: usize = 32;
    const DURATION: Duration = Duration::from_secs(20);
    let redis = Arc::new(Redis::start().expect("Redis starts"));
    let url = redis.url();
    let app = Arc::new(
        TestApp::spawn_with(move |config| {
            config.database.session_store = SessionStoreChoice::Redis(url);
            config.throttle.max_failures_per_client = usize::MAX;
        })
        .await,
    );
    for n in 0..CLIENTS {
        app.create_user(&format!("load{n}"), false).await;
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();

    let workers: Vec<_> = (0..CLIENTS)
        .map(|n| tokio::spawn(worker(app.clone(), format!("load{n}"), tally.clone(), started + DURATION)))
        .collect();
    // A third of the way in, Redis goes away for a second and comes back.
    tokio::time::sleep(DURATION / 3).await;
    let restarter = redis.clone();
    tokio::task::spawn_blocking(move || {
        restarter.down().expect("Redis stops");
        std::thread::sleep(Duration::from_secs(1));
        restarter.up().expect("Redis starts again");
    })
    .await
    .expect("restarted");
    for worker in workers {
        worker.await.expect("worker");
    }

    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(PoisonError::into_inner));
    let total: u64 = tally.by_status.values().sum();
    report(&format!(
        "load run: {CLIENTS} clients, {DURATION:?}, Redis restarted once: {total} requests, by status {:?}, \
         transport errors {}, {} acknowledged writes (all verified below)",
        tally.by_status,
        tally.transport_errors,
        tally.acknowledged.len()
    ));
    assert_eq!(tally.transport_errors, 0);
    assert!(tally.by_status.keys().all(|status| *status < 500 || *status == 503), "{:?}", tally.by_status);
    assert!(tally.by_status.get(&201).is_some_and(|n| *n > 0));
    for (id, title) in &tally.acknowledged {
        let track: Value = app.get_json(&format!("/tracks/{id}")).await;
        assert_eq!(track["title"], title.as_str(), "acknowledged track {id} is missing or changed");
    }
}

/// One client: signs in, then reads, writes, checks itself and now and then signs out and
/// in again, until `until`. A 401 (its session died with Redis) means sign in again.
async fn worker(app: Arc<TestApp>, username: String, tally: Arc<Mutex<Tally>>, until: Instant) {
    let client = Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let mut session: Option<String> = None;
    let mut step = 0_u64;
    while Instant::now() < until {
        step += 1;
        let Some(id) = session.clone() else {
            let response = client
                .post(app.url("/login"))
                .form(&[("username", username.as_str()), ("password", PASSWORD)])
                .send()
                .await;
            session = record(&tally, response).and_then(|r| session_cookie(&r).map(|c| c.value));
            if session.is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            continue;
        };
        let cookie = format!("id={id}");
        let response = match step % 10 {
            0 => {
                let response = client.post(app.url("/logout")).header(COOKIE, &cookie).send().await;
                session = None;
                record(&tally, response);
                continue;
            }
            1..=3 => {
                let title = format!("{username} take {step}");
                let response = client
                    .post(app.url("/tracks"))
                    .header(COOKIE, &cookie)
                    .json(&json!({"title": title, "artist": "Load"}))
                    .send()
                    .await;
                if let Some(response) = record(&tally, response) {
                    if response.status() == StatusCode::CREATED {
                        let track: Value = response.json().await.expect("a created track");
                        let id = track["id"].as_i64().expect("an id");
                        tally.lock().unwrap_or_else(PoisonError::into_inner).acknowledged.insert(id, title);
                    } else if response.status() == StatusCode::UNAUTHORIZED {
                        session = None;
                    }
                }
                continue;
            }
            4..=5 => client.get(app.url("/users/me")).header(COOKIE, &cookie).send().await,
            _ => client.get(app.url("/tracks?limit=20&q=take")).send().await,
        };
        if record(&tally, response).is_some_and(|r| r.status() == StatusCode::UNAUTHORIZED) {
            session = None;
        }
    }
}

fn record(tally: &Mutex<Tally>, response: reqwest::Result<reqwest::Response>) -> Option<reqwest::Response> {
    let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
    match response {
        Ok(response) => {
            *tally.by_status.entry(response.status().as_u16()).or_default() += 1;
            Some(response)
        }
        Err(_) => {
            tally.transport_errors += 1;
            None
        }
    }
}
