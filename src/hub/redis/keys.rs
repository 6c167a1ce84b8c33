//! Where everything lives in Redis. Every key starts with the `--store-prefix`, so clusters (or
//! test runs) can share one Redis.
//!
//! | key | type | what |
//! |---|---|---|
//! | `viewers` | set | ids of live viewers |
//! | `written-viewers` | set | ids of live viewers a write used |
//! | `viewer:<id>` | hash | `created`, `last_active` (µs), `model` (current model id), `written` (a write used it) |
//! | `viewer:<id>:config`, `viewer:<id>:status`, `defaults` | hash | field -> JSON value |
//! | `viewer:<id>:models` | set | the viewer's stored models |
//! | `viewer:<id>:kernel` | string, TTL | the mark of the kernel answering its measurements (JSON) |
//! | `viewer:<id>:thumbnail` | hash | `image` (bytes), `kind` (`png`, `jpeg`, `webp`): the last drawn frame |
//! | `deleted:<id>` | string, TTL | the viewer was deleted |
//! | `events:<id>` | stream | the viewer's events: `k` kind, `d` JSON data |
//! | `events-sizes:<id>`, `events-bytes:<id>` | list, counter | each kept event's `<entry id> <bytes>`, and their sum |
//! | `model:<id>` | hash | `tree` (the tree form), `holes` (JSON: where its parts go), `parts` (their hashes, each once, space-separated), `meta` (JSON: viewer, config, time), `summary` (JSON: parts, triangles), `size` (as served), `tree_size` (its message without its parts), `new_bytes` |
//! | `part:<hash>` | string | a part's bytes (expiring until a model holds it) |
//! | `part-refs` | hash | part hash -> how many stored models hold it |
//! | `models` | sorted set | stored model ids by creation time |
//! | `current_models` | set | models some viewer shows |
//! | `model_bytes` | counter | bytes of stored trees and parts, each part once |
//! | `gone:<id>` | string, TTL | the model was evicted (fetches say 410) |
//! | `instances` | sorted set | instance id by last heartbeat (s) |
//! | `subs:<viewer>` | hash | instance -> pages of the viewer on it |
//! | `subs-total` | hash | instance -> pages on it |
//! | `shot:<id>` | hash, TTL | `viewer`, `png`, `created` |
//! | `shots` | sorted set | screenshot ids by creation time |
//! | `shot-request:<id>` | string, TTL | the viewer a screenshot request is for |
//! | `shot-answer:<id>` | list, TTL | the answering screenshot's id |
//! | `lock:<name>` | string, TTL | the holder's token of a hub lock (`viewer:<id>`, `new-viewers`, `room`) |

use crate::ids::{ModelId, PartHash, ViewerId};

/// The key names under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    fn key(&self, name: std::fmt::Arguments<'_>) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn viewers(&self) -> String {
        self.key(format_args!("viewers"))
    }

    pub fn written_viewers(&self) -> String {
        self.key(format_args!("written-viewers"))
    }

    pub fn viewer(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("viewer:{viewer}"))
    }

    pub fn config(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("viewer:{viewer}:config"))
    }

    pub fn status(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("viewer:{viewer}:status"))
    }

    pub fn thumbnail(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("viewer:{viewer}:thumbnail"))
    }

    pub fn kernel(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("viewer:{viewer}:kernel"))
    }

    pub fn viewer_models(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("viewer:{viewer}:models"))
    }

    pub fn deleted(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("deleted:{viewer}"))
    }

    pub fn lock(&self, name: &str) -> String {
        self.key(format_args!("lock:{name}"))
    }

    pub fn defaults(&self) -> String {
        self.key(format_args!("defaults"))
    }

    pub fn events(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("events:{viewer}"))
    }

    pub fn event_sizes(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("events-sizes:{viewer}"))
    }

    pub fn event_bytes(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("events-bytes:{viewer}"))
    }

    pub fn model(&self, model: &str) -> String {
        self.key(format_args!("model:{model}"))
    }

    /// Where parts live: the script that counts them appends the hash.
    pub fn part_prefix(&self) -> String {
        self.key(format_args!("part:"))
    }

    pub fn part(&self, hash: &PartHash) -> String {
        self.key(format_args!("part:{hash}"))
    }

    pub fn part_refs(&self) -> String {
        self.key(format_args!("part-refs"))
    }

    pub fn models(&self) -> String {
        self.key(format_args!("models"))
    }

    pub fn current_models(&self) -> String {
        self.key(format_args!("current_models"))
    }

    pub fn model_bytes(&self) -> String {
        self.key(format_args!("model_bytes"))
    }

    pub fn gone(&self, model: &ModelId) -> String {
        self.key(format_args!("gone:{model}"))
    }

    pub fn instances(&self) -> String {
        self.key(format_args!("instances"))
    }

    pub fn subscribers(&self, viewer: &ViewerId) -> String {
        self.key(format_args!("subs:{viewer}"))
    }

    pub fn subscribers_total(&self) -> String {
        self.key(format_args!("subs-total"))
    }

    pub fn screenshot(&self, id: &str) -> String {
        self.key(format_args!("shot:{id}"))
    }

    pub fn screenshots(&self) -> String {
        self.key(format_args!("shots"))
    }

    pub fn request(&self, request: &str) -> String {
        self.key(format_args!("shot-request:{request}"))
    }

    pub fn answer(&self, request: &str) -> String {
        self.key(format_args!("shot-answer:{request}"))
    }
}
