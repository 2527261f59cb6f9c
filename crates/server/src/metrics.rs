//! Prometheus metrics: requests by route and status with their latency, sign-ins by outcome,
//! active sessions, the password-hashing queue and the catalogue page cache. They are served
//! by their own listener (`--metrics-bind`), so the public port never exposes them.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use metrics::{Counter, Histogram, Label, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

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
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record(route, &method, response.status(), started.elapsed().as_secs_f64());
    response
}

/// A route's request counter and latency histogram for one method and status.
struct Handles {
    method: Method,
    status: StatusCode,
    requests: Counter,
    latency: Histogram,
}

/// The handles of every route, method and status seen so far, by route pattern. Looking them
/// up in the recorder on every request (a key of three labels built, allocated and hashed,
/// twice) cost about as much as the recording. Bounded: the routes are the router's patterns,
/// the methods those a route answers (any other gets 405 before this layer), the statuses
/// three digits.
static SEEN: LazyLock<RwLock<HashMap<String, Vec<Handles>>>> = LazyLock::new(Default::default);

fn record(route: &str, method: &Method, status: StatusCode, seconds: f64) {
    let recorded = |seen: &HashMap<String, Vec<Handles>>| {
        let handles = seen.get(route)?.iter().find(|h| h.method == *method && h.status == status)?;
        handles.requests.increment(1);
        handles.latency.record(seconds);
        Some(())
    };
    if recorded(&SEEN.read().unwrap_or_else(PoisonError::into_inner)).is_some() {
        return;
    }
    let mut seen = SEEN.write().unwrap_or_else(PoisonError::into_inner);
    if recorded(&seen).is_some() {
        return;
    }
    // Handles taken before the recorder is installed would count nothing, for good.
    handle();
    // Methods and statuses are static strings (no allocation for them); the route is one of
    // the router's own patterns.
    let labels = [
        Label::new("method", method_label(method)),
        Label::new("route", route.to_owned()),
        Label::new("status", status_label(status)),
    ];
    let handles = Handles {
        method: method.clone(),
        status,
        requests: metrics::counter!("http_requests_total", labels.iter()),
        latency: metrics::histogram!("http_request_duration_seconds", labels.iter()),
    };
    handles.requests.increment(1);
    handles.latency.record(seconds);
    seen.entry(route.to_owned()).or_default().push(handles);
}

fn method_label(method: &Method) -> SharedString {
    match method.as_str() {
        "GET" => SharedString::const_str("GET"),
        "POST" => SharedString::const_str("POST"),
        "PUT" => SharedString::const_str("PUT"),
        "PATCH" => SharedString::const_str("PATCH"),
        "DELETE" => SharedString::const_str("DELETE"),
        "HEAD" => SharedString::const_str("HEAD"),
        other => SharedString::from(other.to_owned()),
    }
}

fn status_label(status: StatusCode) -> SharedString {
    const COMMON: [&str; 16] = [
        "200", "201", "204", "303", "304", "400", "401", "403", "404", "405", "409", "410", "413", "422",
        "429", "503",
    ];
    let code = status.as_str();
    match COMMON.iter().find(|common| **common == code) {
        Some(common) => SharedString::const_str(common),
        None => SharedString::from(code.to_owned()),
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

/// Whether a rendered page was sent as kept from an earlier view: `hit` or `miss`.
pub fn kept_page(result: &'static str) {
    metrics::counter!("kept_page_total", "result" => result).increment(1);
}

/// What the gauges are read from when `/metrics` is asked for.
#[derive(Clone)]
pub struct Gauges {
    pub db: Db,
    pub passwords: Passwords,
}

/// How often the recorder folds the latencies recorded since into its histograms.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Serves `/metrics` on `listener` until the task is dropped, and meanwhile keeps the
/// recorder's memory bounded: it keeps every latency recorded until it folds them into the
/// histograms, which it does on a scrape or an upkeep. Without the upkeep, a server nobody
/// scraped grew by about 18 MiB per million requests, for ever.
pub async fn serve(listener: TcpListener, gauges: Gauges) -> std::io::Result<()> {
    handle();
    let app = Router::new().route("/metrics", get(render)).with_state(gauges);
    let upkeep = async {
        let mut every = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            every.tick().await;
            handle().run_upkeep();
        }
    };
    tokio::select! {
        served = axum::serve(listener, app).into_future() => served,
        () = upkeep => Ok(()),
    }
}

async fn render(State(gauges): State<Gauges>) -> Result<String> {
    let active = db::sessions::count_active(&gauges.db).await?;
    metrics::gauge!("active_sessions").set(active as f64);
    metrics::gauge!("password_hash_queue_depth").set(gauges.passwords.queue_depth() as f64);
    Ok(handle().render())
}
