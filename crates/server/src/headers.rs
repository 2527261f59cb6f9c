//! Security headers on every response (SECURITY.md 21), the cross-site request check
//! (SECURITY.md 11–14), the `Host` allowlist (SECURITY.md 29), request ids and the
//! screening of client request ids (SECURITY.md 28).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use argon2::password_hash::rand_core::RngCore;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use tower::{Service, ServiceExt};
use tower_http::timeout::TimeoutBody;
use tracing::Instrument;

use axum::http::uri::Authority;
use axum::http::{self, HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::error::{self, ApiError};
use crate::session::{self, CookiePolicy};
use crate::state::AppState;

/// API responses are data, never documents: nothing may load or frame them.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// A page's policy: scripts from this origin, Trunk's inline loader (`loader_hash`) and
/// the inline hydration data leptos writes into this one response (`nonce`); nothing else
/// inline, so no `'unsafe-inline'`.
pub fn page_csp(loader_hash: Option<&str>, nonce: &str) -> String {
    let loader = loader_hash.map(|hash| format!(" 'sha256-{hash}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{loader} 'nonce-{nonce}'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The CSP hash (base64 SHA-256) of the inline `<script type="module">` Trunk writes to load
/// the wasm, so the policy can allow that one script without `'unsafe-inline'`.
pub fn inline_script_hash(index: &str) -> Option<String> {
    const OPEN: &str = "<script type=\"module\">";
    let start = index.find(OPEN)? + OPEN.len();
    let end = start + index[start..].find("</script>")?;
    Some(BASE64.encode(Sha256::digest(&index.as_bytes()[start..end])))
}

/// What the guard needs, built once.
#[derive(Debug)]
pub struct Guard {
    pub state: AppState,
    pub hosts: Hosts,
    pub policy: CookiePolicy,
    pub ids: RequestIds,
}

/// The whole router behind [`guard_request`]: one service around it rather than `Router::layer`,
/// which wraps every route on its own and so costs a boxed service clone and a boxed future
/// more on every request (measured, see docs/performance.md).
#[derive(Debug, Clone)]
pub struct Guarded {
    guard: Arc<Guard>,
    router: Router,
}

impl Guarded {
    pub fn new(guard: Guard, router: Router) -> Self {
        Self { guard: Arc::new(guard), router }
    }
}

impl<B> Service<http::Request<B>> for Guarded
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (guard, router) = (Arc::clone(&self.guard), self.router.clone());
        Box::pin(async move { Ok(guard_request(&guard, request.map(Body::new), router).await) })
    }
}

/// Every request's id, checks and time limits, and every response's fix-ups, in one place
/// at the edge of the stack:
/// - The request id: a client's `x-request-id` is kept only when it is short and plain
///   (`[A-Za-z0-9._-]{1,128}`; ids go into every log line), any other request gets a fresh
///   one; the request carries it to the log span and the handlers, the response back.
/// - Before any routing, handler or session work, so that a refused request changes
///   nothing: the `Host` allowlist, then the cross-site check.
/// - The request's time limit (`--request-timeout`, 503) around the session layer and the
///   handler, and the body's (`--body-timeout`, 408) on its reads.
/// - On whatever answers, refusals and timeouts included: a bare 500 becomes JSON, the
///   session cookie's removal gets its full attributes (see `session::harden_cookies`; this
///   is outside the session layer, so it sees the cookies that one sets), and the security
///   headers.
async fn guard_request(guard: &Guard, mut request: Request, router: Router) -> Response {
    let plain = |id: &HeaderValue| {
        (1..=128).contains(&id.len())
            && id.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let id = match request.headers().get(X_REQUEST_ID).filter(|id| plain(id)) {
        Some(id) => id.clone(),
        None => guard.ids.next(),
    };
    // The span every log line of this request is in.
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id = id.to_str().unwrap_or("-"),
    );
    request.headers_mut().insert(X_REQUEST_ID, id.clone());
    let mut response = checked(guard, request, router).instrument(span).await;
    response.headers_mut().insert(X_REQUEST_ID, id);
    response
}

async fn checked(guard: &Guard, request: Request, router: Router) -> Response {
    let Guard { state, hosts, policy, .. } = guard;
    let refusal = misdirected(hosts, &request).or_else(|| cross_site(state, &request));
    let connections = &state.config.connections;
    let response = match refusal {
        Some(refused) => refused.into_response(),
        None => {
            let request = request.map(|body| Body::new(TimeoutBody::new(connections.body_timeout, body)));
            let answer = async { router.oneshot(request).await.unwrap_or_else(|never| match never {}) };
            error::time_limit(connections.request_timeout, answer).await
        }
    };
    let mut response = error::json_for_bare_failures(response);
    session::harden_cookies(*policy, &mut response);
    add_security_headers(&mut response, state.config.secure_cookies);
    response
}

/// The headers every response carries; a page that set its own CSP or referrer policy
/// keeps it.
fn add_security_headers(response: &mut Response, secure_cookies: bool) {
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(API_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if secure_cookies {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

/// Refuses state-changing requests that a browser sent from another site: a cross-site
/// `Sec-Fetch-Site`, or an `Origin` that is `null` or not ours. Requests with neither
/// header (curl, server-to-server) cannot carry a victim's cookie, so they pass.
fn cross_site(state: &AppState, request: &Request) -> Option<ApiError> {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || is_same_origin(request.headers(), state.config.public_url.as_deref()) {
        return None;
    }
    tracing::warn!(
        event = "cross_site_refused",
        method = %request.method(),
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "cross-site request refused"
    );
    Some(ApiError::Forbidden("Cross-site request refused"))
}

/// 421 for a request for a host this server is not (DNS rebinding: a hostile page whose
/// name now resolves to us). With `--public-url`, only its host is served; without it, a
/// server bound to loopback serves only loopback names. Health probes address instances by
/// whatever name the orchestrator uses, so `/healthz` and `/readyz` are exempt.
fn misdirected(hosts: &Hosts, request: &Request) -> Option<ApiError> {
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz");
    let host = request.headers().get(header::HOST).and_then(|host| host.to_str().ok());
    if probe || host.is_none_or(|host| hosts.allow(host)) {
        return None;
    }
    tracing::warn!(event = "wrong_host", host = ?request.headers().get(header::HOST), "request for another host refused");
    Some(ApiError::MisdirectedRequest)
}

/// The hosts served, worked out once from the configuration.
#[derive(Debug, Clone)]
pub enum Hosts {
    /// `--public-url`'s host and port (the scheme's default when it names none).
    Public {
        host: String,
        port: u16,
    },
    /// A loopback bind without `--public-url`: loopback addresses and `localhost` names.
    Loopback,
    Any,
}

impl Hosts {
    pub fn new(public_url: Option<&str>, loopback_bind: bool) -> Self {
        let public = public_url.and_then(|url| url.parse::<Uri>().ok());
        match public.as_ref().and_then(|uri| uri.authority().map(|authority| (uri, authority))) {
            Some((uri, authority)) => Self::Public {
                host: authority.host().to_ascii_lowercase(),
                port: authority.port_u16().unwrap_or(default_port(uri.scheme_str())),
            },
            None if loopback_bind => Self::Loopback,
            None => Self::Any,
        }
    }

    fn allow(&self, host: &str) -> bool {
        let Ok(host) = host.parse::<Authority>() else {
            return false;
        };
        match self {
            Self::Public { host: expected, port } => {
                host.host().eq_ignore_ascii_case(expected) && host.port_u16().unwrap_or(*port) == *port
            }
            Self::Loopback => {
                let name = host.host().trim_start_matches('[').trim_end_matches(']');
                match name.parse::<IpAddr>() {
                    Ok(address) => address.is_loopback(),
                    Err(_) => {
                        name.eq_ignore_ascii_case("localhost")
                            || name.to_ascii_lowercase().ends_with(".localhost")
                    }
                }
            }
            Self::Any => true,
        }
    }
}

fn default_port(scheme: Option<&str>) -> u16 {
    if scheme == Some("https") { 443 } else { 80 }
}

const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// Request ids for requests that bring none: a random prefix drawn once per process, then a
/// counter. Unique across instances without a system call per request (a UUID v4 asks the
/// kernel for randomness every time, which showed in the profile of `/healthz`).
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let prefix = format!("{:016x}", argon2::password_hash::rand_core::OsRng.next_u64());
        Self { prefix: prefix.into(), next: Arc::new(AtomicU64::new(1)) }
    }
}

impl RequestIds {
    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // Hex digits and a dash: always a valid header value.
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix)).unwrap_or(HeaderValue::from_static("-"))
    }
}

fn is_same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    if headers.get("sec-fetch-site").is_some_and(|site| site == "cross-site") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    match public_url {
        // Behind a proxy the Host header may be internal: trust only the configured URL.
        Some(public_url) => origin == public_url.trim_end_matches('/'),
        None => {
            let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
            let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
            host.is_some() && authority == host
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().expect("name"), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn the_inline_loader_is_hashed_exactly() {
        let page = "<head><script type=\"module\">import init from '/a.js';</script></head>";
        // echo -n "import init from '/a.js';" | openssl sha256 -binary | base64
        assert_eq!(inline_script_hash(page).as_deref(), Some("aOee+rvEUMphqlepW7nBjXpcT6aM6jxNXbtEv0XP738="));
        assert_eq!(inline_script_hash("<head></head>"), None);
    }

    #[test]
    fn origin_must_match_the_host_or_the_public_url() {
        assert!(is_same_origin(&headers(&[("host", "app.test"), ("origin", "https://app.test")]), None));
        assert!(!is_same_origin(&headers(&[("host", "app.test"), ("origin", "https://evil.example")]), None));
        assert!(!is_same_origin(&headers(&[("host", "app.test"), ("origin", "null")]), None));
        assert!(!is_same_origin(
            &headers(&[("host", "internal:3000"), ("origin", "https://app.test")]),
            Some("http://x")
        ));
        assert!(is_same_origin(
            &headers(&[("host", "internal:3000"), ("origin", "https://app.test")]),
            Some("https://app.test/")
        ));
    }

    fn is_expected_host(host: &str, public_url: Option<&str>, loopback_bind: bool) -> bool {
        Hosts::new(public_url, loopback_bind).allow(host)
    }

    #[test]
    fn only_the_public_host_or_loopback_names_are_served() {
        let public = Some("https://tracks.example");
        assert!(is_expected_host("tracks.example", public, false));
        assert!(is_expected_host("TRACKS.example:443", public, false));
        assert!(!is_expected_host("tracks.example:8443", public, false));
        assert!(!is_expected_host("127.0.0.1:3000", public, true));
        for loopback in ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "app.localhost"] {
            assert!(is_expected_host(loopback, None, true), "{loopback}");
        }
        for other in ["evil.example", "evil.example:3000", "10.0.0.1:3000", "localhost.evil.example"] {
            assert!(!is_expected_host(other, None, true), "{other}");
            assert!(is_expected_host(other, None, false), "{other}");
        }
    }

    #[test]
    fn requests_without_origin_or_fetch_metadata_pass() {
        assert!(is_same_origin(&headers(&[("host", "app.test")]), None));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "cross-site")]), None));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), None));
    }
}
