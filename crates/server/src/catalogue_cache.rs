//! Pages of the catalogue as sent (JSON), kept in memory against the catalogue's version,
//! with the library's table of each once a rendered page made it (see `frontend::ServedPage`).
//!
//! Every change to `tracks` moves `catalogue_version` in the same transaction (a trigger, see
//! the migrations), and every page request reads that version from the database first: a
//! kept page is sent only if it was read at the current version. A change made anywhere
//! (another instance, the command line, plain SQL) therefore shows on the very next read on
//! every instance; the cache saves the query and the JSON encoding, never freshness. The
//! version is one row by primary key (`db::tracks::Catalogue::version`).

use std::sync::Arc;

use frontend::ServedPage;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::db::tracks::{Catalogue, Page, PageJson, TYPICAL_PAGE_BYTES};
use crate::error::Result;
use crate::metrics;

/// The catalogue's pages as the API and the rendered pages ask for them: read through
/// `reads`, and kept when `cached` is on.
#[derive(Clone)]
pub struct PageCache {
    reads: Catalogue,
    cached: Option<Arc<Cached>>,
}

struct Cached {
    pages: Cache<Page, Kept, ByBytes>,
}

impl Cached {
    /// A cache holding at most `bytes` of pages, or none for 0.
    fn holding(bytes: u64) -> Option<Arc<Self>> {
        // Only sizes the cache's table; the bytes bound what it holds.
        let items = usize::try_from(bytes / TYPICAL_PAGE_BYTES as u64).unwrap_or(usize::MAX).max(1);
        (bytes > 0).then(|| Arc::new(Self { pages: Cache::with_weighter(items, bytes, ByBytes) }))
    }
}

#[derive(Clone)]
struct Kept {
    version: i64,
    page: ServedPage,
}

/// Weighs an entry by the memory it holds.
#[derive(Clone)]
struct ByBytes;

impl Weighter<Page, Kept> for ByBytes {
    fn weight(&self, page: &Page, kept: &Kept) -> u64 {
        // The table rendered from the JSON later is about twice its size; the weight is fixed
        // on insertion, so it is counted from the start. The fixed part stands for the entry's
        // own bookkeeping, so empty pages count too.
        (kept.page.json.len() * 3 + page.term.as_ref().map_or(0, String::len) + 64) as u64
    }
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cached {
            Some(cache) => f
                .debug_struct("PageCache")
                .field("pages", &cache.pages.len())
                .field("bytes", &cache.pages.weight())
                .finish(),
            None => f.write_str("PageCache(off)"),
        }
    }
}

impl PageCache {
    /// Pages read through `reads`, holding at most `bytes` of them; 0 turns the cache off
    /// (every page is read).
    pub fn new(reads: Catalogue, bytes: u64) -> Self {
        Self { reads, cached: Cached::holding(bytes) }
    }

    /// The reads the pages come from.
    pub fn reads(&self) -> &Catalogue {
        &self.reads
    }

    /// The catalogue's current version (see [`Catalogue::version`]).
    pub async fn version(&self) -> Result<i64> {
        Ok(self.reads.version().await?)
    }

    /// The page: the kept copy if it was read at the catalogue's current version, otherwise
    /// read now (and kept).
    pub async fn get(&self, page: Page) -> Result<ServedPage> {
        if self.cached.is_none() {
            return Ok(served(self.reads.list(page).await?));
        }
        // The version first, the rows second: rows are then never older than the version
        // they are kept under. (The other way round, a change committed in between would
        // leave old rows kept under the new version, served until the next change.)
        self.get_at(page, self.reads.version().await?).await
    }

    /// [`get`](Self::get) for a caller that has just read the catalogue's `version` itself
    /// (a rendered page, which keeps itself under that version too): one read, not two.
    pub async fn get_at(&self, page: Page, version: i64) -> Result<ServedPage> {
        let Some(cache) = &self.cached else { return Ok(served(self.reads.list(page).await?)) };
        if let Some(kept) = cache.pages.get(&page).filter(|kept| kept.version == version) {
            metrics::page_cache("hit");
            return Ok(kept.page);
        }
        metrics::page_cache("miss");
        let fresh = served(self.reads.list(page.clone()).await?);
        cache.pages.insert(page, Kept { version, page: fresh.clone() });
        Ok(fresh)
    }
}

/// A page as read (already JSON), not rendered yet.
fn served(page: PageJson) -> ServedPage {
    ServedPage::new(page.json, page.len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(term: &str) -> Page {
        Page { term: Some(term.into()), skip: 0, limit: 20 }
    }

    #[test]
    fn the_cache_holds_no_more_than_its_bytes() {
        let Some(cache) = Cached::holding(10_000) else { panic!("the cache is off") };
        for n in 0..100 {
            cache.pages.insert(
                page(&n.to_string()),
                Kept { version: 1, page: ServedPage::new(vec![b' '; 300].into(), 0) },
            );
        }
        assert!(cache.pages.weight() <= 10_000, "holds {} bytes", cache.pages.weight());
        assert!(cache.pages.len() < 100);
    }

    #[test]
    fn size_zero_turns_the_cache_off() {
        assert!(Cached::holding(0).is_none());
    }
}
