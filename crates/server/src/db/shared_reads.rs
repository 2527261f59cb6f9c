//! Reads that concurrent requests share: the catalogue's pages (`tracks::Catalogue::list`),
//! and on PostgreSQL, where each is a round trip, the catalogue's version.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use super as db;

/// Reads of one kind, shared by the requests asking for the same key at the same moment. The
/// first request for a key reads it itself, after letting the requests ready to run on its
/// thread ask too (those share its read); the requests that ask while that read is under way
/// wait for the next one, which one task makes for all of them, and so on while requests
/// keep coming. Under load that turns a read per request into one per batch, and it gives
/// nothing up: a request never takes the answer of a read that started before the request
/// arrived (which could miss a change committed just before it). It keeps nothing either: a
/// key is forgotten as soon as no request waits for it.
pub struct SharedReads<K, V>(Mutex<HashMap<K, Vec<oneshot::Sender<Answer<V>>>>>);

impl<K, V> Default for SharedReads<K, V> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

impl<K, V> std::fmt::Debug for SharedReads<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedReads")
    }
}

type Answer<V> = std::result::Result<V, Arc<db::Error>>;

impl<K, V> SharedReads<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + 'static,
{
    /// `read(source, key)`'s answer, from a read that started after this call. A key has an
    /// entry while it is being read, listing the requests that wait for a read of it that has
    /// not begun yet.
    pub async fn read<S, F, Fut>(self: &Arc<Self>, source: S, key: K, read: F) -> db::Result<V>
    where
        S: Clone + Send + 'static,
        F: Fn(S, K) -> Fut + Copy + Send + 'static,
        Fut: Future<Output = db::Result<V>> + Send + 'static,
    {
        let answered = {
            let mut waiting = self.waiting();
            match waiting.get_mut(&key) {
                Some(requests) => {
                    let (answer, answered) = oneshot::channel();
                    requests.push(answer);
                    Some(answered)
                }
                None => {
                    waiting.insert(key.clone(), Vec::new());
                    None
                }
            }
        };
        match answered {
            Some(answered) => match answered.await {
                Ok(answer) => answer.map_err(db::Error::Shared),
                // The reader ended without answering (it went away, or the runtime is
                // shutting down): read alone.
                Err(_) => read(source, key).await,
            },
            // Nobody was reading this key: read it here, on the request's own task (no hand-off
            // when nothing is shared), then pass the requests that came meanwhile on.
            None => {
                let unfinished = Unfinished(self, &key);
                // The requests ready to run on this thread get to ask first, and share this
                // read rather than wait for the next: it begins after they asked.
                tokio::task::yield_now().await;
                let joined = self.waiting().get_mut(&key).map(std::mem::take).unwrap_or_default();
                let answer = read(source.clone(), key.clone()).await;
                unfinished.finished();
                let answer = if joined.is_empty() {
                    answer
                } else {
                    let answer = answer.map_err(Arc::new);
                    send(joined, &answer);
                    answer.map_err(db::Error::Shared)
                };
                self.hand_over(source, key, read);
                answer
            }
        }
    }

    /// After a read of `key`: forgets the key if no request waits for it, or else starts a
    /// task that reads it for them. A task of its own: the request that read first has its
    /// answer and goes; and a request that goes away must not strand the others.
    fn hand_over<S, F, Fut>(self: &Arc<Self>, source: S, key: K, read: F)
    where
        S: Clone + Send + 'static,
        F: Fn(S, K) -> Fut + Send + 'static,
        Fut: Future<Output = db::Result<V>> + Send + 'static,
    {
        let mut waiting = self.waiting();
        if waiting.get(&key).is_some_and(|requests| !requests.is_empty()) {
            tokio::spawn(Arc::clone(self).serve(source, key, read));
        } else {
            waiting.remove(&key);
        }
    }

    /// Reads `key` for the requests waiting for it until none are left.
    async fn serve<S: Clone, F, Fut>(self: Arc<Self>, source: S, key: K, read: F)
    where
        F: Fn(S, K) -> Fut,
        Fut: Future<Output = db::Result<V>>,
    {
        let unfinished = Unfinished(&self, &key);
        loop {
            let requests = {
                let mut waiting = self.waiting();
                let Some(requests) = waiting.get_mut(&key).filter(|requests| !requests.is_empty()) else {
                    // Under the same lock as the check, so no request can slip in unserved.
                    waiting.remove(&key);
                    break;
                };
                std::mem::take(requests)
            };
            // A failure is logged by each request's error response, not here.
            let answer = read(source.clone(), key.clone()).await.map_err(Arc::new);
            send(requests, &answer);
        }
        unfinished.finished();
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<K, Vec<oneshot::Sender<Answer<V>>>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Gives each request waiting for a read its answer.
fn send<V: Clone>(requests: Vec<oneshot::Sender<Answer<V>>>, answer: &Answer<V>) {
    for request in requests {
        // A request that went away meanwhile no longer listens.
        let _ = request.send(answer.clone());
    }
}

/// If a read of a key ends any other way than with its answer (the request that made it
/// went away, a panic, the runtime shutting down), lets the requests waiting for that key go
/// (they read alone) and the next request read it; otherwise the key would stay taken and
/// every later request for it wait. Forgotten once the read has its answer.
struct Unfinished<'a, K: Eq + Hash, V>(&'a SharedReads<K, V>, &'a K);

impl<K: Eq + Hash, V> Unfinished<'_, K, V> {
    fn finished(self) {
        std::mem::forget(self);
    }
}

impl<K: Eq + Hash, V> Drop for Unfinished<'_, K, V> {
    fn drop(&mut self) {
        self.0.0.lock().unwrap_or_else(PoisonError::into_inner).remove(self.1);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use tokio::sync::Semaphore;
    use tokio::task::JoinHandle;

    use super::SharedReads;
    use crate::db;

    /// A source whose reads answer how many reads began before them, each held until the test
    /// lets one finish.
    struct Source {
        began: AtomicU32,
        finish: Semaphore,
    }

    impl Default for Source {
        fn default() -> Self {
            Self { began: AtomicU32::new(0), finish: Semaphore::new(0) }
        }
    }

    async fn read(source: Arc<Source>, (): ()) -> db::Result<u32> {
        let began = source.began.fetch_add(1, Ordering::SeqCst);
        source.finish.acquire().await.expect("never closed").forget();
        Ok(began)
    }

    type Reads = Arc<SharedReads<(), u32>>;

    fn ask(reads: &Reads, source: &Arc<Source>) -> JoinHandle<u32> {
        let (reads, source) = (Arc::clone(reads), Arc::clone(source));
        tokio::spawn(async move { reads.read(source, (), read).await.expect("read") })
    }

    async fn until_begun(source: &Source, reads: u32) {
        until(|| source.began.load(Ordering::SeqCst) >= reads).await;
    }

    /// Until `count` requests wait for the next read.
    async fn until_waiting(reads: &Reads, count: usize) {
        until(|| reads.waiting().get(&()).map_or(0, Vec::len) >= count).await;
    }

    /// Polls `done` until it holds; a test whose condition never comes fails instead of hanging.
    async fn until(done: impl Fn() -> bool) {
        let polled = async {
            while !done() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), polled).await.expect("came within 5 s");
    }

    async fn answer(request: JoinHandle<u32>) -> u32 {
        tokio::time::timeout(Duration::from_secs(5), request)
            .await
            .expect("answered in time")
            .expect("no panic")
    }

    #[tokio::test]
    async fn requests_asking_during_a_read_share_the_next_one_not_that_one() {
        let (reads, source) = (Reads::default(), Arc::new(Source::default()));
        let first = ask(&reads, &source);
        until_begun(&source, 1).await;
        let (second, third) = (ask(&reads, &source), ask(&reads, &source));
        until_waiting(&reads, 2).await;
        assert_eq!(source.began.load(Ordering::SeqCst), 1, "the others wait for the first read to end");

        source.finish.add_permits(2);
        assert_eq!(answer(first).await, 0);
        assert_eq!((answer(second).await, answer(third).await), (1, 1), "one read after theirs began");
        assert_eq!(source.began.load(Ordering::SeqCst), 2);
        assert!(reads.waiting().is_empty(), "nothing kept once answered");
    }

    #[tokio::test]
    async fn requests_asking_before_a_read_begins_share_it() {
        let (reads, source) = (Reads::default(), Arc::new(Source::default()));
        // On this test's one thread, the three are ready to run before any of them reads.
        let requests = [ask(&reads, &source), ask(&reads, &source), ask(&reads, &source)];
        until_begun(&source, 1).await;

        source.finish.add_permits(1);
        for request in requests {
            assert_eq!(answer(request).await, 0, "the one read, begun after all three asked");
        }
        assert_eq!(source.began.load(Ordering::SeqCst), 1);
        assert!(reads.waiting().is_empty(), "nothing kept once answered");
    }

    #[tokio::test]
    async fn a_reader_that_goes_away_leaves_no_request_waiting() {
        let (reads, source) = (Reads::default(), Arc::new(Source::default()));
        let first = ask(&reads, &source);
        until_begun(&source, 1).await;
        let second = ask(&reads, &source);
        until_waiting(&reads, 1).await;

        // The first request goes away (its client hung up) in the middle of its read.
        first.abort();
        source.finish.add_permits(1);
        assert_eq!(answer(second).await, 1, "read again, alone");
        source.finish.add_permits(1);
        assert_eq!(answer(ask(&reads, &source)).await, 2, "the key is free for the next request");
        assert!(reads.waiting().is_empty());
    }
}
