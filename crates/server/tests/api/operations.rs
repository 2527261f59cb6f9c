//! Operations: Prometheus metrics on their own listener, request ids.

use reqwest::{Client, Method, StatusCode};

use crate::helpers::{Api, PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let app =
        TestApp::spawn_with(|config| config.metrics_bind = Some("127.0.0.1:0".parse().expect("address")))
            .await;
    app.create_user("alice", false).await;
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(app.api().sign_in("alice", "a wrong password guess").await.status(), StatusCode::UNAUTHORIZED);
    app.api().get("/tracks/7").await;
    // HEAD, because the recorder is the process's and other tests running alongside GET
    // /healthz: no other test asks for this route, method and status, so its count is ours.
    for _ in 0..3 {
        Api::send(app.api().request(Method::HEAD, "/healthz")).await;
    }
    for _ in 0..2 {
        app.api().get("/tracks").await;
    }

    let metrics_address = app.metrics_address.clone().expect("a metrics listener");
    let response = Client::new().get(format!("{metrics_address}/metrics")).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");

    for expected in [
        r#"http_requests_total{method="POST",route="/login",status="200"}"#,
        r#"http_requests_total{method="GET",route="/tracks/{id}",status="404"}"#,
        // Every request counted, not only the first of its route, method and status.
        r#"http_requests_total{method="HEAD",route="/healthz",status="200"} 3"#,
        r#"http_request_duration_seconds_bucket{method="POST",route="/login",status="200",le="#,
        r#"logins_total{outcome="success"}"#,
        r#"logins_total{outcome="failure"}"#,
        "active_sessions ",
        "password_hash_queue_depth ",
        r#"catalogue_page_cache_total{result="miss"}"#,
        r#"catalogue_page_cache_total{result="hit"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let public = app.api().get("/metrics").await;
    assert_error(public, StatusCode::NOT_FOUND, "Not Found").await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_given_one() {
    let app = TestApp::spawn().await;

    let fresh = app.api().get("/tracks").await;
    let id = fresh.headers()["x-request-id"].to_str().expect("text").to_owned();
    let next = app.api().get("/tracks").await.headers()["x-request-id"].to_str().expect("text").to_owned();
    assert_ne!(id, next, "each request its own id");
    let (prefix, _) = id.split_once('-').expect("prefix-counter");
    assert_eq!(prefix.len(), 16, "a random 64-bit prefix per process: {id}");
    assert!(next.starts_with(prefix), "{next} comes from the same process as {id}");
    let given =
        Api::send(app.api().request(Method::GET, "/tracks").header("x-request-id", "from-the-proxy-42"))
            .await;

    assert_eq!(given.headers()["x-request-id"], "from-the-proxy-42");
}

#[tokio::test]
async fn probes_keep_the_stack_they_need_without_sessions_or_compression() {
    let app = TestApp::spawn().await;
    let gzip = |path: &str| Api::send(app.api().request(Method::GET, path).header("accept-encoding", "gzip"));

    let health = gzip("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    for header in ["x-request-id", "content-security-policy", "x-content-type-options"] {
        assert!(health.headers().contains_key(header), "/healthz lacks {header}");
    }
    assert!(!health.headers().contains_key("content-encoding"), "a few bytes are not compressed");
    assert!(!health.headers().contains_key("set-cookie"));
    let wrong_method = app.api().post("/healthz").await;
    assert_error(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").await;

    // What is large enough to gain from it is still compressed.
    let (alice, _) = app.signed_in("alice", false).await;
    for n in 0..10 {
        let track = serde_json::json!({"title": format!("Track number {n}"), "artist": "Somebody"});
        assert_eq!(alice.post_json("/tracks", &track).await.status(), StatusCode::CREATED);
    }
    for path in ["/tracks?limit=100", "/openapi.json"] {
        let response = gzip(path).await;
        assert_eq!(
            response.headers().get("content-encoding").map(|v| v.to_str().ok()),
            Some(Some("gzip")),
            "{path}"
        );
    }
}
