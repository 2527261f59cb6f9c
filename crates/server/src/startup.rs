//! Building the application: the same function `main` and the tests call.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::header;
use axum::middleware;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::auth::password::Passwords;
use crate::auth::throttle::LoginThrottle;
use crate::catalogue_cache::PageCache;
use crate::config::Config;
use crate::db::counters::Counters;
use crate::db::{self, Db};
use crate::pages::Pages;
use crate::session::{self, CookiePolicy, Sessions, Store};
use crate::site::Site;
use crate::state::{AppState, Components};
use crate::{demo, error, headers, metrics, routes, serve};

/// A configured server with its listener bound, ready to run.
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    app: headers::Guarded,
    state: AppState,
}

impl Application {
    /// Opens and migrates the database, seeds the demo data when asked, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let db = Db::connect(&config.database.database_url).await?;
        let session_db = db.session_budget()?;
        let redis = db::redis::open(&config.database.session_store).await?;
        let store = Store::open(&session_db, &config.database.session_store, redis.clone()).await?;
        let counters = Counters::new(redis.map(|pool| (pool, config.database.redis_key_prefix.clone())));
        // The catalogue's pages and the rendered pages each keep up to this.
        let cache_bytes = config.catalogue_cache_mib.saturating_mul(1024 * 1024);
        let state = AppState::new(Components {
            throttle: LoginThrottle::new(config.throttle.clone(), counters),
            sessions: Sessions::new(session_db, store.clone(), config.session.clone()),
            catalogue: PageCache::new(db.catalogue(config.search_timeout)?, cache_bytes),
            pages: config.static_dir.as_deref().map(|dir| Pages::open(dir, cache_bytes)).transpose()?,
            db,
            passwords: Passwords::new(&config.hashing)?,
            config,
        });
        if state.config.demo {
            demo::seed(&state).await?;
        }
        let app = app(state.clone(), store)?;
        let listener = TcpListener::bind(state.config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", state.config.bind))?;
        let metrics_listener = match state.config.metrics_bind {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} for metrics"))?,
            ),
            None => None,
        };
        Ok(Self { listener, metrics_listener, app, state })
    }

    /// Where the server listens (the real port when the configured one was 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let cleanup = tokio::spawn(self.state.sessions.clone().delete_expired_forever());
        let metrics = self.metrics_listener.map(|listener| {
            let gauges =
                metrics::Gauges { db: self.state.db.clone(), passwords: self.state.passwords.clone() };
            tokio::spawn(metrics::serve(listener, gauges))
        });
        let connections = &self.state.config.connections;
        let limits = serve::Limits {
            header_timeout: connections.header_timeout,
            max_connections: connections.max_connections,
            shutdown_timeout: connections.shutdown_timeout,
        };
        let served = serve::serve(self.listener, self.app, limits, shutdown).await;
        cleanup.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        served.context("the server failed")
    }
}

/// The whole HTTP stack.
fn app(state: AppState, store: Store) -> anyhow::Result<headers::Guarded> {
    let policy = CookiePolicy::from_config(&state.config);
    let hosts = headers::Hosts::new(state.config.public_url.as_deref(), state.config.bind.ip().is_loopback());
    let guard = headers::Guard { state: state.clone(), hosts, policy, ids: headers::RequestIds::default() };
    let (api, mut openapi) = routes::router().split_for_parts();
    let (sessionless, sessionless_doc) = routes::sessionless().split_for_parts();
    openapi.merge(sessionless_doc);
    // Rendered once: the document never changes while the process runs.
    let openapi = routes::document(openapi, policy.name);
    let openapi: &'static str = openapi.to_json().context("rendering the OpenAPI document")?.leak();
    let document = move || std::future::ready(([(header::CONTENT_TYPE, "application/json")], openapi));
    let metered = state.config.metrics_bind.is_some();
    let app = with_metrics(api.route("/openapi.json", get(document).layer(CompressionLayer::new())), metered);
    let app = match &state.config.static_dir {
        Some(dir) => {
            let site = Site::new(dir);
            let serve =
                move |State(state): State<AppState>, request: Request| site.clone().serve(state, request);
            // Pages and the docs compress well; the bundle's files come gzipped already.
            app.fallback(Handler::layer(serve, CompressionLayer::new()))
        }
        None => app.fallback(error::not_found),
    };
    let app = app
        .layer(session::layer(store, policy))
        // Past its layer, inside the rest. A path may be in both (`/tracks`: its reads here,
        // its changes there); axum merges their methods.
        .merge(with_metrics(sessionless, metered))
        // Once, on the merged routes: two fallbacks on one path would not merge.
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state);
    // Request ids, checks, time limits, response fix-ups, around it all.
    Ok(headers::Guarded::new(guard, app))
}

/// Counts and times every routed request, when something serves the figures
/// (`--metrics-bind`). Without a listener no recorder is installed and the counters go
/// nowhere, while the layer still cost `/healthz` 6–9% and the 401 12–14% (A/B, see
/// docs/performance.md).
fn with_metrics<S: Clone + Send + Sync + 'static>(router: axum::Router<S>, metered: bool) -> axum::Router<S> {
    if metered { router.route_layer(middleware::from_fn(metrics::track_requests)) } else { router }
}
