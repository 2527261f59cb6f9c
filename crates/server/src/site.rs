//! What a browser gets outside the API (`--static-dir`): the app's pages rendered on the
//! server (see `pages`), the bundle's files with long-lived caching (Trunk names them by
//! content hash), `/docs`, and never an HTML page where an API client expects JSON.

use std::path::Path;

use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::ApiError;
use crate::extract::CurrentUser;
use crate::state::AppState;

/// Path prefixes that belong to the API; the app's page routes avoid them.
const API_PREFIXES: [&str; 6] = ["/login", "/logout", "/users", "/tracks", "/healthz", "/readyz"];

/// The interactive API documentation (Swagger UI, copied into `dist/docs/` at build time).
const DOCS_PAGE: &str = "/docs";

/// Swagger UI sets inline styles; its scripts stay `'self'` only.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The bundle's files in `dir`.
#[derive(Debug, Clone)]
pub struct Site {
    files: ServeDir,
    docs: ServeFile,
}

impl Site {
    pub fn new(dir: &Path) -> Self {
        Self {
            // `scripts/lib.sh` writes `.gz` next to each asset at build time, so the wasm is
            // not compressed again on every request.
            files: ServeDir::new(dir).precompressed_gzip(),
            docs: ServeFile::new(dir.join("docs").join("index.html")),
        }
    }

    /// The router fallback: whatever no API route matched.
    pub async fn serve(self, state: AppState, request: Request) -> Response {
        let path = request.uri().path();
        if is_api_path(path) {
            return ApiError::NotFound("Not Found").into_response();
        }
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return ApiError::MethodNotAllowed.into_response();
        }
        // Pages have no file extension; anything with one is a file.
        let name = path.rsplit('/').next().unwrap_or_default();
        let (response, immutable) = if path.trim_end_matches('/') == DOCS_PAGE {
            let mut response = self.docs.oneshot(request).await.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
            (response, false)
        } else if name.contains('.') {
            let immutable = is_content_hashed(name);
            (self.files.oneshot(request).await.into_response(), immutable)
        } else {
            return page(state, request).await;
        };
        with_caching(response, immutable)
    }
}

/// A file's answer: a JSON 404 when missing; cached for a year when its name is its hash.
fn with_caching(mut response: Response, immutable: bool) -> Response {
    if response.status() == StatusCode::NOT_FOUND {
        return ApiError::NotFound("Not Found").into_response();
    }
    let cache = if immutable && response.status().is_success() {
        // Content-hashed names: a changed file gets a new name.
        "public, max-age=31536000, immutable"
    } else {
        // Unhashed files may change: revalidate.
        "no-cache"
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// A page, for whoever is signed in (the session is read, and may slide, before rendering).
async fn page(state: AppState, request: Request) -> Response {
    let Some(pages) = state.pages.as_ref() else {
        return ApiError::NotFound("Not Found").into_response();
    };
    let (mut parts, body) = request.into_parts();
    let user = match Option::<CurrentUser>::from_request_parts(&mut parts, &state).await {
        Ok(user) => user,
        Err(err) => return err.into_response(),
    };
    pages
        .render(
            state.clone(),
            Request::from_parts(parts, body),
            user,
            StatusCode::OK,
            Default::default(),
            None,
        )
        .await
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
    use super::{is_api_path, is_content_hashed};

    #[test]
    fn only_trunk_hashed_names_count_as_immutable() {
        assert!(is_content_hashed("frontend-9de1562bdd0f43e5.js"));
        assert!(is_content_hashed("frontend-dafa4663ad4a4323_bg.wasm"));
        assert!(!is_content_hashed("swagger-ui-bundle.js"));
        assert!(!is_content_hashed("index.html"));
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
