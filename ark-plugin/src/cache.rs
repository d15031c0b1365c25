//! A small single-flight cache with a time-to-live, used to look ONTAP facts
//! up once per SVM per restore (and LIF probes once per LIF): concurrent
//! callers for the same key wait for one lookup; failures are not cached,
//! so a retry really asks again.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// Entries beyond which expired ones are swept on insert.
const SWEEP_AT: usize = 4096;

struct Slot<V> {
    created: Instant,
    cell: OnceCell<V>,
}

/// A TTL cache; `V` is cloned out (use `Arc` for big values).
pub struct TtlCache<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, Arc<Slot<V>>>>,
    lookups: std::sync::atomic::AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// An empty cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            map: Mutex::new(HashMap::new()),
            lookups: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn slot(&self, key: &K, ttl: Duration) -> Arc<Slot<V>> {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if let Some(slot) = map.get(key)
            && now.duration_since(slot.created) < ttl
        {
            return slot.clone();
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, s| now.duration_since(s.created) < ttl);
        }
        let slot = Arc::new(Slot {
            created: now,
            cell: OnceCell::new(),
        });
        map.insert(key.clone(), slot.clone());
        slot
    }

    /// The cached value for `key`, or the result of `init` (run once for
    /// concurrent callers; an error is returned and not cached).
    ///
    /// # Errors
    /// Whatever `init` returns.
    pub async fn get_or_try_init<F, Fut, E>(&self, key: &K, init: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        self.get_or_try_init_ttl(key, self.ttl, init).await
    }

    /// Like [`Self::get_or_try_init`] with a per-call TTL.
    ///
    /// # Errors
    /// Whatever `init` returns.
    pub async fn get_or_try_init_ttl<F, Fut, E>(
        &self,
        key: &K,
        ttl: Duration,
        init: F,
    ) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let slot = self.slot(key, ttl);
        let v = slot
            .cell
            .get_or_try_init(|| {
                self.lookups
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                init()
            })
            .await?;
        Ok(v.clone())
    }

    /// Forgets `key` (the next call looks it up again).
    pub fn invalidate(&self, key: &K) {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    /// How many lookups (`init` calls) this cache has made.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn one_lookup_per_key_even_when_concurrent() {
        let cache: Arc<TtlCache<String, u32>> = Arc::new(TtlCache::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                let key = format!("svm{}", i % 5);
                cache
                    .get_or_try_init(&key, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        Ok::<_, ()>(i % 5)
                    })
                    .await
                    .unwrap()
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), (i % 5) as u32);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert_eq!(cache.lookups(), 5);
    }

    #[tokio::test]
    async fn errors_are_not_cached_and_invalidate_forgets() {
        let cache: TtlCache<u8, u8> = TtlCache::new(Duration::from_secs(60));
        assert_eq!(
            cache
                .get_or_try_init(&1, || async { Err::<u8, _>("down") })
                .await,
            Err("down")
        );
        assert_eq!(
            cache
                .get_or_try_init(&1, || async { Ok::<_, &str>(7) })
                .await,
            Ok(7)
        );
        assert_eq!(
            cache
                .get_or_try_init(&1, || async { Ok::<_, &str>(8) })
                .await,
            Ok(7)
        );
        cache.invalidate(&1);
        assert_eq!(
            cache
                .get_or_try_init(&1, || async { Ok::<_, &str>(9) })
                .await,
            Ok(9)
        );
    }

    #[tokio::test]
    async fn zero_ttl_never_reuses() {
        let cache: TtlCache<u8, u8> = TtlCache::new(Duration::ZERO);
        assert_eq!(
            cache.get_or_try_init(&1, || async { Ok::<_, ()>(1) }).await,
            Ok(1)
        );
        assert_eq!(
            cache.get_or_try_init(&1, || async { Ok::<_, ()>(2) }).await,
            Ok(2)
        );
    }
}
