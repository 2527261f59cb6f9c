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

/// The interactive API documentation (Swagger UI, copied into `dist/docs/` at build time).
const DOCS_PAGE: &str = "/docs";

/// Swagger UI sets inline styles; its scripts stay `'self'` only.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The built SPA in `dir`.
#[derive(Debug, Clone)]
pub struct Spa {
    files: ServeDir,
    index: ServeFile,
    docs: ServeFile,
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
            // `scripts/lib.sh` writes `.gz` next to each asset at build time, so the wasm is
            // not compressed again on every request.
            files: ServeDir::new(dir).precompressed_gzip(),
            index: ServeFile::new(index_path),
            docs: ServeFile::new(dir.join("docs").join("index.html")),
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
        let name = path.rsplit('/').next().unwrap_or_default();
        let is_asset = name.contains('.');
        let is_hashed = is_content_hashed(name);
        let is_docs = path.trim_end_matches('/') == DOCS_PAGE;
        let response = if is_docs {
            self.docs.oneshot(request).await.map(|r| r.map(Body::new))
        } else if is_asset {
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
        let cache = if is_asset && is_hashed && response.status().is_success() {
            // Content-hashed names: a changed file gets a new name.
            "public, max-age=31536000, immutable"
        } else {
            // Pages name the current assets, and unhashed files may change: revalidate.
            "no-cache"
        };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if is_docs {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
        } else if !is_asset {
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

/// Trunk's names: `frontend-9de1562bdd0f43e5.js`, `style-ca4f1571134b501b.css`.
fn is_content_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end_matches("_bg");
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_api_path(path: &str) -> bool {
    API_PREFIXES
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::{inline_script_hash, is_api_path, is_content_hashed};

    #[test]
    fn only_trunk_hashed_names_count_as_immutable() {
        assert!(is_content_hashed("frontend-9de1562bdd0f43e5.js"));
        assert!(is_content_hashed("frontend-dafa4663ad4a4323_bg.wasm"));
        assert!(!is_content_hashed("swagger-ui-bundle.js"));
        assert!(!is_content_hashed("index.html"));
    }

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
