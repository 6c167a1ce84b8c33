//! Viewer events and their SSE frames. A frame is rendered once when the event happens and the
//! same bytes go to every subscriber and into the replay history.
//!
//! Every event is a JSON object with a `type`, one of [`EventKind`]. They all arrive as the
//! default SSE `message` event.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{JsonObject, StoredModel};
use crate::ids::{ModelId, ViewerId};
use crate::model::stored::raw_field_frame;

pub use crate::wire::EventKind;

/// An event id as an ordered pair, whatever the store's spelling: the memory store counts
/// (`"1712345678901234"` is `(1712345678901234, 0)`), Redis streams use `"<ms>-<seq>"`. Ids of
/// one viewer increase; a page's `Last-Event-ID` is compared with them to decide what it missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct EventId(pub u64, pub u64);

impl EventId {
    /// Reads an id as a store wrote it; `None` for anything else (such a page starts afresh).
    pub fn parse(text: &str) -> Option<EventId> {
        let text = text.trim();
        match text.split_once('-') {
            Some((major, minor)) => Some(EventId(major.parse().ok()?, minor.parse().ok()?)),
            None => Some(EventId(text.parse().ok()?, 0)),
        }
    }
}

/// One event of one viewer.
#[derive(Debug)]
pub struct Event {
    /// The SSE id, increasing per viewer (sent back by reconnecting pages as `Last-Event-ID`).
    pub id: String,
    pub kind: EventKind,
    /// `id: ...\ndata: ...\n\n`, ready to write.
    pub frame: Bytes,
}

impl Event {
    /// Frames `data` (one JSON value) as an SSE message with `id`.
    pub fn new(id: String, kind: EventKind, data: &[u8]) -> Event {
        let mut frame = Vec::with_capacity(data.len() + id.len() + 16);
        frame.extend_from_slice(b"id: ");
        frame.extend_from_slice(id.as_bytes());
        frame.push(b'\n');
        // JSON may hold raw line breaks between tokens (a pretty-printed upload inlined): each line
        // becomes its own `data:` line, which EventSource joins back with '\n'.
        for line in data.split(|&b| b == b'\n' || b == b'\r') {
            frame.extend_from_slice(b"data: ");
            frame.extend_from_slice(line);
            frame.push(b'\n');
        }
        frame.push(b'\n');
        Event {
            id,
            kind,
            frame: Bytes::from(frame),
        }
    }

    /// The JSON the event carries (its `data:` lines joined).
    pub fn data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.frame.len());
        for line in self.frame.split(|&b| b == b'\n') {
            if let Some(data) = line.strip_prefix(b"data: ") {
                if !out.is_empty() {
                    out.push(b'\n');
                }
                out.extend_from_slice(data);
            }
        }
        out
    }

    /// The SSE id as an ordered pair.
    pub fn event_id(&self) -> Option<EventId> {
        EventId::parse(&self.id)
    }
}

/// What an event says, before a store gives it an id.
#[derive(Debug, Clone)]
pub struct EventData {
    pub kind: EventKind,
    /// The JSON data, `type` included.
    pub json: Vec<u8>,
}

impl EventData {
    /// `{"type": kind, "viewer_id": ..., ...fields}`.
    pub fn simple(kind: EventKind, viewer: &ViewerId, fields: Value) -> EventData {
        let mut data = json!({ "type": kind.as_str(), "viewer_id": viewer });
        if let (Some(data), Value::Object(fields)) = (data.as_object_mut(), fields) {
            data.extend(fields);
        }
        EventData {
            kind,
            json: data.to_string().into_bytes(),
        }
    }

    /// `model_update` (or `resync`, with the same fields): which model, where to fetch it, the
    /// effective config, and the model itself when it is at most `inline_limit` bytes.
    pub fn model(
        kind: EventKind,
        model: &StoredModel,
        config: &JsonObject,
        inline_limit: usize,
    ) -> EventData {
        let head = model_head(kind, &model.id, &model.viewer_id, model.body.len(), config);
        if model.body.len() > inline_limit {
            return EventData {
                kind,
                json: head.to_string().into_bytes(),
            };
        }
        let (open, close) = raw_field_frame(&head, "model");
        let mut json = open;
        model.body.write_to(&mut json);
        json.extend_from_slice(close);
        EventData { kind, json }
    }

    /// A model event without the model, from its size alone: all a page gets for a model over
    /// the inline limit (it fetches `url`), so a store need not read the body to announce it.
    pub fn model_announcement(
        kind: EventKind,
        model_id: &ModelId,
        viewer: &ViewerId,
        bytes: usize,
        config: &JsonObject,
    ) -> EventData {
        let head = model_head(kind, model_id, viewer, bytes, config);
        EventData {
            kind,
            json: head.to_string().into_bytes(),
        }
    }

    /// The event with its id.
    pub fn with_id(&self, id: String) -> Event {
        Event::new(id, self.kind, &self.json)
    }
}

fn model_head(
    kind: EventKind,
    model_id: &ModelId,
    viewer: &ViewerId,
    bytes: usize,
    config: &JsonObject,
) -> Value {
    json!({
        "type": kind.as_str(),
        "viewer_id": viewer,
        "model_id": model_id,
        "url": format!("/api/model/{model_id}"),
        "tree_url": format!("/api/model/{model_id}/tree"),
        "bytes": bytes,
        "config": config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(frame: &[u8]) -> String {
        std::str::from_utf8(frame)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn frames_are_sse_messages_with_ids() {
        let data = EventData::simple(EventKind::Clear, &ViewerId::default_viewer(), json!({}));
        let event = data.with_id("7".into());
        let text = std::str::from_utf8(&event.frame).unwrap();
        assert!(text.starts_with("id: 7\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
        let value: Value = serde_json::from_str(&data_of(&event.frame)).unwrap();
        assert_eq!(value, json!({"type": "clear", "viewer_id": "default"}));
    }

    #[test]
    fn line_breaks_in_data_never_break_the_frame() {
        let event = Event::new("1".into(), EventKind::Clear, b"{\r\n \"a\":\r1,\n\"b\": 2}");
        let text = std::str::from_utf8(&event.frame).unwrap();
        assert_eq!(text.matches("\n\n").count(), 1, "{text:?}");
        let value: Value = serde_json::from_str(&data_of(&event.frame)).unwrap();
        assert_eq!(value, json!({"a": 1, "b": 2}));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::named(kind.as_str()), Some(*kind));
        }
        assert_eq!(EventKind::named("message"), None);
    }

    #[test]
    fn ids_of_both_stores_compare_as_pairs() {
        assert_eq!(
            EventId::parse("1700000000000-3"),
            Some(EventId(1_700_000_000_000, 3))
        );
        assert!(EventId::parse("1700000000000-10") > EventId::parse("1700000000000-9"));
        assert_eq!(EventId::parse("17"), Some(EventId(17, 0)));
        assert!(EventId::parse("18") > EventId::parse("17"));
        assert_eq!(EventId::parse("a-b"), None);
        assert_eq!(EventId::parse("1\n2"), None);
    }
}
