//! What the hub hands out and takes in: stored models, subscriptions, screenshots, summaries,
//! and its errors.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use serde::Serialize;
use serde_json::{Map, Value};

use super::Event;
use crate::ids::{ModelId, ViewerId};
use crate::model::{StoredJson, TreeSummary};

/// A JSON object: configs, status and their deltas.
pub type JsonObject = Map<String, Value>;

/// Failures of the hub; the server maps each to a status code.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no model {0}")]
    ModelNotFound(ModelId),
    #[error("model {0} is no longer kept (evicted to stay within --model-memory, or its viewer was deleted); push it again")]
    ModelGone(ModelId),
    #[error("no viewer {0}")]
    ViewerNotFound(ViewerId),
    #[error("viewer {0} was deleted; push a model to it to start it again")]
    ViewerDeleted(ViewerId),
    #[error("no screenshot {0}")]
    ScreenshotNotFound(String),
    #[error("no page of viewer {0} has drawn a model yet, so it has no thumbnail")]
    NoThumbnail(ViewerId),
    #[error("a model of {size} bytes does not fit the model memory budget of {budget} bytes (--model-memory)")]
    OverBudget { size: usize, budget: usize },
    #[error("the model memory budget of {budget} bytes (--model-memory) is held by models other viewers show now; delete or clear viewers, or raise --model-memory")]
    ModelMemoryFull { budget: usize },
    #[error("{what} would be {size} bytes of JSON, over this server's limit of {limit} (--settings-limit)")]
    SettingsTooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("this server holds its limit of {max} viewers{} (--max-viewers); delete viewers or wait for idle ones to be collected", if *pages_only { " that only pages use (half of the limit)" } else { "" })]
    TooManyViewers { max: usize, pages_only: bool },
    #[error("no page is showing viewer {0}: open its viewer URL first")]
    NoPage(ViewerId),
    #[error("no page of viewer {0} answered the screenshot request in time")]
    ScreenshotTimeout(ViewerId),
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
    #[error("the server is busy: {0}; try again")]
    Busy(String),
    #[error("viewer {viewer} now shows model {shows}, not {asked}: animate the model on screen")]
    ModelChanged {
        viewer: ViewerId,
        shows: String,
        asked: ModelId,
    },
}

/// A model as the hub stores and serves it: the stored form of [`crate::model::Upload`], with one
/// copy of its bytes shared by every response and event that carries it.
#[derive(Debug)]
pub struct StoredModel {
    pub id: ModelId,
    pub viewer_id: ViewerId,
    /// The JSON served by `GET /api/model/<id>`.
    pub body: StoredJson,
    /// The config sent with the model (not merged with anything).
    pub config: JsonObject,
    pub summary: TreeSummary,
    pub created: SystemTime,
    /// The body gzipped, made on demand and kept: every later page and client reuses it.
    pub gzip: OnceLock<Bytes>,
}

impl StoredModel {
    pub fn new(
        id: ModelId,
        viewer_id: ViewerId,
        body: StoredJson,
        config: JsonObject,
        summary: TreeSummary,
    ) -> Self {
        StoredModel {
            id,
            viewer_id,
            body,
            config,
            summary,
            created: SystemTime::now(),
            gzip: OnceLock::new(),
        }
    }
}

/// What a subscriber receives: first `backlog` (the current state, or what it missed since its
/// `Last-Event-ID`), then `live` events as they happen. `live` ends after `closed`.
pub struct Subscription {
    pub backlog: Vec<Arc<Event>>,
    pub live: BoxStream<'static, Arc<Event>>,
}

/// What `subscribe` found.
pub enum SubscribeOutcome {
    Subscribed(Subscription),
    /// The viewer was deleted: pages should stop reconnecting.
    Deleted,
}

/// A PNG of a viewer, uploaded by one of its pages.
#[derive(Debug, Clone)]
pub struct Screenshot {
    pub id: String,
    pub viewer_id: ViewerId,
    pub png: Bytes,
    pub created: SystemTime,
}

/// A viewer's last drawn frame, small, as one of its pages posted it (for `/viewers`).
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub image: Bytes,
    pub kind: ImageKind,
}

/// The image formats a thumbnail may have, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    /// The format of `image`, if it is one of these.
    pub fn sniff(image: &[u8]) -> Option<ImageKind> {
        match image {
            [0x89, b'P', b'N', b'G', ..] => Some(ImageKind::Png),
            [0xFF, 0xD8, 0xFF, ..] => Some(ImageKind::Jpeg),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => {
                Some(ImageKind::Webp)
            }
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
        }
    }
}

/// One viewer in `GET /api/viewers`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ViewerSummary {
    pub id: ViewerId,
    /// Pages (event streams) attached right now, on every instance.
    pub subscribers: usize,
    pub model_id: Option<ModelId>,
    /// Leaf parts and triangles of the model on screen.
    pub parts: Option<usize>,
    pub triangles: Option<usize>,
    /// Whether a page posted the last drawn frame (`GET /api/viewer/<id>/thumbnail`).
    pub thumbnail: bool,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub last_active: String,
    pub last_event_id: Option<String>,
}

/// The merged status of a viewer, as its pages reported it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ViewerStatus {
    pub viewer_id: ViewerId,
    pub subscribers: usize,
    pub model_id: Option<ModelId>,
    /// The viewer's effective config (server defaults, then the viewer's own settings).
    #[schema(value_type = Object)]
    pub config: JsonObject,
    /// camera, UI toggles, tree visibility (`states`), picks: the latest value of each key.
    #[schema(value_type = Object)]
    pub status: JsonObject,
}
