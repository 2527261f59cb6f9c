//! SECURITY.md promises that belong to the server's edges, one test per item number.
//! (Items 1–8, 15–17, 19, 20 and 22 are proven in `login`, `sessions`, `users` and `errors`.)

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::helpers::{Api, PASSWORD, TestApp, assert_error};

async fn login_from(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request =
        Client::new().post(app.url("/login")).form(&[("username", "alice"), ("password", PASSWORD)]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("sent")
}

#[tokio::test]
async fn item_11_cross_site_state_changes_are_refused_with_403() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;

    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let response = login_from(&app, headers).await;
        assert!(response.headers().get("set-cookie").is_none());
        assert_error(response, StatusCode::FORBIDDEN, "Cross-site request refused").await;
    }
    let (client, _) = app.signed_in("bob", false).await;
    let track = Api::send(
        client
            .request(Method::POST, "/tracks")
            .header("origin", "https://evil.example")
            .json(&json!({"title": "Song 2", "artist": "Blur"})),
    )
    .await;
    assert_error(track, StatusCode::FORBIDDEN, "Cross-site request refused").await;
    let logout =
        Api::send(client.request(Method::POST, "/logout").header("origin", "https://evil.example")).await;
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    assert_eq!(client.get("/users/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_11_same_origin_and_header_less_requests_pass() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let own_origin = app.address.clone();

    assert_eq!(
        login_from(&app, &[("origin", &own_origin), ("sec-fetch-site", "same-origin")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(login_from(&app, &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_11_behind_a_proxy_only_the_public_url_is_our_origin() {
    let app = TestApp::spawn_with(|config| config.public_url = Some("https://tracks.example".into())).await;
    app.create_user("alice", false).await;
    let own_origin = app.address.clone();

    let public_host = ("host", "tracks.example");
    assert_eq!(
        login_from(&app, &[public_host, ("origin", "https://tracks.example")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        login_from(&app, &[public_host, ("origin", &own_origin)]).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn item_14_no_cors_headers_are_sent() {
    let app = TestApp::spawn().await;

    let response =
        Api::send(app.api().request(Method::GET, "/tracks").header("origin", "https://evil.example")).await;

    assert!(response.headers().get("access-control-allow-origin").is_none());
    assert!(response.headers().get("access-control-allow-credentials").is_none());
}

#[tokio::test]
async fn item_18_repeated_failures_get_429_with_retry_after_until_the_window_passes() {
    let app = TestApp::spawn_with(|config| {
        config.throttle.max_failures = 3;
        config.throttle.window = Duration::from_secs(2);
    })
    .await;
    app.create_user("alice", false).await;

    for _ in 0..3 {
        let response = app.api().sign_in("alice", "a wrong password guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits: otherwise the 429 would only slow wrong guesses.
    let throttled = app.api().sign_in("alice", PASSWORD).await;
    let retry_after: u64 =
        throttled.headers()["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body = assert_error(
        throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many failed sign-in attempts. Try again in 2 seconds.",
    )
    .await;
    assert_eq!(body["code"], "too_many_attempts");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn item_18_one_client_guessing_across_usernames_is_throttled() {
    let app = TestApp::spawn_with(|config| config.throttle.max_failures_per_client = 3).await;

    for name in ["ann", "ben", "cat"] {
        assert_eq!(
            app.api().sign_in(name, "a wrong password guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    let response = app.api().sign_in("dan", "a wrong password guess").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn item_21_api_responses_carry_strict_security_headers() {
    let app = TestApp::spawn().await;

    let response = app.api().get("/tracks").await;

    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().expect("text");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
}

#[tokio::test]
async fn item_21_hsts_is_sent_with_secure_cookies() {
    let app = TestApp::spawn_with(|config| config.secure_cookies = true).await;

    let response = app.api().get("/tracks").await;

    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
}

#[tokio::test]
async fn item_21_a_page_allows_only_its_own_scripts_and_wasm() {
    let dist = tempfile::tempdir().expect("folder");
    let loader = "import init from '/app.js'; await init();";
    let page = format!("<!doctype html><head><script type=\"module\">{loader}</script></head>");
    std::fs::write(dist.path().join("index.html"), page).expect("written");
    let dir = dist.path().to_owned();
    let app = TestApp::spawn_with(move |config| config.static_dir = Some(dir)).await;

    let response = app.api().get("/sign-in").await;

    let csp = response.headers()["content-security-policy"].to_str().expect("text").to_owned();
    for directive in
        ["default-src 'self'", "'wasm-unsafe-eval'", "frame-ancestors 'none'", "object-src 'none'"]
    {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The hash allows exactly the served loader: echo -n "$loader" | openssl sha256 -binary | base64
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader.as_bytes()));
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp} does not allow the loader ({hash})");
}

#[tokio::test]
async fn item_16_unknown_users_cost_what_wrong_passwords_cost() {
    let app = TestApp::spawn_with(|config| {
        config.throttle.max_failures = usize::MAX;
        config.throttle.max_failures_per_client = usize::MAX;
        config.throttle.max_failures_per_account = usize::MAX;
    })
    .await;
    app.create_user("alice", false).await;
    let time = |username: &'static str| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let response = app.api().sign_in(username, "not the password at all").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            started.elapsed()
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        known.push(time("alice").await);
        unknown.push(time("nobody").await);
    }
    known.sort();
    unknown.sort();

    let ratio = unknown[7].as_secs_f64() / known[7].as_secs_f64();
    assert!((0.5..=2.0).contains(&ratio), "median unknown {:?} vs known {:?}", unknown[7], known[7]);
}

#[tokio::test]
async fn item_28_client_request_ids_are_kept_only_when_short_and_plain() {
    let app = TestApp::spawn().await;
    let id_for = |sent: String| {
        let url = app.url("/healthz");
        async move {
            let response = Client::new().get(url).header("x-request-id", &sent).send().await.expect("sent");
            response.headers()["x-request-id"].to_str().expect("text").to_owned()
        }
    };

    assert_eq!(id_for("edge-7f3a.42_b".into()).await, "edge-7f3a.42_b");
    for unsafe_id in
        ["two words".to_owned(), "tab\there".to_owned(), "x".repeat(129), "semi;colon/slash".to_owned()]
    {
        let given = id_for(unsafe_id.clone()).await;
        assert_ne!(given, unsafe_id);
        let fresh = given.split_once('-').is_some_and(|(prefix, n)| {
            prefix.len() == 16 && !n.is_empty() && given.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        });
        assert!(fresh, "a fresh id of ours replaces {unsafe_id:?}, got {given}");
    }
}

#[tokio::test]
async fn item_29_other_hosts_get_421_on_a_loopback_bind() {
    let app = TestApp::spawn().await;
    let port = app.address.rsplit(':').next().expect("a port").to_owned();
    let with_host =
        |host: String, path: &'static str| Client::new().get(app.url(path)).header("host", host).send();

    let rebound = with_host(format!("evil.example:{port}"), "/tracks").await.expect("sent");
    assert_error(rebound, StatusCode::MISDIRECTED_REQUEST, "This server does not serve that host").await;
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        assert_eq!(
            with_host(host.clone(), "/tracks").await.expect("sent").status(),
            StatusCode::OK,
            "{host}"
        );
    }
    // Probes name instances however their orchestrator does.
    assert_eq!(with_host("10.1.2.3:80".into(), "/healthz").await.expect("sent").status(), StatusCode::OK);
}

#[tokio::test]
async fn item_29_with_a_public_url_only_its_host_is_served() {
    let app = TestApp::spawn_with(|config| config.public_url = Some("https://tracks.example".into())).await;
    let get = |host: &'static str| Client::new().get(app.url("/tracks")).header("host", host).send();

    assert_eq!(get("tracks.example").await.expect("sent").status(), StatusCode::OK);
    let other = get("localhost").await.expect("sent");
    assert_error(other, StatusCode::MISDIRECTED_REQUEST, "This server does not serve that host").await;
}
