//! Reads of the catalogue version that concurrent page requests share, on PostgreSQL, where
//! each read is a round trip (see `tracks::version`).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use super::tracks::read_version;
use super::{self as db, Db};

/// Reads of the catalogue version that the requests waiting at the same moment share: one
/// round trip answers every request that arrived before it started, and requests arriving
/// during it wait for the next one. Under load that turns a round trip per request into one
/// per batch, and it gives nothing up: a request never takes the answer of a read that
/// started before the request arrived (which could miss a change committed just before it).
#[derive(Default)]
pub struct SharedReads(Mutex<Waiting>);

impl std::fmt::Debug for SharedReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedReads")
    }
}

type Answer = std::result::Result<i64, Arc<db::Error>>;

#[derive(Default)]
struct Waiting {
    reading: bool,
    requests: Vec<oneshot::Sender<Answer>>,
}

impl SharedReads {
    /// The catalogue version, from a read that started after this call.
    pub async fn read(self: &Arc<Self>, db: &Db) -> db::Result<i64> {
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
            Ok(answer) => answer.map_err(db::Error::Shared),
            // The reader ended without answering (it cannot panic short of a bug): read alone.
            Err(_) => read_version(db).await,
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
            // A failure is logged by each request's error response, not here.
            let answer = read_version(&db).await.map_err(Arc::new);
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
