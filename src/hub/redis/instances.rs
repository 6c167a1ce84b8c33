//! Instances and their pages. Each instance heartbeats into `instances`; pages are counted per
//! instance (`subs:<viewer>` and `subs-total`, field = instance) and only while their instance's
//! heartbeat is fresh, so a killed instance's pages stop counting by themselves.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use redis::AsyncCommands;

use super::{micros, unavailable, Inner, Result};
use crate::ids::ViewerId;

/// Instances heartbeat this often; one silent for three beats no longer counts.
const HEARTBEAT: Duration = Duration::from_secs(5);

fn now_secs() -> u64 {
    micros(SystemTime::now()) / 1_000_000
}

impl Inner {
    pub(super) async fn heartbeat(&self) -> Result<()> {
        let _: () = self
            .conn()
            .zadd(self.keys.instances(), &self.instance, now_secs())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn alive_instances(&self) -> Result<Vec<String>> {
        let since = now_secs().saturating_sub(3 * HEARTBEAT.as_secs());
        self.conn()
            .zrangebyscore(self.keys.instances(), since, "+inf")
            .await
            .map_err(unavailable)
    }

    /// The sum of a per-instance count hash over the live instances.
    async fn count_alive(&self, key: String) -> Result<usize> {
        let counts: HashMap<String, i64> = self.conn().hgetall(key).await.map_err(unavailable)?;
        if counts.is_empty() {
            return Ok(0);
        }
        let alive = self.alive_instances().await?;
        Ok(counts
            .into_iter()
            .filter(|(instance, _)| alive.contains(instance))
            .map(|(_, count)| count.max(0) as usize)
            .sum())
    }

    /// Pages of the viewer on every live instance.
    pub(super) async fn subscribers(&self, viewer: &ViewerId) -> Result<usize> {
        self.count_alive(self.keys.subscribers(viewer)).await
    }

    /// Pages on every live instance.
    pub(super) async fn total_subscribers(&self) -> Result<usize> {
        self.count_alive(self.keys.subscribers_total()).await
    }

    async fn add_page(&self, viewer: &ViewerId, delta: i64) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.hincr(self.keys.subscribers(viewer), &self.instance, delta)
            .ignore()
            .hincr(self.keys.subscribers_total(), &self.instance, delta)
            .ignore();
        self.run(&pipe).await
    }

    /// Counts a page of `viewer` on this instance until the guard is dropped.
    pub(super) async fn count_page(self: &Arc<Self>, viewer: &ViewerId) -> Result<PageGuard> {
        self.add_page(viewer, 1).await?;
        Ok(PageGuard {
            hub: self.clone(),
            viewer: viewer.clone(),
        })
    }
}

/// A counted page; dropping it uncounts the page.
pub(super) struct PageGuard {
    hub: Arc<Inner>,
    viewer: ViewerId,
}

impl Drop for PageGuard {
    fn drop(&mut self) {
        let (hub, viewer) = (self.hub.clone(), self.viewer.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = hub.add_page(&viewer, -1).await {
                    tracing::warn!(%err, %viewer, "a page that left could not be uncounted");
                }
            });
        }
    }
}

/// Heartbeats until the store is dropped.
pub(super) async fn beat(inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let Some(hub) = inner.upgrade() else { return };
        if let Err(err) = hub.heartbeat().await {
            tracing::warn!(%err, "redis heartbeat failed");
        }
    }
}
