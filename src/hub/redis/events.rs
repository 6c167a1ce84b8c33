//! Each viewer's events as a Redis Stream, `events:<viewer>`: an entry's id is the SSE id, its
//! fields are `k` (the kind) and `d` (the JSON data). The stream is trimmed to the event history,
//! and `max-deleted-entry-id` tells whether a page's id is still replayable.

use std::collections::HashMap;
use std::sync::Arc;

use redis::streams::{StreamId, StreamRangeReply};
use redis::{AsyncCommands, Value as RedisValue};

use super::{unavailable, Inner, Result};
use crate::hub::{Event, EventData, EventId, EventKind};
use crate::ids::ViewerId;

impl Inner {
    pub(super) async fn append_event(&self, viewer: &ViewerId, event: &EventData) -> Result<()> {
        // Exact trimming (no `~`): the history holds what `--event-history` says, no more.
        let _: String = redis::cmd("XADD")
            .arg(self.keys.events(viewer))
            .arg("MAXLEN")
            .arg(self.limits.event_history)
            .arg("*")
            .arg("k")
            .arg(event.kind.as_str())
            .arg("d")
            .arg(&event.json)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn latest_event(&self, viewer: &ViewerId) -> Result<Option<String>> {
        let reply: StreamRangeReply = self
            .conn()
            .xrevrange_count(self.keys.events(viewer), "+", "-", 1)
            .await
            .map_err(unavailable)?;
        Ok(reply.ids.into_iter().next().map(|entry| entry.id))
    }

    pub(super) async fn events_after(
        &self,
        viewer: &ViewerId,
        after: EventId,
    ) -> Result<Option<Vec<Arc<Event>>>> {
        if !self.replayable(viewer, after).await? {
            return Ok(None);
        }
        let reply: StreamRangeReply = self
            .conn()
            .xrange(
                self.keys.events(viewer),
                format!("({}-{}", after.0, after.1),
                "+",
            )
            .await
            .map_err(unavailable)?;
        Ok(Some(
            reply
                .ids
                .iter()
                .map(|entry| Arc::new(event_of(entry)))
                .collect(),
        ))
    }

    /// Whether every event after `after` is still in the stream. Trimming does not move
    /// `max-deleted-entry-id`, so: nothing was ever dropped, or `after` is no older than the
    /// first entry kept (a page whose id was the last one dropped gets a needless resync).
    async fn replayable(&self, viewer: &ViewerId, after: EventId) -> Result<bool> {
        let info: std::result::Result<HashMap<String, RedisValue>, _> = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(self.keys.events(viewer))
            .query_async(&mut self.conn())
            .await;
        let info = match info {
            Ok(info) => info,
            // No stream: nothing was kept, so nothing after `after` can be replayed.
            Err(err) if err.kind() == redis::ErrorKind::ResponseError => return Ok(false),
            Err(err) => return Err(unavailable(err)),
        };
        let number = |name: &str| match info.get(name) {
            Some(RedisValue::Int(n)) => Some(*n),
            _ => None,
        };
        let id = |name: &str| match info.get(name) {
            Some(RedisValue::BulkString(bytes)) => EventId::parse(&String::from_utf8_lossy(bytes)),
            Some(RedisValue::SimpleString(text)) => EventId::parse(text),
            _ => None,
        };
        let nothing_dropped = number("entries-added") == number("length");
        let first_kept = id("recorded-first-entry-id").unwrap_or_default();
        let deleted = id("max-deleted-entry-id").unwrap_or_default();
        Ok(after >= deleted && (nothing_dropped || after >= first_kept))
    }
}

fn field_bytes(entry: &StreamId, name: &str) -> Vec<u8> {
    match entry.map.get(name) {
        Some(RedisValue::BulkString(bytes)) => bytes.clone(),
        Some(RedisValue::SimpleString(text)) => text.clone().into_bytes(),
        _ => Vec::new(),
    }
}

/// An event read back from a stream entry.
pub(super) fn event_of(entry: &StreamId) -> Event {
    let kind = String::from_utf8_lossy(&field_bytes(entry, "k")).into_owned();
    // Kinds are written by this code only; an unknown one (a newer instance's) reaches pages
    // as data they ignore, and never ends a stream.
    let kind = EventKind::named(&kind).unwrap_or(EventKind::ConfigUpdate);
    Event::new(entry.id.clone(), kind, &field_bytes(entry, "d"))
}
