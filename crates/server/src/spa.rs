//! Serving the built SPA (`--static-dir`): files with long-lived caching (Trunk names them
//! by content hash), `index.html` for every page route so deep links and reloads work, and
//! never an HTML page where an API client expects JSON.

use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;

/// Path prefixes that belong to the API; the SPA's page routes avoid them.
const API_PREFIXES: [&str; 4] = ["/login", "/logout", "/users", "/tracks"];

/// The built SPA in `dir`.
#[derive(Debug, Clone)]
pub struct Spa {
    files: ServeDir,
    index: ServeFile,
}

impl Spa {
    pub fn new(dir: &Path) -> Self {
        Self { files: ServeDir::new(dir), index: ServeFile::new(dir.join("index.html")) }
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
        response
    }
}

fn is_api_path(path: &str) -> bool {
    API_PREFIXES
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::is_api_path;

    #[test]
    fn api_prefixes_match_whole_segments_only() {
        assert!(is_api_path("/users/me/sessions"));
        assert!(is_api_path("/tracks"));
        assert!(!is_api_path("/tracksuit"));
        assert!(!is_api_path("/sign-in"));
        assert!(!is_api_path("/"));
    }
}
