//! All state of the server behind one interface, [`Hub`]: viewers, stored models, each viewer's
//! event history and subscribers, the status pages report, server-wide defaults and screenshots.
//!
//! Routes only talk to `dyn Hub`, so a shared store (Redis, for several server processes behind a
//! load balancer) can implement it beside the embedded [`MemoryHub`]. Event ids are opaque strings
//! at this boundary for the same reason (a Redis stream's entry ids are not plain integers).

pub mod event;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rocket::futures::stream::BoxStream;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::ids::{ModelId, ViewerId};
use crate::model::{StoredJson, TreeSummary};

pub use event::Event;
pub use memory::MemoryHub;

/// A JSON object: configs, status and their deltas.
pub type JsonObject = Map<String, Value>;

/// Failures a hub reports; the server maps each to a status code.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no model {0}")]
    ModelNotFound(ModelId),
    #[error("model {0} was evicted to stay within the model memory budget; push it again")]
    ModelGone(ModelId),
    #[error("no viewer {0}")]
    ViewerNotFound(ViewerId),
    #[error("no screenshot {0}")]
    ScreenshotNotFound(String),
    #[error("a model of {size} bytes does not fit the model memory budget of {budget} bytes")]
    OverBudget { size: usize, budget: usize },
    #[error("no page is showing viewer {0}: open its viewer URL first")]
    NoPage(ViewerId),
    #[error("no page of viewer {0} answered the screenshot request in time")]
    ScreenshotTimeout(ViewerId),
    #[error("the state store is unavailable: {0}")]
    Unavailable(String),
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
/// `Last-Event-ID`), then `live` events as they happen. `live` ends when the viewer is deleted.
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

/// One viewer in `GET /api/viewers`.
#[derive(Debug, Clone, Serialize)]
pub struct ViewerSummary {
    pub id: ViewerId,
    /// Pages (event streams) attached right now.
    pub subscribers: usize,
    pub model_id: Option<ModelId>,
    pub created: String,
    pub last_active: String,
    pub last_event_id: Option<String>,
}

/// The merged status of a viewer, as its pages reported it.
#[derive(Debug, Clone, Serialize)]
pub struct ViewerStatus {
    pub viewer_id: ViewerId,
    pub subscribers: usize,
    pub model_id: Option<ModelId>,
    /// The viewer's effective config (server defaults, then the viewer's own settings).
    pub config: JsonObject,
    /// camera, UI toggles, tree visibility (`states`), picks: the latest value of each key.
    pub status: JsonObject,
}

/// Counts for `/health`.
#[derive(Debug, Clone, Serialize)]
pub struct HubStats {
    pub viewers: usize,
    pub subscribers: usize,
    pub models: usize,
    pub model_bytes: usize,
    pub model_budget: usize,
    pub screenshots: usize,
    pub store: &'static str,
    /// Why the store cannot be used right now (a shared store that is unreachable).
    pub store_error: Option<String>,
}

/// The state of the server. Every method is cheap or async: routes call them from async workers.
#[rocket::async_trait]
pub trait Hub: Send + Sync + 'static {
    /// Stores a model as the current model of `model.viewer_id` (creating the viewer) and
    /// announces it to the viewer's subscribers.
    async fn publish_model(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError>;

    /// A stored model; `ModelGone` once it was evicted.
    async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>, HubError>;

    /// Attaches a subscriber, creating the viewer. Without `last_event_id` the backlog is the
    /// viewer's current state; with one, exactly the events after it, or a `resync` when they are
    /// no longer all known.
    async fn subscribe(
        &self,
        viewer: &ViewerId,
        last_event_id: Option<&str>,
    ) -> Result<SubscribeOutcome, HubError>;

    /// Merges `delta` into the viewer's settings and sends `config_update`. Returns the effective
    /// config.
    async fn update_config(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<JsonObject, HubError>;

    /// Drops the viewer's current model and sends `clear`.
    async fn clear(&self, viewer: &ViewerId) -> Result<(), HubError>;

    /// Ends the viewer: its pages get `closed`, its models are dropped.
    async fn delete_viewer(&self, viewer: &ViewerId) -> Result<(), HubError>;

    /// Merges a page's report (`{key: value}` or `{key: {"old", "new"}}`) into the status.
    async fn merge_status(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<ViewerStatus, HubError>;

    /// The merged status; `ViewerNotFound` for a viewer nobody used.
    async fn status(&self, viewer: &ViewerId) -> Result<ViewerStatus, HubError>;

    /// Server-wide viewer defaults.
    async fn defaults(&self) -> JsonObject;

    /// Merges into the server-wide defaults; returns them.
    async fn merge_defaults(&self, delta: JsonObject) -> JsonObject;

    /// Asks the viewer's pages for a PNG (a `screenshot_request` event) and waits for the first
    /// answer.
    async fn request_screenshot(
        &self,
        viewer: &ViewerId,
        timeout: Duration,
    ) -> Result<Screenshot, HubError>;

    /// Stores a PNG a page uploaded, answering `request_id` if it is pending.
    async fn store_screenshot(
        &self,
        viewer: &ViewerId,
        request_id: Option<&str>,
        png: Bytes,
    ) -> Result<Screenshot, HubError>;

    async fn screenshot(&self, id: &str) -> Result<Screenshot, HubError>;

    async fn viewers(&self) -> Vec<ViewerSummary>;

    async fn stats(&self) -> HubStats;

    /// Drops viewers without subscribers idle for longer than `idle`; returns how many.
    async fn collect_idle(&self, idle: Duration) -> usize;
}

/// Formats a time for JSON answers (RFC 3339, UTC).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let time = time::OffsetDateTime::from(time);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The server-wide viewer defaults a fresh server starts with (ocp_vscode's config keys).
pub fn initial_defaults() -> JsonObject {
    let defaults = serde_json::json!({
        "theme": "browser",
        "control": "trackball",
        "up": "Z",
        "ortho": true,
        "axes": false,
        "axes0": false,
        "grid": [false, false, false],
        "transparent": false,
        "blackEdges": false,
        "tools": true,
        "glass": true,
        "treeWidth": 240,
        "resetCamera": "reset",
    });
    defaults.as_object().cloned().unwrap_or_default()
}
