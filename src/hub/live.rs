//! A page's live events, the same for every store: events after the page's backlog, in order,
//! until `closed`. A page that falls more than [`LIVE_BUFFER`](super::limits::LIVE_BUFFER) events
//! behind gets one `resync` (the state now) in place of what it missed, and only newer events
//! after it.

use std::sync::Arc;

use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::store::Attachment;
use super::{Event, EventId, EventKind, Hub};
use crate::ids::ViewerId;

struct Feed {
    hub: Hub,
    viewer: ViewerId,
    attachment: Attachment,
    /// Events up to this id are in the backlog (or the resync) already.
    start: EventId,
    /// Queued events to send before reading the feed again (a resync).
    pending: Vec<Arc<Event>>,
    closed: bool,
}

/// The live events of `attachment` after `start`.
pub(super) fn events(
    hub: Hub,
    viewer: ViewerId,
    attachment: Attachment,
    start: EventId,
) -> BoxStream<'static, Arc<Event>> {
    let feed = Feed {
        hub,
        viewer,
        attachment,
        start,
        pending: Vec::new(),
        closed: false,
    };
    stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        feed.closed = event.kind == EventKind::Closed;
        Some((event, feed))
    })
    .boxed()
}

impl Feed {
    async fn next(&mut self) -> Option<Arc<Event>> {
        if self.closed {
            return None;
        }
        loop {
            if let Some(event) = self.pending.pop() {
                return Some(event);
            }
            match self.attachment.receiver.recv().await {
                Ok(event) => {
                    if event.event_id().is_some_and(|id| id <= self.start) {
                        continue;
                    }
                    return Some(event);
                }
                Err(RecvError::Lagged(missed)) => {
                    // A fresh receiver first, then the state: whatever happens after the state
                    // was read comes through the receiver (and twice is harmless; never lost).
                    self.attachment.receiver = self.attachment.receiver.resubscribe();
                    // A store out of reach ends the stream: the page reconnects and resumes.
                    // A viewer deleted meanwhile ends it too, the way its `closed` would have.
                    if self.hub.was_deleted(&self.viewer).await.unwrap_or(true) {
                        return None;
                    }
                    let (latest, resync) = self.hub.resync(&self.viewer).await.ok()?;
                    tracing::debug!(viewer = %self.viewer, missed, "slow page resynced");
                    self.start = latest;
                    self.pending = resync;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
