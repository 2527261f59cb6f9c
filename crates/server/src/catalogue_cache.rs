//! Pages of the catalogue as sent (JSON), kept in memory against the catalogue's version.
//!
//! Every change to `tracks` moves `catalogue_version` in the same transaction (a trigger, see
//! the migrations), and every page request reads that version from the database first: a
//! kept page is sent only if it was read at the current version. A change made anywhere
//! (another instance, the command line, plain SQL) therefore shows on the very next read on
//! every instance; the cache saves the query and the JSON encoding, never freshness. The
//! version is one row by primary key: on SQLite about a microsecond on the request's thread;
//! on PostgreSQL a round trip, which the requests waiting at the same moment share
//! ([`SharedReads`]).

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use shared::Track;
use tokio::sync::oneshot;

use crate::db::tracks::Page;
use crate::db::{self, Db};
use crate::error::{ApiError, Result};
use crate::metrics;

#[derive(Clone)]
pub struct PageCache(Option<Arc<Cached>>);

struct Cached {
    pages: Cache<Page, Kept, ByBytes>,
    versions: Arc<SharedReads>,
}

#[derive(Clone)]
struct Kept {
    version: i64,
    body: Bytes,
}

/// Weighs an entry by the memory it holds.
#[derive(Clone)]
struct ByBytes;

impl Weighter<Page, Kept> for ByBytes {
    fn weight(&self, page: &Page, kept: &Kept) -> u64 {
        // The fixed part stands for the entry's own bookkeeping, so empty pages count too.
        (kept.body.len() + page.term.as_ref().map_or(0, String::len) + 64) as u64
    }
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
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
    /// A cache holding at most `bytes` of pages; 0 turns it off (every page is read).
    pub fn new(bytes: u64) -> Self {
        /// A page of 20 tracks is about 4 KiB of JSON; only sizes the cache's table.
        const TYPICAL_PAGE: u64 = 4096;
        let items = usize::try_from(bytes / TYPICAL_PAGE).unwrap_or(usize::MAX).max(1);
        Self((bytes > 0).then(|| {
            Arc::new(Cached { pages: Cache::with_weighter(items, bytes, ByBytes), versions: Arc::default() })
        }))
    }

    /// The page as JSON: the kept copy if it was read at the catalogue's current version,
    /// otherwise read now (and kept).
    pub async fn get(&self, db: &Db, page: Page) -> Result<Bytes> {
        let Some(cache) = &self.0 else { return encode(&db::tracks::list(db, &page).await?) };
        // The version first, the rows second: rows are then never older than the version
        // they are kept under. (The other way round, a change committed in between would
        // leave old rows kept under the new version, served until the next change.)
        let version = match db {
            Db::Sqlite { .. } => db::tracks::version(db).await?,
            Db::Postgres { .. } => cache.versions.read(db).await?,
        };
        if let Some(kept) = cache.pages.get(&page).filter(|kept| kept.version == version) {
            metrics::page_cache("hit");
            return Ok(kept.body);
        }
        metrics::page_cache("miss");
        let body = encode(&db::tracks::list(db, &page).await?)?;
        cache.pages.insert(page, Kept { version, body: body.clone() });
        Ok(body)
    }
}

/// Reads of the catalogue version that the requests waiting at the same moment share: one
/// round trip answers every request that arrived before it started, and requests arriving
/// during it wait for the next one. Under load that turns a round trip per request into one
/// per batch, and it gives nothing up: a request never takes the answer of a read that
/// started before the request arrived (which could miss a change committed just before it).
#[derive(Default)]
struct SharedReads(Mutex<Waiting>);

type Answer = std::result::Result<i64, Arc<db::Error>>;

#[derive(Default)]
struct Waiting {
    reading: bool,
    requests: Vec<oneshot::Sender<Answer>>,
}

impl SharedReads {
    async fn read(self: &Arc<Self>, db: &Db) -> Result<i64> {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut waiting = self.waiting();
            waiting.requests.push(answer);
            !std::mem::replace(&mut waiting.reading, true)
        };
        if start {
            // A task of its own: a request that goes away must not strand the others.
            tokio::spawn(Arc::clone(self).serve(db.clone()));
        }
        match answered.await {
            Ok(Ok(version)) => Ok(version),
            Ok(Err(err)) if err.is_unavailable() => Err(ApiError::Unavailable),
            Ok(Err(err)) => Err(ApiError::Internal(anyhow::anyhow!("reading the catalogue version: {err}"))),
            // The reader ended without answering (it cannot panic short of a bug): read alone.
            Err(_) => Ok(db::tracks::version(db).await?),
        }
    }

    /// Reads for the waiting requests until none are left.
    async fn serve(self: Arc<Self>, db: Db) {
        let mut unfinished = Unfinished(Some(&self));
        loop {
            let requests = {
                let mut waiting = self.waiting();
                if waiting.requests.is_empty() {
                    // Under the same lock as the check, so no request can slip in unserved.
                    waiting.reading = false;
                    break;
                }
                std::mem::take(&mut waiting.requests)
            };
            let answer = db::tracks::version(&db).await.map_err(Arc::new);
            if let Err(err) = &answer {
                tracing::error!(%err, "cannot read the catalogue version");
            }
            for request in requests {
                // A request that went away meanwhile no longer listens.
                let _ = request.send(answer.clone());
            }
        }
        unfinished.0 = None;
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// If [`SharedReads::serve`] ends any other way than running out of requests (a panic, or
/// the runtime shutting down), lets the waiting requests go (they read alone) and the next
/// request start a reader; otherwise `reading` would stay set and every later page wait.
struct Unfinished<'a>(Option<&'a SharedReads>);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if let Some(reads) = self.0 {
            let mut waiting = reads.waiting();
            waiting.reading = false;
            waiting.requests.clear();
        }
    }
}

fn encode(tracks: &[Track]) -> Result<Bytes> {
    Ok(serde_json::to_vec(tracks).map_err(anyhow::Error::from)?.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(term: &str) -> Page {
        Page { term: Some(term.into()), skip: 0, limit: 20 }
    }

    #[test]
    fn the_cache_holds_no_more_than_its_bytes() {
        let PageCache(Some(cache)) = PageCache::new(10_000) else { panic!("the cache is off") };
        for n in 0..100 {
            cache
                .pages
                .insert(page(&n.to_string()), Kept { version: 1, body: Bytes::from(vec![b' '; 1_000]) });
        }
        assert!(cache.pages.weight() <= 10_000, "holds {} bytes", cache.pages.weight());
        assert!(cache.pages.len() < 100);
    }

    #[test]
    fn size_zero_turns_the_cache_off() {
        assert!(PageCache::new(0).0.is_none());
    }
}
