//! Instances and their pages. Each instance heartbeats into `instances`; pages are counted per
//! instance (`subs:<viewer>` and `subs-total`, field = instance), written as absolute counts
//! when a page comes or goes and at every beat, and counted only while their instance's
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

    /// Writes this instance's page counts of `viewers` (and its total) as they are now: absolute
    /// values, so a count lost to an outage or a deleted viewer heals at the next write.
    async fn report_pages(&self, viewers: &[ViewerId]) -> Result<()> {
        let (counts, total) = {
            let local = self.local.lock().unwrap_or_else(|e| e.into_inner());
            let counts: Vec<(ViewerId, usize)> = viewers
                .iter()
                .map(|v| (v.clone(), local.get(v).map_or(0, |l| l.pages())))
                .collect();
            let total: usize = local.values().map(|l| l.pages()).sum();
            (counts, total)
        };
        let mut pipe = redis::pipe();
        for (viewer, count) in &counts {
            match count {
                0 => pipe.hdel(self.keys.subscribers(viewer), &self.instance),
                n => pipe.hset(self.keys.subscribers(viewer), &self.instance, n),
            }
            .ignore();
        }
        pipe.hset(self.keys.subscribers_total(), &self.instance, total)
            .ignore();
        self.run(&pipe).await?;
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        for (viewer, count) in counts {
            match count {
                0 => reported.remove(&viewer),
                _ => reported.insert(viewer),
            };
        }
        Ok(())
    }

    /// Counts a page of `viewer` on this instance until the guard is dropped.
    pub(super) async fn count_page(self: &Arc<Self>, viewer: &ViewerId) -> Result<PageGuard> {
        self.report_pages(std::slice::from_ref(viewer)).await?;
        Ok(PageGuard {
            hub: self.clone(),
            viewer: viewer.clone(),
        })
    }

    /// Heartbeats, rewrites every count this instance reported, and forgets instances silent for
    /// an hour (their counts stopped counting after three beats already).
    async fn beat(&self) -> Result<()> {
        self.heartbeat().await?;
        let viewers: Vec<ViewerId> = {
            let reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            reported.iter().cloned().collect()
        };
        self.report_pages(&viewers).await?;
        let dead: Vec<String> = self
            .conn()
            .zrangebyscore(
                self.keys.instances(),
                "-inf",
                now_secs().saturating_sub(3600),
            )
            .await
            .map_err(unavailable)?;
        if !dead.is_empty() {
            let mut pipe = redis::pipe();
            pipe.zrem(self.keys.instances(), &dead)
                .ignore()
                .hdel(self.keys.subscribers_total(), &dead)
                .ignore();
            self.run(&pipe).await?;
        }
        Ok(())
    }
}

/// A counted page; dropping it counts the viewer's pages here again (the page's receiver is
/// dropped before its guard).
pub(super) struct PageGuard {
    hub: Arc<Inner>,
    viewer: ViewerId,
}

impl Drop for PageGuard {
    fn drop(&mut self) {
        let (hub, viewer) = (self.hub.clone(), self.viewer.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = hub.report_pages(std::slice::from_ref(&viewer)).await {
                    tracing::warn!(%err, %viewer, "a page that left is uncounted at the next beat");
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
        if let Err(err) = hub.beat().await {
            tracing::warn!(%err, "redis heartbeat failed");
        }
    }
}
