//! Serving the built SPA (`--static-dir`): files with long-lived caching (Trunk names them
//! by content hash), `index.html` for every page route so deep links and reloads work, and
//! never an HTML page where an API client expects JSON.

use std::path::Path;

use anyhow::Context;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;
use crate::headers;

/// Path prefixes that belong to the API; the SPA's page routes avoid them.
const API_PREFIXES: [&str; 6] = ["/login", "/logout", "/users", "/tracks", "/healthz", "/readyz"];

/// The built SPA in `dir`.
#[derive(Debug, Clone)]
pub struct Spa {
    files: ServeDir,
    index: ServeFile,
    /// The page's Content-Security-Policy, allowing exactly its inline loader script.
    csp: HeaderValue,
}

impl Spa {
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let index_path = dir.join("index.html");
        let index = std::fs::read_to_string(&index_path)
            .with_context(|| format!("cannot read {}", index_path.display()))?;
        let csp = headers::spa_csp(inline_script_hash(&index).as_deref());
        Ok(Self {
            files: ServeDir::new(dir),
            index: ServeFile::new(index_path),
            csp: HeaderValue::from_str(&csp).context("the page's CSP")?,
        })
    }

    /// The router fallback: whatever no API route matched.
    pub async fn serve(self, request: Request) -> Response {
        let path = request.uri().path();
        if is_api_path(path) {
            return ApiError::NotFound("Not Found").into_response();
        }
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return ApiError::MethodNotAllowed.into_response();
        }
        // Page routes have no file extension; anything with one is an asset.
        let is_asset = path.rsplit('/').next().is_some_and(|name| name.contains('.'));
        let response = if is_asset {
            self.files.oneshot(request).await.map(|r| r.map(Body::new))
        } else {
            self.index.oneshot(request).await.map(|r| r.map(Body::new))
        };
        let mut response = match response {
            Ok(response) => response,
            Err(err) => return ApiError::Internal(err.into()).into_response(),
        };
        if response.status() == StatusCode::NOT_FOUND {
            return ApiError::NotFound("Not Found").into_response();
        }
        let cache = if is_asset && response.status().is_success() {
            // Content-hashed names: a changed file gets a new name.
            "public, max-age=31536000, immutable"
        } else {
            // index.html names the current assets: always revalidate.
            "no-cache"
        };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if !is_asset {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, self.csp);
        }
        response
    }
}

/// The CSP hash (base64 SHA-256) of the inline `<script type="module">` Trunk writes to load
/// the wasm, so the policy can allow that one script without `'unsafe-inline'`.
fn inline_script_hash(index: &str) -> Option<String> {
    const OPEN: &str = "<script type=\"module\">";
    let start = index.find(OPEN)? + OPEN.len();
    let end = start + index[start..].find("</script>")?;
    Some(BASE64.encode(Sha256::digest(&index.as_bytes()[start..end])))
}

fn is_api_path(path: &str) -> bool {
    API_PREFIXES
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::{inline_script_hash, is_api_path};

    #[test]
    fn the_inline_loader_is_hashed_exactly() {
        let page = "<head><script type=\"module\">import init from '/a.js';</script></head>";
        // echo -n "import init from '/a.js';" | openssl sha256 -binary | base64
        assert_eq!(inline_script_hash(page).as_deref(), Some("aOee+rvEUMphqlepW7nBjXpcT6aM6jxNXbtEv0XP738="));
        assert_eq!(inline_script_hash("<head></head>"), None);
    }

    #[test]
    fn api_prefixes_match_whole_segments_only() {
        assert!(is_api_path("/users/me/sessions"));
        assert!(is_api_path("/tracks"));
        assert!(!is_api_path("/tracksuit"));
        assert!(!is_api_path("/sign-in"));
        assert!(!is_api_path("/"));
    }
}
