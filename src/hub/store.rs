//! What a store does: keep the state and hand events around, nothing more. Every rule (what a
//! page receives, what is evicted, who may answer a screenshot, how reports merge) is in
//! [`Hub`](super::Hub), written once over this trait, so the embedded store and the shared one
//! cannot drift apart. The contract tests run the same API and event suite against both.
//!
//! Every method can fail with [`HubError::Unavailable`] (a shared store out of reach), which
//! the server answers with 503 `store_unavailable`.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::broadcast;

use super::event::{Event, EventData, EventId};
use super::lock::{Held, LockName};
use super::{HubError, JsonObject, ModelInfo, ModelTree, Screenshot, StoredModel, Thumbnail};
use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::TreeSummary;

/// What a store keeps of a viewer beside its settings and status.
#[derive(Debug, Clone)]
pub struct ViewerRecord {
    pub id: ViewerId,
    pub created: SystemTime,
    pub last_active: SystemTime,
    /// The model on screen.
    pub model: Option<ModelId>,
    /// Whether a write ever used it (a push, a config, a clear), or pages alone.
    pub written: bool,
}

/// This process's live feed of one viewer's events. The store counts it as a page for as long as
/// it is held.
pub struct Attachment {
    pub receiver: broadcast::Receiver<Arc<Event>>,
    /// Whatever the store needs dropped when the page goes (Redis uncounts it).
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

/// Counts for `/health`, over every instance sharing the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreCounts {
    pub viewers: usize,
    pub subscribers: usize,
    pub models: usize,
    pub model_bytes: usize,
    pub screenshots: usize,
}

type Result<T> = std::result::Result<T, HubError>;

/// The most JSON bytes a settings object may hold after a merge, and what to call it.
#[derive(Debug, Clone, Copy)]
pub struct SettingsLimit {
    pub what: &'static str,
    pub bytes: usize,
}

impl SettingsLimit {
    /// `SettingsTooLarge` when `size` is over the limit.
    pub fn check(&self, size: usize) -> Result<()> {
        match size > self.bytes {
            true => Err(HubError::SettingsTooLarge {
                what: self.what,
                size,
                limit: self.bytes,
            }),
            false => Ok(()),
        }
    }
}

/// Storage for a [`Hub`](super::Hub).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// `memory` or `redis`, as `/health` reports it.
    fn name(&self) -> &'static str;

    /// Waits for the lock `name`, held across every instance sharing the store (see
    /// [`lock`](super::lock)).
    async fn lock(&self, name: LockName<'_>) -> Result<Held>;

    // Viewers.

    /// Creates the viewer if it is new (forgetting that it was deleted) and marks it active;
    /// `written`: a client with the right to write used it (else only pages did, so far).
    async fn touch(&self, viewer: &ViewerId, written: bool) -> Result<()>;
    /// Marks a viewer that is there active, and never makes one: `false` when there is none
    /// (what pages do must not bring back a viewer deleted meanwhile).
    async fn mark_active(&self, viewer: &ViewerId) -> Result<bool>;
    async fn viewer(&self, viewer: &ViewerId) -> Result<Option<ViewerRecord>>;
    async fn viewers(&self) -> Result<Vec<ViewerRecord>>;
    /// How many viewers there are, and how many of them a write used.
    async fn viewer_counts(&self) -> Result<(usize, usize)>;
    async fn set_current_model(&self, viewer: &ViewerId, model: Option<&ModelId>) -> Result<()>;
    /// Removes the viewer with its models, settings and status; `tombstone` remembers that it was
    /// deleted (for [`TOMBSTONE_TTL`](super::limits::TOMBSTONE_TTL)) until it is touched again.
    async fn remove_viewer(&self, viewer: &ViewerId, tombstone: bool) -> Result<()>;
    async fn was_deleted(&self, viewer: &ViewerId) -> Result<bool>;

    // Settings: JSON objects merged key by key, each merge checked against its limit in the same
    // step as it is applied (concurrent merges cannot pass the check together).

    async fn defaults(&self) -> Result<JsonObject>;
    async fn merge_defaults(&self, delta: &JsonObject, limit: SettingsLimit) -> Result<()>;
    async fn viewer_config(&self, viewer: &ViewerId) -> Result<JsonObject>;
    async fn merge_viewer_config(
        &self,
        viewer: &ViewerId,
        delta: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()>;
    async fn viewer_status(&self, viewer: &ViewerId) -> Result<JsonObject>;
    async fn merge_viewer_status(
        &self,
        viewer: &ViewerId,
        delta: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()>;

    // Kernels: the mark a kernel that answers a viewer's measurements leaves when it polls
    // (see [`kernel`](super::kernel)), kept apart from what pages report.

    async fn set_kernel_mark(
        &self,
        viewer: &ViewerId,
        mark: Option<&serde_json::Value>,
    ) -> Result<()>;
    async fn kernel_mark(&self, viewer: &ViewerId) -> Result<Option<serde_json::Value>>;

    // Models.

    /// Stores a model (room was made first): its tree, and each of its parts the store does not
    /// hold yet. Counts the bytes that adds ([`StoredModel::new_bytes`]) and answers the model as
    /// kept, its parts the store's own bytes.
    async fn put_model(&self, model: StoredModel) -> Result<Arc<StoredModel>>;
    /// A stored model; `ModelGone` once evicted, `ModelNotFound` if never known.
    async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>>;
    /// A stored model's tree form, without reading its parts.
    async fn model_tree(&self, id: &ModelId) -> Result<ModelTree>;
    /// A stored model's size as it is served (its message), without reading it.
    async fn model_size(&self, id: &ModelId) -> Result<Option<usize>>;
    /// What a stored model's tree holds (parts, triangles), without reading its body.
    async fn model_summary(&self, id: &ModelId) -> Result<Option<TreeSummary>>;
    /// Bytes of every stored tree and every stored part, each part once.
    async fn model_bytes(&self) -> Result<usize>;
    /// Up to `count` stored models after the `skip` oldest, oldest first, each with whether a
    /// viewer shows it now.
    async fn oldest_models(&self, skip: usize, count: usize) -> Result<Vec<(ModelId, bool)>>;
    /// The stored models of a viewer, oldest first.
    async fn viewer_models(&self, viewer: &ViewerId) -> Result<Vec<ModelInfo>>;
    /// How many stored models hold each of `parts` (0: the store does not have it).
    async fn part_holders(&self, parts: &[PartHash]) -> Result<Vec<usize>>;
    /// The bytes of each of `parts` while a stored model holds it.
    async fn parts(&self, parts: &[PartHash]) -> Result<Vec<Option<Bytes>>>;
    /// Drops a model, remembering its id so a fetch says 410.
    async fn evict_model(&self, id: &ModelId) -> Result<()>;

    // Events.

    /// Gives the event the viewer's next id, keeps it for replay within the history bounds, and
    /// sends it to every instance's live feed.
    async fn append_event(&self, viewer: &ViewerId, event: &EventData) -> Result<()>;
    /// The id of the viewer's newest event, as the store spells it.
    async fn latest_event(&self, viewer: &ViewerId) -> Result<Option<String>>;
    /// Every kept event after `after`, oldest first; `None` when some of them are no longer kept.
    async fn events_after(
        &self,
        viewer: &ViewerId,
        after: EventId,
    ) -> Result<Option<Vec<Arc<Event>>>>;
    /// A live feed of the viewer's events from now on.
    async fn attach(&self, viewer: &ViewerId) -> Result<Attachment>;
    /// Pages of the viewer, on every instance.
    async fn subscribers(&self, viewer: &ViewerId) -> Result<usize>;

    // Screenshots.

    /// Keeps a screenshot: the newest [`SCREENSHOTS`](super::limits::SCREENSHOTS), each for at
    /// most [`SCREENSHOT_TTL`](super::limits::SCREENSHOT_TTL).
    async fn put_screenshot(&self, screenshot: &Screenshot) -> Result<()>;
    async fn screenshot(&self, id: &str) -> Result<Option<Screenshot>>;
    // Hand-offs: an instance waits for an answer that may reach any instance (a page's
    // screenshot for a client, a kernel's exact measurement for a page).

    /// Records that `request` (a fresh id) waits for an answer about `viewer`.
    async fn open_request(&self, request: &str, viewer: &ViewerId) -> Result<()>;
    /// The viewer a pending request is for.
    async fn request_viewer(&self, request: &str) -> Result<Option<ViewerId>>;
    /// Hands `answer` (a screenshot's id, a JSON text) to whoever waits for `request`, on any
    /// instance.
    async fn answer_request(&self, request: &str, answer: &str) -> Result<()>;
    /// Waits for the answer to `request`, or `None` after `timeout`.
    async fn await_answer(&self, request: &str, timeout: Duration) -> Result<Option<String>>;
    async fn close_request(&self, request: &str) -> Result<()>;

    // Thumbnails: each viewer's last drawn frame, small, replaced by the next and removed with
    // the viewer.

    async fn put_thumbnail(&self, viewer: &ViewerId, thumbnail: &Thumbnail) -> Result<()>;
    async fn thumbnail(&self, viewer: &ViewerId) -> Result<Option<Thumbnail>>;
    /// Whether the viewer has one, without reading it.
    async fn has_thumbnail(&self, viewer: &ViewerId) -> Result<bool>;

    async fn counts(&self) -> Result<StoreCounts>;
}
