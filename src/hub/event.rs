//! Viewer events and their SSE frames. A frame is rendered once when the event happens and the
//! same bytes go to every subscriber and into the replay history.
//!
//! Every event is a JSON object with a `type`: `model_update`, `config_update`, `clear`,
//! `screenshot_request`, `resync` (the subscriber missed too much: here is the current state) and
//! `closed` (the viewer was deleted). They all arrive as the default SSE `message` event.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{JsonObject, StoredModel};
use crate::ids::{ModelId, ViewerId};
use crate::model::upload::raw_field_frame;

/// One event of one viewer.
#[derive(Debug)]
pub struct Event {
    /// The SSE id, increasing per viewer (sent back by reconnecting pages as `Last-Event-ID`).
    pub id: String,
    /// The event's `type`.
    pub kind: &'static str,
    /// `id: ...\ndata: ...\n\n`, ready to write.
    pub frame: Bytes,
}

impl Event {
    /// Frames `data` (one JSON value) as an SSE message with `id`.
    pub fn new(id: String, kind: &'static str, data: &[u8]) -> Event {
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

    /// An event whose data is `{"type": kind, "viewer_id": ..., ...fields}`.
    pub fn simple(id: String, kind: &'static str, viewer: &ViewerId, fields: Value) -> Event {
        Event::new(id, kind, &Event::simple_data(kind, viewer, fields))
    }

    /// The data of [`Event::simple`], for stores that assign the id later.
    pub fn simple_data(kind: &'static str, viewer: &ViewerId, fields: Value) -> Vec<u8> {
        let mut data = json!({ "type": kind, "viewer_id": viewer });
        if let (Some(data), Value::Object(fields)) = (data.as_object_mut(), fields) {
            data.extend(fields);
        }
        data.to_string().into_bytes()
    }

    /// `model_update` (or `resync`, with the same fields): which model, where to fetch it, the
    /// effective config, and the model itself when it is at most `inline_limit` bytes.
    pub fn model(
        id: String,
        kind: &'static str,
        model: &StoredModel,
        config: &JsonObject,
        inline_limit: usize,
    ) -> Event {
        Event::new(
            id,
            kind,
            &Event::model_data(kind, model, config, inline_limit),
        )
    }

    /// The data of [`Event::model`], for stores that assign the id later.
    pub fn model_data(
        kind: &'static str,
        model: &StoredModel,
        config: &JsonObject,
        inline_limit: usize,
    ) -> Vec<u8> {
        let head = Event::model_head(kind, &model.id, &model.viewer_id, model.body.len(), config);
        if model.body.len() <= inline_limit {
            let (open, close) = raw_field_frame(&head, "model");
            let mut data = open;
            model.body.write_to(&mut data);
            data.extend_from_slice(close);
            data
        } else {
            head.to_string().into_bytes()
        }
    }

    /// The fields of a model event without the model: all a page gets for a model over the
    /// inline limit (it fetches `url`), and all a store needs to read to announce one.
    pub fn model_head(
        kind: &'static str,
        model_id: &ModelId,
        viewer: &ViewerId,
        bytes: usize,
        config: &JsonObject,
    ) -> Value {
        json!({
            "type": kind,
            "viewer_id": viewer,
            "model_id": model_id,
            "url": format!("/api/model/{model_id}"),
            "bytes": bytes,
            "config": config,
        })
    }

    /// The `&'static` name of an event type read back from a store.
    pub fn kind_named(name: &str) -> &'static str {
        const KINDS: [&str; 6] = [
            "model_update",
            "config_update",
            "clear",
            "screenshot_request",
            "resync",
            "closed",
        ];
        KINDS
            .into_iter()
            .find(|kind| *kind == name)
            .unwrap_or("message")
    }
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
        let event = Event::simple("7".into(), "clear", &ViewerId::default_viewer(), json!({}));
        let text = std::str::from_utf8(&event.frame).unwrap();
        assert!(text.starts_with("id: 7\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
        let value: Value = serde_json::from_str(&data_of(&event.frame)).unwrap();
        assert_eq!(value, json!({"type": "clear", "viewer_id": "default"}));
    }

    #[test]
    fn line_breaks_in_data_never_break_the_frame() {
        let event = Event::new("1".into(), "x", b"{\r\n \"a\":\r1,\n\"b\": 2}");
        let text = std::str::from_utf8(&event.frame).unwrap();
        assert_eq!(text.matches("\n\n").count(), 1, "{text:?}");
        let value: Value = serde_json::from_str(&data_of(&event.frame)).unwrap();
        assert_eq!(value, json!({"a": 1, "b": 2}));
    }
}
