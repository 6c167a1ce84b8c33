//! The stream-tailing task: each instance reads (`XREAD BLOCK`, on one connection of its own)
//! the streams of the viewers it has pages for, and hands each entry to those pages through a
//! local `broadcast` channel. A viewer whose last page left is dropped from the read.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use tokio::sync::broadcast;

use super::events::event_of;
use super::{Inner, Result};
use crate::hub::limits::LIVE_BUFFER;
use crate::hub::Event;
use crate::ids::ViewerId;

/// How long one read waits for new entries before looking at the set of viewers again.
const BLOCK_MS: usize = 250;
/// Most entries one read takes per stream.
const BATCH: usize = 256;

/// A viewer followed on this instance.
pub(super) struct Local {
    live: broadcast::Sender<Arc<Event>>,
    /// The last entry read.
    cursor: String,
}

impl Local {
    /// Pages of the viewer on this instance.
    pub(super) fn pages(&self) -> usize {
        self.live.receiver_count()
    }
}

impl Inner {
    /// A receiver of the viewer's entries from now on (the tail starts reading at the stream's
    /// newest entry if no page here followed the viewer yet).
    pub(super) async fn follow(
        &self,
        viewer: &ViewerId,
    ) -> Result<broadcast::Receiver<Arc<Event>>> {
        let latest = self.latest_event(viewer).await?;
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let followed = local.entry(viewer.clone()).or_insert_with(|| Local {
            live: broadcast::channel(LIVE_BUFFER).0,
            cursor: latest.unwrap_or_else(|| "0-0".into()),
        });
        Ok(followed.live.subscribe())
    }
}

/// Runs until the store is dropped.
pub(super) async fn run(inner: Weak<Inner>) {
    let mut conn: Option<MultiplexedConnection> = None;
    loop {
        let Some(hub) = inner.upgrade() else { return };
        let targets: Vec<(ViewerId, String)> = {
            let mut local = hub.local.lock().unwrap_or_else(|e| e.into_inner());
            local.retain(|_, viewer| viewer.live.receiver_count() > 0);
            local
                .iter()
                .map(|(id, viewer)| (id.clone(), viewer.cursor.clone()))
                .collect()
        };
        if targets.is_empty() {
            drop(hub);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if conn.is_none() {
            conn = hub.client.get_multiplexed_async_connection().await.ok();
        }
        let Some(connection) = conn.as_mut() else {
            drop(hub);
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let keys: Vec<String> = targets.iter().map(|(id, _)| hub.keys.events(id)).collect();
        let ids: Vec<&str> = targets.iter().map(|(_, cursor)| cursor.as_str()).collect();
        let options = StreamReadOptions::default().block(BLOCK_MS).count(BATCH);
        let reply: std::result::Result<StreamReadReply, _> =
            connection.xread_options(&keys, &ids, &options).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) => {
                tracing::warn!(%err, "reading viewer streams from redis failed; retrying");
                conn = None;
                drop(hub);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut local = hub.local.lock().unwrap_or_else(|e| e.into_inner());
        for stream in reply.keys {
            let Some(index) = keys.iter().position(|key| *key == stream.key) else {
                continue;
            };
            let Some(target) = local.get_mut(&targets[index].0) else {
                continue;
            };
            for entry in &stream.ids {
                target.cursor = entry.id.clone();
                let _ = target.live.send(Arc::new(event_of(entry)));
            }
        }
    }
}
