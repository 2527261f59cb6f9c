//! Prometheus metrics: requests by route and status with their latency, sign-ins by outcome,
//! active sessions, the password-hashing queue and the catalogue page cache. They are served
//! by their own listener (`--metrics-bind`), so the public port never exposes them.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use metrics::{Label, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::auth::password::Passwords;
use crate::db::{self, Db};
use crate::error::Result;

/// Latency buckets (seconds) from sub-millisecond reads to slow sign-ins.
const LATENCY_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The process-wide recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), &LATENCY_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if something else installed a recorder first; ours then stays empty.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        handle
    })
}

/// Counts and times every request that matched a route, labelled by the route's pattern (not
/// the raw path, which would make a label per track id).
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    // Methods and statuses are static strings (no allocation per request for them); the
    // route is one of the router's own patterns.
    let labels = vec![
        Label::new("method", method),
        Label::new("route", route),
        Label::new("status", status_label(response.status())),
    ];
    metrics::counter!("http_requests_total", labels.iter()).increment(1);
    metrics::histogram!("http_request_duration_seconds", labels).record(started.elapsed().as_secs_f64());
    response
}

fn method_label(method: &Method) -> SharedString {
    let known = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    const NAMES: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    match known.iter().position(|known| known == method) {
        Some(index) => SharedString::const_str(NAMES[index]),
        None => SharedString::from(method.as_str().to_owned()),
    }
}

fn status_label(status: StatusCode) -> SharedString {
    const COMMON: [(u16, &str); 16] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (303, "303"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (409, "409"),
        (410, "410"),
        (413, "413"),
        (422, "422"),
        (429, "429"),
        (503, "503"),
    ];
    match COMMON.iter().find(|(code, _)| *code == status.as_u16()) {
        Some((_, text)) => SharedString::const_str(text),
        None => SharedString::from(status.as_u16().to_string()),
    }
}

/// A sign-in attempt's outcome: `success`, `failure`, `throttled`.
pub fn login(outcome: &'static str) {
    metrics::counter!("logins_total", "outcome" => outcome).increment(1);
}

/// Whether a page of the catalogue was sent from the page cache: `hit` or `miss`.
pub fn page_cache(result: &'static str) {
    metrics::counter!("catalogue_page_cache_total", "result" => result).increment(1);
}

/// What the gauges are read from when `/metrics` is asked for.
#[derive(Clone)]
pub struct Gauges {
    pub db: Db,
    pub passwords: Passwords,
}

/// The metrics listener's routes.
pub fn router(gauges: Gauges) -> Router {
    handle();
    Router::new().route("/metrics", get(render)).with_state(gauges)
}

async fn render(State(gauges): State<Gauges>) -> Result<String> {
    let active = db::sessions::count_active(&gauges.db).await?;
    metrics::gauge!("active_sessions").set(active as f64);
    metrics::gauge!("password_hash_queue_depth").set(gauges.passwords.queue_depth() as f64);
    Ok(handle().render())
}
