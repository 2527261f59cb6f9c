//! Accepting connections, bounded in time and number (SECURITY.md 26).
//!
//! `axum::serve` sets no header read timeout, no cap on connections and waits for ever on
//! shutdown, so one slow client per connection slot could hold the server. This loop:
//! - waits at most `header_timeout` for a request's headers (a first request, or the next one
//!   on a kept-alive connection), then drops the connection;
//! - holds at most `max_connections` open; past that it stops accepting (the kernel queues
//!   new connections) until one closes;
//! - sets `TCP_NODELAY`, so a response whose body follows its headers in a second write (a
//!   static file) does not wait ~40 ms for the client's delayed ACK (Nagle's algorithm);
//! - on shutdown, stops accepting, lets requests in flight finish, and closes whatever is
//!   still open after `shutdown_timeout`.
//!
//! Request bodies and whole requests have their own timeouts, as middleware (`startup`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::headers::Guarded;

/// How long and how many.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes; see the module doc.
pub async fn serve(
    listener: TcpListener,
    app: Guarded,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or the client gave up before we accepted:
                    // both pass; busy-looping on them would not help.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
        let service = app.clone().map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        connections.spawn(async move {
            let _slot = slot;
            if let Err(err) = connection.await {
                // Timeouts and clients that hang up land here; nothing to answer.
                tracing::debug!(%err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the shutdown timeout; closing them"
        );
    }
    connections.shutdown().await;
    Ok(())
}
