//! Each viewer's events as a Redis Stream, `events:<viewer>`: an entry's id is the SSE id, its
//! fields are `k` (the kind) and `d` (the JSON data). The stream is trimmed to the event history
//! by count and by bytes, as the memory store's is: `events-sizes:<viewer>` lists each entry's id
//! and size, oldest first, and `events-bytes:<viewer>` their sum.

use std::collections::HashMap;
use std::sync::Arc;

use redis::streams::{StreamId, StreamRangeReply};
use redis::{AsyncCommands, Value as RedisValue};

use super::{unavailable, Inner, Result};
use crate::hub::limits::HISTORY_BYTES;
use crate::hub::{Event, EventData, EventId, EventKind};
use crate::ids::ViewerId;

/// Appends an entry and drops the oldest while the history is over its count or its bytes
/// (keeping the newest, whatever its size), in one step on the server.
const APPEND: &str = r"
local id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 'd', ARGV[2])
local size = string.len(ARGV[2])
redis.call('RPUSH', KEYS[2], id .. ' ' .. size)
local total = redis.call('INCRBY', KEYS[3], size)
local count = redis.call('LLEN', KEYS[2])
local max_count, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while count > 1 and (count > max_count or total > max_bytes) do
  local oldest = redis.call('LPOP', KEYS[2])
  local gap = string.find(oldest, ' ', 1, true)
  redis.call('XDEL', KEYS[1], string.sub(oldest, 1, gap - 1))
  total = redis.call('INCRBY', KEYS[3], -tonumber(string.sub(oldest, gap + 1)))
  count = count - 1
end
return id
";

impl Inner {
    pub(super) async fn append_event(&self, viewer: &ViewerId, event: &EventData) -> Result<()> {
        // EVAL with the text each time: Redis keeps the compiled script by its hash.
        let _: String = redis::cmd("EVAL")
            .arg(APPEND)
            .arg(3)
            .arg(self.keys.events(viewer))
            .arg(self.keys.event_sizes(viewer))
            .arg(self.keys.event_bytes(viewer))
            .arg(event.kind.as_str())
            .arg(&event.json)
            .arg(self.limits.event_history)
            .arg(HISTORY_BYTES)
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

    /// Whether every event after `after` is still in the stream: nothing newer than it was
    /// dropped (`max-deleted-entry-id`, which `XDEL` moves and trimming would not), and nothing
    /// was dropped at all or `after` is no older than the first entry kept.
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
        // Fields a Redis older than 7.0 lacks make nothing replayable (a resync is always safe).
        let (Some(added), Some(length), Some(first_kept), Some(deleted)) = (
            number("entries-added"),
            number("length"),
            id("recorded-first-entry-id"),
            id("max-deleted-entry-id"),
        ) else {
            return Ok(false);
        };
        Ok(after >= deleted && (added == length || after >= first_kept))
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
