//! The app's pages, rendered on the server: the frontend's Leptos components through
//! leptos_axum, inside the `<head>` Trunk built (hashed asset names, integrity, the wasm
//! loader), then hydrated by that bundle in the browser.
//!
//! Before rendering, the handler reads the signed-in user (which may slide the session's
//! deadline: that write happens here, never while the page renders) and hands the
//! components a [`ServerRender`] whose data comes from the same services the JSON handlers
//! use. A path that is not in the app's route list gets the not-found page with status 404.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use frontend::{AccountData, BoxFuture, ClientError, PageData, ServedPage, ServerRender};
use leptos::nonce::{Nonce, use_nonce};
use leptos::prelude::*;
use leptos::tachys::html::InertElement;
use leptos_meta::MetaTags;
use shared::{ListQuery, User};

use crate::auth::two_factor;
use crate::error::ApiError;
use crate::extract::CurrentUser;
use crate::headers;
use crate::kept_pages::{self, KeptPages};
use crate::state::AppState;

/// The rendered pages and what they are rendered into.
#[derive(Debug)]
pub struct Pages {
    /// Trunk's `<head>` content, its `<title>` removed: each page names itself.
    head: Arc<str>,
    /// The CSP hash of Trunk's inline loader script.
    loader_hash: Option<String>,
    /// The app's page paths.
    paths: &'static HashSet<String>,
    /// Pages rendered before, for the next view of the same page by the same viewer.
    kept: KeptPages,
}

impl Pages {
    /// From the bundle Trunk built into `dir`, keeping up to `kept_bytes` of rendered pages.
    pub fn open(dir: &std::path::Path, kept_bytes: u64) -> anyhow::Result<Self> {
        let path = dir.join("index.html");
        let index_html =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Self::new(&index_html, KeptPages::new(kept_bytes)))
    }

    /// From the `index.html` Trunk built.
    fn new(index_html: &str, kept: KeptPages) -> Self {
        // A page without a head (a placeholder index.html) still renders, just unstyled.
        let head = head_of(index_html).unwrap_or_default();
        Self {
            head: without_title(head).into(),
            loader_hash: headers::inline_script_hash(index_html),
            paths: page_paths(),
            kept,
        }
    }

    /// How many rendered pages are kept for a next view.
    pub fn kept_pages(&self) -> usize {
        self.kept.count()
    }

    /// Whether `path` is one of the app's pages.
    pub fn is_page(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// Renders the page `request` names for `user`; `answer` is what it shows because it
    /// answers a browser's form post.
    /// A 404 for paths outside the route list; otherwise `status`, or with `status` 200 the
    /// status of the page's data when loading it failed (leptos's own redirects, such as the
    /// account page's for a signed-out visitor, keep theirs).
    /// With `address` (a response to a request to another address, a form post's), the page
    /// first sets the browser's address to it, the page's own, so that hydration routes to
    /// the page that was rendered, and a reload asks for that page rather than posting again.
    /// A plain view (200, no form post to answer) is sent as kept when the same viewer was
    /// shown it at the catalogue's current version, and kept for the next one otherwise
    /// (see [`kept_pages`]).
    pub async fn render(
        &self,
        state: AppState,
        request: Request,
        user: Option<CurrentUser>,
        status: StatusCode,
        answer: frontend::PostAnswer,
        address: Option<String>,
    ) -> Response {
        let status = if self.is_page(request.uri().path()) { status } else { StatusCode::NOT_FOUND };
        let nonce = Nonce::new();
        let reads = Reads::default();
        let _watch =
            SlowRender { started: Instant::now(), path: request.uri().clone(), reads: reads.clone() };
        let viewer = user.as_ref().map(|user| user.account.view());
        // Only a plain view of a page is kept: never a form post's answer.
        let plain =
            status == StatusCode::OK && address.is_none() && answer == frontend::PostAnswer::default();
        let kept = match plain.then(|| self.kept_key(request.uri(), viewer.as_ref())).flatten() {
            // A failed read keeps nothing; the page's own read of the catalogue reports it.
            Some(key) => reads.counted(state.catalogue.version()).await.ok().map(|version| (key, version)),
            None => None,
        };
        if let Some(page) =
            kept.as_ref().and_then(|(key, version)| self.kept.get(key, viewer.as_ref(), *version))
        {
            return self.finish(page.response(&nonce.to_string()), &nonce);
        }
        let render = ServerRender {
            user: viewer.clone(),
            answer,
            data: Arc::new(Services {
                state,
                user,
                version: kept.as_ref().map(|(_, version)| *version),
                reads: reads.clone(),
            }),
        };
        let context = {
            let nonce = nonce.clone();
            // Replaces the nonce leptos_axum made, so this handler knows it for the CSP.
            move || {
                provide_context(render.clone());
                provide_context(nonce.clone());
            }
        };
        let head = Arc::clone(&self.head);
        let handler = leptos_axum::render_app_async_with_context(context, move || {
            shell(Arc::clone(&head), address.clone())
        });
        let mut response = handler(request).await;
        if !response.status().is_redirection() {
            // A page that rendered fine but whose data failed answers with that failure.
            let failed = reads.failure().filter(|_| status == StatusCode::OK);
            *response.status_mut() = failed.unwrap_or(status);
        }
        let response = match kept {
            Some((key, version)) if is_keepable(&response, &reads) => {
                self.keep(response, key, viewer, version, &nonce).await
            }
            _ => response,
        };
        self.finish(response, &nonce)
    }

    /// Keeps the rendered `response` for the next view by `viewer` at catalogue `version`,
    /// and hands it back whole.
    async fn keep(
        &self,
        response: Response,
        key: kept_pages::Key,
        viewer: Option<User>,
        version: i64,
        nonce: &Nonce,
    ) -> Response {
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(err) => {
                return ApiError::Internal(anyhow::anyhow!("rendering the page: {err}")).into_response();
            }
        };
        if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
            let page = kept_pages::Page::new(&body, &nonce.to_string(), content_type.clone());
            self.kept.keep(key, viewer, version, page);
        }
        Response::from_parts(parts, Body::from(body))
    }

    /// The key a plain view of `uri` by `viewer` is kept under, when keeping is on.
    fn kept_key(&self, uri: &Uri, viewer: Option<&User>) -> Option<kept_pages::Key> {
        let address = uri.path_and_query().map_or("/", |address| address.as_str());
        self.kept.is_on().then(|| kept_pages::Key::new(address, viewer)).flatten()
    }

    /// The headers every page gets: its CSP with this response's nonce, and no caching.
    fn finish(&self, mut response: Response, nonce: &Nonce) -> Response {
        let headers = response.headers_mut();
        let csp = headers::page_csp(self.loader_hash.as_deref(), &nonce.to_string());
        match HeaderValue::from_str(&csp) {
            Ok(csp) => headers.insert(header::CONTENT_SECURITY_POLICY, csp),
            Err(err) => return ApiError::Internal(err.into()).into_response(),
        };
        // `no-referrer` would make the browser send `Origin: null` with the page's own form
        // posts, which the cross-site check refuses; `same-origin` still sends nothing to
        // other sites.
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        // Personal (the header names the user): never stored, and never shared across cookies.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::VARY, HeaderValue::from_static("Cookie"));
        response
    }

    /// Renders the page at `path_and_query` for `user` as the answer to a browser's form
    /// post, under `status`.
    pub async fn answer(
        &self,
        state: AppState,
        path_and_query: &str,
        user: Option<CurrentUser>,
        status: StatusCode,
        answer: frontend::PostAnswer,
    ) -> Response {
        match Request::get(path_and_query).body(Body::empty()) {
            Ok(request) => {
                let address = Some(path_and_query.to_owned());
                self.render(state, request, user, status, answer, address).await
            }
            Err(err) => ApiError::Internal(err.into()).into_response(),
        }
    }

    /// Renders the page at `path_and_query` as the answer to a browser's post of `form` (its
    /// action's path) that was refused with `error`: the form again, with the message and
    /// what was typed.
    pub async fn refused(
        &self,
        state: AppState,
        path_and_query: &str,
        user: Option<CurrentUser>,
        form: &str,
        username: String,
        error: ApiError,
    ) -> Response {
        let (status, extra, body) = error.answer();
        let echo = frontend::FormEcho { form: form.to_owned(), username, error: body };
        let answer = frontend::PostAnswer { echo: Some(echo), ..Default::default() };
        let mut response = self.answer(state, path_and_query, user, status, answer).await;
        response.headers_mut().extend(extra);
        response
    }
}

/// The app's page paths, from leptos_axum's route list, made once per process.
///
/// Once, because while leptos generates a route list, any resource in the process whose
/// fetch starts then never loads: the generation raises a process-wide flag that makes
/// resources wait for ever, and a resource looks at it only once (leptos issue #4773). A
/// page rendering then never finished: seen when a test started a server, and so generated
/// the list, while another test's server rendered
/// (`pages::pages_render_while_other_servers_start_in_the_same_process`). Made on the first
/// server's start, before any page can render, it cannot overlap a render.
fn page_paths() -> &'static HashSet<String> {
    static PATHS: OnceLock<HashSet<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        leptos_axum::generate_route_list(frontend::App).iter().map(|route| route.path().to_owned()).collect()
    })
}

/// The whole document: Trunk's head, then the app as the body's content (what
/// `hydrate_body` in the browser takes over). With `address`, the head first replaces the
/// browser's address with it (see [`Pages::render`]), before the bundle's module script
/// runs.
fn shell(head: Arc<str>, address: Option<String>) -> impl IntoView {
    let set_address = address.map(|address| {
        // A JSON string is a JS string literal; `<\/` keeps `</script>` out of it.
        let literal = serde_json::to_string(&address).unwrap_or_default().replace("</", "<\\/");
        let nonce = use_nonce();
        // Raw (`inner_html`): text children would be HTML-escaped, which a script must not be.
        view! { <script nonce=nonce inner_html=format!("history.replaceState(null, \"\", {literal});")></script> }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                {set_address}
                {InertElement::new(head.to_string())}
                <MetaTags />
            </head>
            <body>
                <frontend::App />
            </body>
        </html>
    }
}

/// The inside of the document's `<head>`.
fn head_of(html: &str) -> Option<&str> {
    let start = html.find("<head>")? + "<head>".len();
    let end = start + html[start..].find("</head>")?;
    Some(html[start..end].trim())
}

/// `head` without its `<title>…</title>`.
fn without_title(head: &str) -> String {
    match (head.find("<title>"), head.find("</title>")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &head[..start], &head[end + "</title>".len()..])
        }
        _ => head.to_owned(),
    }
}

/// The server's services, for the components of one request.
struct Services {
    state: AppState,
    user: Option<CurrentUser>,
    /// The catalogue version this request already read (to keep the page under it).
    version: Option<i64>,
    reads: Reads,
}

impl PageData for Services {
    fn tracks(&self, query: ListQuery) -> BoxFuture<Result<ServedPage, ClientError>> {
        let (state, reads, version) = (self.state.clone(), self.reads.clone(), self.version);
        Box::pin(async move {
            query.validate().map_err(|fields| reads.note(ApiError::invalid_fields(fields)))?;
            // The page the JSON handler sends, from the same cache.
            let page = (&query).into();
            let page = match version {
                Some(version) => reads.counted(state.catalogue.get_at(page, version)).await,
                None => reads.counted(state.catalogue.get(page)).await,
            };
            page.map_err(|err| reads.note(err))
        })
    }

    fn account(&self) -> BoxFuture<Result<AccountData, ClientError>> {
        let (state, reads) = (self.state.clone(), self.reads.clone());
        let user = self.user.clone();
        reads.note_personal();
        Box::pin(async move {
            let user = user.ok_or_else(|| reads.note(ApiError::NotAuthenticated))?;
            let load = async {
                let sessions = state.sessions.list(user.account.id, &user.signed_in.reference).await?;
                let offered = state.sessions.offered_key(&user.session).await?;
                let two_step = two_factor::status(&state.db, &user.account, offered.as_deref()).await?;
                Ok::<_, ApiError>(AccountData { sessions, two_step })
            };
            reads.counted(load).await.map_err(|err| reads.note(err))
        })
    }
}

/// What a page's data reads did that decides its answer: the first failure (the page shows
/// its message and answers with its status: a page whose catalogue is out of reach is a
/// 503, not a 200), and whether the page read anything of its user beyond the header's
/// facts (then it is never kept for a next view).
#[derive(Clone, Default)]
struct Reads(Arc<ReadsInner>);

#[derive(Default)]
struct ReadsInner {
    failure: OnceLock<StatusCode>,
    personal: AtomicBool,
    /// Data reads begun and ended, for [`SlowRender`]'s account of where the time went.
    begun: AtomicU32,
    ended: AtomicU32,
}

impl Reads {
    /// What the page shows of `error` (logged here, once, like any error answer).
    fn note(&self, error: impl Into<ApiError>) -> ClientError {
        let (status, _, body) = error.into().answer();
        // Only the first counts; later ones are shown but do not change the status.
        let _ = self.0.failure.set(status);
        ClientError::Api { status: status.as_u16(), body }
    }

    fn failure(&self) -> Option<StatusCode> {
        self.0.failure.get().copied()
    }

    /// Data reads begun and ended so far, for the warning about slow renders.
    fn counts(&self) -> (u32, u32) {
        (self.0.begun.load(Ordering::Relaxed), self.0.ended.load(Ordering::Relaxed))
    }

    /// Runs a data read, counted.
    async fn counted<T>(&self, read: impl Future<Output = T>) -> T {
        self.0.begun.fetch_add(1, Ordering::Relaxed);
        let result = read.await;
        self.0.ended.fetch_add(1, Ordering::Relaxed);
        result
    }

    fn note_personal(&self) {
        self.0.personal.store(true, Ordering::Relaxed);
    }

    fn is_personal(&self) -> bool {
        self.0.personal.load(Ordering::Relaxed)
    }
}

/// Logs a render that took more than a second, or never ended (a request timeout drops it),
/// with how many of its data reads had begun and ended: whether the time went in a read or in
/// leptos (the render that never finished, see [`page_paths`], showed as one read begun and
/// ended, the page's own never begun).
struct SlowRender {
    started: Instant,
    path: Uri,
    reads: Reads,
}

impl Drop for SlowRender {
    fn drop(&mut self) {
        let took = self.started.elapsed();
        if took > Duration::from_secs(1) {
            let (begun, ended) = self.reads.counts();
            tracing::warn!(took_ms = took.as_millis(), path = %self.path, data_reads_begun = begun, data_reads_ended = ended, "a page took over a second to render");
        }
    }
}

/// Whether a rendered page can be kept: a plain 200 whose data read nothing personal, with
/// no header of its own but its type (leptos adds others for redirects and the like).
fn is_keepable(response: &Response, reads: &Reads) -> bool {
    response.status() == StatusCode::OK
        && reads.failure().is_none()
        && !reads.is_personal()
        && response.headers().len() == 1
        && response.headers().contains_key(header::CONTENT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::{head_of, without_title};

    #[test]
    fn the_head_is_taken_without_its_title() {
        let page = "<html><head>\n<meta charset=\"utf-8\"><title>Tracklist</title><link rel=\"x\">\n</head><body></body></html>";
        let head = head_of(page).expect("a head");
        assert_eq!(without_title(head), "<meta charset=\"utf-8\"><link rel=\"x\">");
    }
}
