//! Locks that put writes in one order: each viewer's writes one after another, new viewers
//! counted one at a time, and room made for one model at a time.
//!
//! A push is many store steps (make room, store, show, tell the pages). Two pushes to one viewer
//! whose steps interleave leave the viewer showing one model while its pages last heard of the
//! other; two new viewers created at once can both pass `--max-viewers`; two pushes making room
//! at once can both count the same free bytes. So the [`Hub`](super::Hub) takes these locks around
//! such steps, in the order viewer, then room, then new viewers (never the other way round, so
//! no two writes wait on each other). The lock on new viewers is held only to count and make
//! one, so a page opening a new viewer never waits behind a push storing its model.
//!
//! In one process a lock is a tokio mutex ([`LocalLocks`]). A store shared by instances adds a
//! lock in the store itself (Redis: a key with a lease), taken after the local one, so that the
//! writes of one instance queue in memory and only one of them at a time asks Redis.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::ids::ViewerId;

/// What a lock guards.
#[derive(Debug, Clone, Copy)]
pub enum LockName<'a> {
    /// The writes to one viewer: pushes, clears, configs, animations, deletion, collection.
    Viewer(&'a ViewerId),
    /// Making room for a model and storing it, within `--model-memory`.
    Room,
    /// Creating viewers, within `--max-viewers`.
    NewViewers,
}

impl LockName<'_> {
    /// A name no two locks share (viewer ids cannot contain `:`), for shared stores' keys.
    pub fn key(&self) -> String {
        match self {
            LockName::Viewer(viewer) => format!("viewer:{viewer}"),
            LockName::NewViewers => "new-viewers".into(),
            LockName::Room => "room".into(),
        }
    }
}

/// A release that has to talk to a shared store.
pub type SharedRelease = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A held lock. [`Held::release`] gives it back; dropped without that (an error on the way, a
/// request cancelled), it is given back in the background.
#[must_use = "a lock is held until released or dropped"]
pub struct Held {
    local: Option<OwnedMutexGuard<()>>,
    shared: Option<SharedRelease>,
}

impl Held {
    /// A lock of this process only.
    pub fn local(guard: OwnedMutexGuard<()>) -> Self {
        Held {
            local: Some(guard),
            shared: None,
        }
    }

    /// A lock of a shared store, taken while holding this process's `guard`.
    pub fn shared(guard: OwnedMutexGuard<()>, release: SharedRelease) -> Self {
        Held {
            local: Some(guard),
            shared: Some(release),
        }
    }

    /// Gives the lock back: the shared one first, so the next local writer finds it free.
    pub async fn release(mut self) {
        if let Some(release) = self.shared.take() {
            release.await;
        }
        self.local.take();
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(release) = self.shared.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(release);
                }
                // No runtime to run it on: the lease runs out instead.
                Err(_) => tracing::warn!("a shared lock is left to expire"),
            }
        }
    }
}

/// Viewer locks spread over this many mutexes: a bounded set, whatever the number of viewers.
/// Two viewers on one mutex merely wait for each other.
const VIEWER_STRIPES: usize = 64;

/// This process's locks.
pub struct LocalLocks {
    viewers: Vec<Arc<Mutex<()>>>,
    new_viewers: Arc<Mutex<()>>,
    room: Arc<Mutex<()>>,
}

impl Default for LocalLocks {
    fn default() -> Self {
        LocalLocks {
            viewers: (0..VIEWER_STRIPES).map(|_| Arc::default()).collect(),
            new_viewers: Arc::default(),
            room: Arc::default(),
        }
    }
}

impl LocalLocks {
    /// Waits for the lock `name` (first come, first served).
    pub async fn lock(&self, name: LockName<'_>) -> OwnedMutexGuard<()> {
        let mutex = match name {
            LockName::Viewer(viewer) => {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                viewer.hash(&mut hasher);
                &self.viewers[hasher.finish() as usize % VIEWER_STRIPES]
            }
            LockName::NewViewers => &self.new_viewers,
            LockName::Room => &self.room,
        };
        mutex.clone().lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_writer_per_viewer_at_a_time() {
        let locks = Arc::new(LocalLocks::default());
        let viewer = ViewerId::new("v").unwrap();
        let held = Held::local(locks.lock(LockName::Viewer(&viewer)).await);
        let waiting = {
            let locks = locks.clone();
            let viewer = viewer.clone();
            tokio::spawn(async move { locks.lock(LockName::Viewer(&viewer)).await })
        };
        // Other locks are free meanwhile.
        drop(locks.lock(LockName::Room).await);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a second writer waits");
        held.release().await;
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("and goes once the first is done")
            .unwrap();
    }
}
