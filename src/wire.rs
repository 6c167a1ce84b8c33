//! The names of the wire contract, defined once: the `code` of every error body and the `type`
//! of every event. The server sends them, the notebook bridges and the page match on them, and
//! [`listing`] writes them to `tests/fixtures/wire.json` for clients in other languages, the Python
//! bridge's tests among them. A test fails when that file and these tables differ, so a name
//! cannot change silently.
//!
//! Names are stable: a minor version may add one, never rename or drop one (see the changelog).

use serde::{Serialize, Serializer};

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:expr, $meaning:literal;)*) => {
        /// What went wrong, as the `code` of an error body `{"error": {"code", "message",
        /// "path"?}}`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of the listing.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as sent.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status it comes with; `None` for [`ErrorCode::Error`], which keeps the
            /// status it stands for.
            pub fn status(self) -> Option<u16> {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// What it means, in a sentence.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)*
                }
            }
        }
    };
}

error_codes! {
    BadRequest = "bad_request", Some(400), "The request is not one this route takes (a query option, a header, an unreadable body).";
    MalformedJson = "malformed_json", Some(400), "The body is not JSON, or not complete JSON.";
    Invalid = "invalid", Some(422), "The JSON is well formed but wrong at `path` (a JSON path such as `$.data.shapes.parts[2]`).";
    InvalidId = "invalid_id", Some(400), "A viewer or model id is not 1-64 characters of A-Z, a-z, 0-9, '_' or '-'.";
    TooLarge = "too_large", Some(413), "The body, or a setting after the merge, is over its limit; the message names the flag.";
    UnsupportedMediaType = "unsupported_media_type", Some(415), "The body's Content-Type is not one the route reads.";
    BodyTimeout = "body_timeout", Some(408), "The body did not arrive in time (--body-timeout-secs).";
    Busy = "busy", Some(503), "The server is at its limit of bodies or model work in flight; try again.";
    HostNotAllowed = "host_not_allowed", Some(403), "The Host header names no host this server answers to (--allowed-host).";
    OriginNotAllowed = "origin_not_allowed", Some(403), "A browser page from another origin may not write here (--allowed-origin).";
    TokenRequired = "token_required", Some(401), "This server needs its token: `Authorization: Bearer <token>` or `?token=`.";
    BadToken = "bad_token", Some(403), "The token is wrong.";
    NotFound = "not_found", Some(404), "No route or static file by that name.";
    MethodNotAllowed = "method_not_allowed", Some(405), "The route has no such method.";
    ModelNotFound = "model_not_found", Some(404), "No model by that id.";
    ModelEvicted = "model_evicted", Some(410), "The model was evicted (--model-memory) or its viewer deleted; push it again.";
    ViewerNotFound = "viewer_not_found", Some(404), "No viewer by that id.";
    ViewerDeleted = "viewer_deleted", Some(410), "The viewer was deleted; a push starts it again.";
    ScreenshotNotFound = "screenshot_not_found", Some(404), "No screenshot by that id (they are kept for an hour).";
    NoThumbnail = "no_thumbnail", Some(404), "No page of the viewer has drawn a model yet.";
    NoModel = "no_model", Some(404), "The viewer shows no model to act on.";
    PartNotFound = "part_not_found", Some(404), "No stored part by that hash (parts go with the last version that holds them).";
    VersionNotKept = "version_not_kept", Some(404), "The viewer keeps no such version (--history, --model-memory).";
    NoRequest = "no_request", Some(404), "No measurement by that id waits for a kernel's answer.";
    OverMemoryBudget = "over_memory_budget", Some(413), "The model alone is larger than --model-memory.";
    ModelMemoryFull = "model_memory_full", Some(503), "Models other viewers show hold --model-memory; clear or delete viewers.";
    TooManyViewers = "too_many_viewers", Some(429), "The server holds --max-viewers viewers.";
    TooManyPages = "too_many_pages", Some(429), "The server has --max-pages pages open.";
    NoPageAnswered = "no_page_answered", Some(504), "No page of the viewer is open, or none answered in time.";
    ModelChanged = "model_changed", Some(409), "The viewer shows another model than the one named.";
    NotMeasurable = "not_measurable", Some(422), "The picks cannot be measured with that tool.";
    StoreUnavailable = "store_unavailable", Some(503), "The shared store (Redis) is out of reach; the server retries by itself.";
    Internal = "internal", Some(500), "A fault of the server; please report it.";
    Error = "error", None, "Any other status the HTTP layer answers, with its reason.";
}

impl ErrorCode {
    /// The code spelled `code`, if there is one.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

macro_rules! event_kinds {
    ($($variant:ident = $name:literal, $meaning:literal;)*) => {
        /// The type of an event, the `type` field of its data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $(#[doc = $meaning] $variant,)*
        }

        impl EventKind {
            /// Every type, in the order of the listing.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),*];

            /// The `type` field of the event's data.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }

            /// What it tells a page, in a sentence.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $meaning,)*
                }
            }
        }
    };
}

event_kinds! {
    ModelUpdate = "model_update", "A model was pushed or a kept version shown again (and, for a new page, the viewer's current model): `{model_id, config, url, tree_url, model?}`.";
    ConfigUpdate = "config_update", "Live settings changed: `{config}` holds the changed keys.";
    Clear = "clear", "The viewer's model was dropped.";
    ScreenshotRequest = "screenshot_request", "A client asks the viewer's pages for a PNG: `{request_id}`.";
    Resync = "resync", "The page missed more than the server kept (or lagged): the current state, `{model_id, config, model | url}`.";
    Closed = "closed", "The viewer was deleted; its streams end after this event.";
    Animation = "animation", "Animation tracks for the model on screen: `{model_id, animation}` (`null` stops it).";
    ToolRequest = "tool_request", "A page's measurement for the kernel that answers them exactly: `{request_id, tool, ids, model_id}`; pages ignore it.";
}

impl EventKind {
    /// The type named `name` (as a store wrote it), if it is one.
    pub fn named(name: &str) -> Option<EventKind> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The listing of every error code and event type, as `tests/fixtures/wire.json` keeps it.
pub fn listing() -> serde_json::Value {
    let codes: Vec<_> = ErrorCode::ALL
        .iter()
        .map(|code| {
            serde_json::json!({"code": code.as_str(), "status": code.status(), "meaning": code.meaning()})
        })
        .collect();
    let events: Vec<_> = EventKind::ALL
        .iter()
        .map(|kind| serde_json::json!({"type": kind.as_str(), "meaning": kind.meaning()}))
        .collect();
    serde_json::json!({
        "about": "The names of ocp_notebook's wire contract, generated from src/wire.rs: the `code` of every error body {\"error\": {\"code\", \"message\", \"path\"?}} and the `type` of every event. Stable: a minor version may add names, never rename or drop them. Regenerate with `OCP_NOTEBOOK_BLESS=1 cargo test --test wire`.",
        "error_codes": codes,
        "event_types": events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert_eq!(ErrorCode::parse(text), Some(*code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
