//! Rendered pages kept for the next request of the same page by the same viewer, while the
//! catalogue is unchanged.
//!
//! What a page shows is decided by its address, the signed-in user's facts (`shared::User`:
//! the header names them) and the catalogue; a page that read anything else of its user (the
//! account page's sessions), answered a form post, failed, or redirected is never kept (see
//! `pages::Pages::render`). A kept page is sent only if it was kept at the catalogue version
//! read for this request, and only to a viewer whose facts are equal to the ones it was
//! rendered for, so a rename or a change of role renders anew.
//!
//! Each response still has a nonce of its own: a page is kept as the parts between the
//! occurrences of the nonce it was rendered with (128 random bits, which nothing else on the
//! page can contain), and sent with a fresh one in their place.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use shared::User;

use crate::metrics;

/// Longer addresses are rendered every time rather than fill the cache with their keys.
const LONGEST_KEPT_ADDRESS: usize = 512;

#[derive(Clone)]
pub struct KeptPages(Option<Arc<Cache<Key, Kept, ByBytes>>>);

/// A page for a viewer: the address, and the signed-in user's id (`None`: signed out).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    address: Box<str>,
    user: Option<i64>,
}

#[derive(Clone)]
struct Kept {
    version: i64,
    user: Option<User>,
    page: Page,
}

/// A rendered page without its nonce: the body is `parts` joined by the nonce.
#[derive(Clone)]
pub struct Page {
    parts: Arc<[Bytes]>,
    content_type: HeaderValue,
}

/// Weighs an entry by the memory it holds; the fixed part stands for its bookkeeping.
#[derive(Clone)]
struct ByBytes;

impl Weighter<Key, Kept> for ByBytes {
    fn weight(&self, key: &Key, kept: &Kept) -> u64 {
        let body: usize = kept.page.parts.iter().map(Bytes::len).sum();
        (body + key.address.len() + 64 * kept.page.parts.len() + 128) as u64
    }
}

impl std::fmt::Debug for KeptPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(cache) => f
                .debug_struct("KeptPages")
                .field("pages", &cache.len())
                .field("bytes", &cache.weight())
                .finish(),
            None => f.write_str("KeptPages(off)"),
        }
    }
}

impl Key {
    /// The key of the page at `address` for `user`; `None` for an address too long to keep.
    pub fn new(address: &str, user: Option<&User>) -> Option<Self> {
        (address.len() <= LONGEST_KEPT_ADDRESS)
            .then(|| Self { address: address.into(), user: user.map(|user| user.id) })
    }
}

impl KeptPages {
    /// At most `bytes` of pages; 0 turns keeping off (every page is rendered).
    pub fn new(bytes: u64) -> Self {
        /// A library page of 20 tracks is about 20 KiB; only sizes the cache's table.
        const TYPICAL_PAGE: u64 = 20 * 1024;
        let items = usize::try_from(bytes / TYPICAL_PAGE).unwrap_or(usize::MAX).max(1);
        Self((bytes > 0).then(|| Arc::new(Cache::with_weighter(items, bytes, ByBytes))))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// How many pages are kept.
    pub fn count(&self) -> usize {
        self.0.as_ref().map_or(0, |cache| cache.len())
    }

    /// The page kept for `key` at catalogue `version`, if it was rendered for `user`.
    pub fn get(&self, key: &Key, user: Option<&User>, version: i64) -> Option<Page> {
        let kept =
            self.0.as_ref()?.get(key).filter(|kept| kept.version == version && kept.user.as_ref() == user);
        metrics::kept_page(if kept.is_some() { "hit" } else { "miss" });
        kept.map(|kept| kept.page)
    }

    /// Keeps `page`, rendered for `user` after catalogue `version` was read. Its data may be
    /// of a later version (a change committed meanwhile); then it is sent only to requests
    /// that also read the earlier one, which overlapped that change.
    pub fn keep(&self, key: Key, user: Option<User>, version: i64, page: Page) {
        if let Some(cache) = &self.0 {
            cache.insert(key, Kept { version, user, page });
        }
    }
}

impl Page {
    /// The page whose `body` was rendered with `nonce`.
    pub fn new(body: &Bytes, nonce: &str, content_type: HeaderValue) -> Self {
        let mut parts = Vec::new();
        let mut rest = body.clone();
        // (An empty nonce would be found everywhere, and forever.)
        while let Some(at) = memchr::memmem::find(&rest, nonce.as_bytes()).filter(|_| !nonce.is_empty()) {
            parts.push(rest.split_to(at));
            let _nonce = rest.split_to(nonce.len());
        }
        parts.push(rest);
        Self { parts: parts.into(), content_type }
    }

    /// The page as a response, with `nonce` wherever its own was.
    pub fn response(&self, nonce: &str) -> Response {
        let mut response = Response::new(Body::from(self.with_nonce(nonce)));
        response.headers_mut().insert(header::CONTENT_TYPE, self.content_type.clone());
        response
    }

    fn with_nonce(&self, nonce: &str) -> Bytes {
        let length = self.parts.iter().map(Bytes::len).sum::<usize>() + nonce.len() * (self.parts.len() - 1);
        let mut body = Vec::with_capacity(length);
        for (n, part) in self.parts.iter().enumerate() {
            if n > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(part);
        }
        body.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &'static [u8], nonce: &str) -> Page {
        Page::new(&Bytes::from_static(body), nonce, HeaderValue::from_static("text/html"))
    }

    fn user(id: i64, username: &str, is_admin: bool) -> User {
        User { id, username: username.into(), is_admin }
    }

    #[test]
    fn a_kept_page_gets_each_response_its_own_nonce() {
        let kept = page(b"<script nonce=\"AAAA\">1</script><p>x</p><script nonce=\"AAAA\"></script>", "AAAA");
        assert_eq!(
            kept.with_nonce("bbbbbb"),
            Bytes::from_static(
                b"<script nonce=\"bbbbbb\">1</script><p>x</p><script nonce=\"bbbbbb\"></script>"
            )
        );
        assert_eq!(page(b"no nonce", "AAAA").with_nonce("b"), "no nonce");
        assert_eq!(page(b"an empty one", "").with_nonce("b"), "an empty one");
    }

    #[test]
    fn a_page_is_sent_only_at_its_version_and_to_a_viewer_with_the_same_facts() {
        let kept = KeptPages::new(1 << 20);
        let alice = user(1, "alice", false);
        let key = Key::new("/", Some(&alice)).expect("a short address");
        kept.keep(key.clone(), Some(alice.clone()), 7, page(b"alice's page", "N"));

        assert!(kept.get(&key, Some(&alice), 7).is_some());
        assert!(kept.get(&key, Some(&alice), 8).is_none(), "the catalogue changed");
        assert!(kept.get(&key, Some(&user(1, "alice2", false)), 7).is_none(), "renamed");
        assert!(kept.get(&key, Some(&user(1, "alice", true)), 7).is_none(), "made an admin");
        assert!(kept.get(&key, None, 7).is_none(), "signed out");
        let signed_out = Key::new("/", None).expect("a short address");
        assert!(kept.get(&signed_out, None, 7).is_none(), "another viewer's key");
    }

    #[test]
    fn long_addresses_are_not_kept_and_size_zero_turns_keeping_off() {
        assert!(Key::new(&format!("/?q={}", "a".repeat(LONGEST_KEPT_ADDRESS)), None).is_none());
        assert!(!KeptPages::new(0).is_on());
    }

    #[test]
    fn the_cache_holds_no_more_than_its_bytes() {
        let kept = KeptPages::new(10_000);
        for n in 0..100 {
            let key = Key::new(&format!("/?skip={n}"), None).expect("a short address");
            let body = Bytes::from(vec![b' '; 300]);
            kept.keep(key, None, 1, Page::new(&body, "N", HeaderValue::from_static("text/html")));
        }
        let cache = kept.0.expect("on");
        assert!(cache.weight() <= 10_000, "holds {} bytes", cache.weight());
    }
}
