//! Security headers on every response (SECURITY.md 21) and the cross-site request check
//! (SECURITY.md 11–14).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// API responses are data, never documents: nothing may load or frame them.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The SPA's policy; `script_hash` allows Trunk's inline loader and nothing else inline.
pub fn spa_csp(script_hash: Option<&str>) -> String {
    let inline = script_hash.map(|hash| format!(" 'sha256-{hash}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{inline}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the headers every response carries; a page that set its own CSP keeps it.
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(API_CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if state.config.secure_cookies {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Refuses state-changing requests that a browser sent from another site: a cross-site
/// `Sec-Fetch-Site`, or an `Origin` that is `null` or not ours. Requests with neither
/// header (curl, server-to-server) cannot carry a victim's cookie, so they pass.
pub async fn same_origin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !is_same_origin(request.headers(), state.config.public_url.as_deref()) {
        tracing::warn!(
            event = "cross_site_refused",
            method = %request.method(),
            path = request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-site request refused"
        );
        return ApiError::Forbidden("Cross-site request refused").into_response();
    }
    next.run(request).await
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

    #[test]
    fn requests_without_origin_or_fetch_metadata_pass() {
        assert!(is_same_origin(&headers(&[("host", "app.test")]), None));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "cross-site")]), None));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "same-origin")]), None));
    }
}
