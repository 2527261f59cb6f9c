//! SECURITY.md 25: throttling counts every attempt before the password is checked, keys on
//! the real client behind trusted proxies only, and cannot be turned on the account's owner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use shared::SessionInfo;

use crate::helpers::{Api, PASSWORD, TestApp, assert_json_error, futures_join_all};

/// `POST /login` as forwarded by a proxy for `client`.
async fn login_via(_app: &TestApp, http: &Api, client: &str, username: &str, password: &str) -> StatusCode {
    Api::send(
        http.request(Method::POST, "/login")
            .header("x-forwarded-for", client)
            .form(&[("username", username), ("password", password)]),
    )
    .await
    .status()
}

async fn behind_proxy(configure: impl FnOnce(&mut tracklist::Config)) -> TestApp {
    TestApp::spawn_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
        configure(config);
    })
    .await
}

#[tokio::test]
async fn a_burst_of_concurrent_wrong_passwords_gets_at_most_the_limit_verified() {
    let app = TestApp::spawn_with(|config| config.throttle.max_failures = 5).await;
    app.create_user("alice", false).await;
    let url = app.url("/login");

    let statuses = futures_join_all((0..60).map(|n| {
        let url = url.clone();
        async move {
            let form = [("username", "alice".to_owned()), ("password", format!("wrong guess number {n}"))];
            Client::new().post(url).form(&form).send().await.expect("sent").status()
        }
    }))
    .await;

    let verified = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(verified + throttled, 60, "{statuses:?}");
    assert!(verified <= 5, "{verified} guesses were checked against a limit of 5");
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_counted_apart_and_listed_by_their_address() {
    let app = behind_proxy(|config| config.throttle.max_failures = 3).await;
    app.create_user("alice", false).await;
    let http = app.api();

    for _ in 0..3 {
        assert_eq!(login_via(&app, &http, "203.0.113.1", "alice", "wrong").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_via(&app, &http, "203.0.113.1", "alice", "wrong").await, StatusCode::TOO_MANY_REQUESTS);
    // Spoofed hops left of the proxy's own entry change nothing.
    let spoofed = "198.51.100.9, 203.0.113.1";
    assert_eq!(login_via(&app, &http, spoofed, "alice", "wrong").await, StatusCode::TOO_MANY_REQUESTS);

    let other = app.api();
    assert_eq!(login_via(&app, &other, "203.0.113.2", "alice", "wrong").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_via(&app, &other, "203.0.113.2", "alice", PASSWORD).await, StatusCode::OK);
    let sessions: Vec<SessionInfo> = other.get("/users/me/sessions").await.json().await.expect("JSON");
    assert_eq!(sessions[0].client_address.as_deref(), Some("203.0.113.2"));
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = TestApp::spawn_with(|config| config.throttle.max_failures = 3).await;
    app.create_user("alice", false).await;
    let http = app.api();

    for n in 0..3 {
        let spoofed = format!("203.0.113.{n}");
        assert_eq!(login_via(&app, &http, &spoofed, "alice", "wrong").await, StatusCode::UNAUTHORIZED);
    }

    let fresh = "198.51.100.77";
    assert_eq!(login_via(&app, &http, fresh, "alice", "wrong").await, StatusCode::TOO_MANY_REQUESTS);
    let forwarded = Api::send(
        http.request(Method::POST, "/login")
            .header("forwarded", "for=198.51.100.78")
            .form(&[("username", "alice"), ("password", "wrong")]),
    )
    .await;
    assert_eq!(forwarded.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64() {
    let app = behind_proxy(|config| config.throttle.max_failures = 3).await;
    app.create_user("alice", false).await;
    let http = app.api();

    for host in 1..=3 {
        let address = format!("2001:db8:1:2::{host}");
        assert_eq!(login_via(&app, &http, &address, "alice", "wrong").await, StatusCode::UNAUTHORIZED);
    }

    let same_64 = "2001:db8:1:2:ffff::99";
    assert_eq!(login_via(&app, &http, same_64, "alice", "wrong").await, StatusCode::TOO_MANY_REQUESTS);
    let next_64 = "2001:db8:1:3::1";
    assert_eq!(login_via(&app, &http, next_64, "alice", "wrong").await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_device_that_signed_in_before_still_signs_in_while_strangers_are_over_the_account_ceiling() {
    let app = behind_proxy(|config| {
        config.throttle.max_failures = 3;
        config.throttle.max_failures_per_account = 6;
    })
    .await;
    app.create_user("victim", false).await;
    let phone = app.api();
    assert_eq!(login_via(&app, &phone, "198.51.100.1", "victim", PASSWORD).await, StatusCode::OK);

    // Guessing spread over addresses, each under its own limit, reaches the shared ceiling.
    let attacker = app.api();
    for n in 0..6 {
        let address = format!("203.0.113.{}", n / 3);
        assert_eq!(login_via(&app, &attacker, &address, "victim", "guess").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_via(&app, &attacker, "203.0.113.50", "victim", "guess").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A browser the account never signed in from shares that ceiling, right password or not.
    assert_eq!(
        login_via(&app, &app.api(), "198.51.100.1", "victim", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // The owner's device has its own budget: a typo, then the right password.
    assert_eq!(login_via(&app, &phone, "198.51.100.1", "victim", "typo").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_via(&app, &phone, "198.51.100.1", "victim", PASSWORD).await, StatusCode::OK);
    // A device cookie is bound to its account: it buys nothing for another one.
    app.create_user("other", false).await;
    for n in 0..6 {
        let address = format!("203.0.113.{}", 60 + n / 3);
        assert_eq!(login_via(&app, &attacker, &address, "other", "guess").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_via(&app, &phone, "198.51.100.1", "other", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn sign_up_is_throttled_per_client_before_hashing() {
    let app = TestApp::spawn_with(|config| config.throttle.signup_max_per_client = 2).await;
    let sign_up = |name: &str| {
        Client::new()
            .post(app.url("/users"))
            .json(&json!({"username": name, "password": "a long enough sign-up password"}))
            .send()
    };

    assert_eq!(sign_up("first").await.expect("sent").status(), StatusCode::CREATED);
    assert_eq!(sign_up("second").await.expect("sent").status(), StatusCode::CREATED);
    let third = sign_up("third").await.expect("sent");

    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    let body = assert_json_error(third, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(body["code"], "too_many_attempts");
    // Refused before anything was stored: the name is still free.
    let stored = tracklist::db::users::find_by_username(&app.state.db, "third").await.expect("read");
    assert!(stored.is_none());
}

#[tokio::test]
async fn a_sign_up_flood_does_not_make_sign_in_answer_503() {
    let app = TestApp::spawn_with(|config| {
        config.hashing.concurrency = 1;
        config.hashing.queue = 4;
        config.throttle.signup_max_per_client = 10_000;
    })
    .await;
    app.create_user("alice", false).await;
    let stop = Arc::new(AtomicBool::new(false));
    // Eight clients sign up back to back until the sign-ins are done.
    let flood = futures_join_all((0..8).map(|client| {
        let (url, stop) = (app.url("/users"), stop.clone());
        async move {
            let mut statuses = Vec::new();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = json!({"username": format!("flood{client}x{n}"), "password": "a long enough sign-up password"});
                statuses.push(Client::new().post(&url).json(&body).send().await.expect("sent").status());
            }
            statuses
        }
    }));
    let sign_ins = async {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            statuses.push(app.api().sign_in("alice", PASSWORD).await.status());
        }
        stop.store(true, Ordering::Relaxed);
        statuses
    };
    let (flood, sign_ins) = tokio::join!(flood, sign_ins);

    let flood: Vec<StatusCode> = flood.into_iter().flatten().collect();
    assert!(flood.contains(&StatusCode::SERVICE_UNAVAILABLE), "the flood never filled its queue: {flood:?}");
    assert!(sign_ins.iter().all(|status| *status == StatusCode::OK), "{sign_ins:?}");
}
