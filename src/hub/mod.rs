//! All state of the server: viewers, stored models, each viewer's event history and subscribers,
//! the status pages report, server-wide defaults and screenshots.
//!
//! [`Hub`] holds every rule once: what a new or reconnecting page receives, which model is
//! evicted, how a page's report merges into the status, which upload answers a screenshot
//! request, how the viewer list is ordered. It keeps its state in a [`Store`]: this process's
//! memory ([`memory::MemoryStore`]) or a Redis shared by several instances behind a load balancer
//! (`redis::RedisStore`, feature `redis`). Stores only store, so both behave the same, and one
//! contract suite (`tests/api.rs`, `tests/events.rs`, `tests/order.rs`) runs against each.
//!
//! - [`kernel`]: exact measurements handed to a kernel that holds the CAD objects.
//! - [`event`]: event kinds, ids and SSE frames.
//! - [`limits`]: the bounds, flags and fixed ones.
//! - [`lock`]: the locks that give each viewer one order of writes.
//! - `publish`, `viewers`, `screenshots`: the hub's rules for models, viewers and screenshots.
//! - `history`: each viewer's kept versions, showing one again, and the trees a diff compares.
//! - [`store`]: the storage interface.
//! - `live`: a page's live events (lag becomes one `resync`; `closed` ends the stream).

pub mod event;
mod history;
pub mod kernel;
pub mod limits;
mod live;
pub mod lock;
pub mod memory;
mod publish;
#[cfg(feature = "redis")]
pub mod redis;
mod screenshots;
pub mod store;
mod types;
mod viewers;

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::config::initial_defaults;
pub use event::{Event, EventData, EventId, EventKind};
pub use history::History;
pub use limits::HubLimits;
pub use memory::MemoryStore;
use store::SettingsLimit;
pub use store::{Store, StoreCounts};

/// What a viewer's own settings are called in errors.
const VIEWER_CONFIG: &str = "the viewer's config";
/// The viewer setting that holds its animation (see [`Hub::animate`]).
const ANIMATION: &str = "animation";
/// The status key of the page's picks (three-cad-viewer's name).
pub const PICKS: &str = "selectedShapeIDs";
pub use types::*;

/// The state of the server, with its rules, over a [`Store`]. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    store: Arc<dyn Store>,
    limits: HubLimits,
    /// Pages' measurements waiting for a kernel on this instance (see [`kernel`]).
    kernel_asks: Arc<tokio::sync::Semaphore>,
}

impl Hub {
    pub fn new(store: Arc<dyn Store>, limits: HubLimits) -> Self {
        Hub {
            store,
            limits,
            kernel_asks: Arc::new(tokio::sync::Semaphore::new(kernel::KERNEL_ASKS)),
        }
    }

    /// A hub in this process's memory.
    pub fn in_memory(limits: HubLimits) -> Self {
        Hub::new(
            Arc::new(MemoryStore::new(limits, initial_defaults())),
            limits,
        )
    }

    pub fn limits(&self) -> HubLimits {
        self.limits
    }

    /// The `--settings-limit` of `what`.
    fn limit(&self, what: &'static str) -> SettingsLimit {
        SettingsLimit {
            what,
            bytes: self.limits.settings_bytes,
        }
    }

    /// A stored model; `ModelGone` once it was evicted.
    pub async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>, HubError> {
        self.store.model(id).await
    }

    /// A stored model's tree form, without its parts' bytes.
    pub async fn model_tree(&self, id: &ModelId) -> Result<ModelTree, HubError> {
        self.store.model_tree(id).await
    }

    /// The bytes of each of `parts` that is stored.
    pub async fn parts(&self, parts: &[PartHash]) -> Result<Vec<Option<bytes::Bytes>>, HubError> {
        self.store.parts(parts).await
    }

    /// Attaches a page. Without `last_event_id` it first receives the viewer's current state;
    /// with one, exactly the events after it, or one `resync` when they are no longer all kept
    /// (or the id is unknown). Then live events, until the viewer is deleted.
    pub async fn subscribe(
        &self,
        viewer: &ViewerId,
        last_event_id: Option<&str>,
    ) -> Result<SubscribeOutcome, HubError> {
        if self.store.was_deleted(viewer).await? {
            return Ok(SubscribeOutcome::Deleted);
        }
        match self.open_viewer(viewer, false).await {
            Err(HubError::ViewerDeleted(_)) => return Ok(SubscribeOutcome::Deleted),
            opened => opened?,
        }
        // Attached before reading anything: no event falls between the backlog and the feed
        // (those in both are dropped from the feed by id).
        let attachment = self.store.attach(viewer).await?;
        let latest_text = self.store.latest_event(viewer).await?;
        let latest = latest_text
            .as_deref()
            .and_then(EventId::parse)
            .unwrap_or_default();
        let latest_text = latest_text.unwrap_or_else(|| "0".into());
        // An id this server never gave (garbage) counts as none: the page starts afresh.
        let last = last_event_id.and_then(EventId::parse);
        let backlog = match last {
            None => {
                self.state_event(viewer, EventKind::ModelUpdate, &latest_text)
                    .await?
            }
            Some(last) if last == latest => Vec::new(),
            Some(last) if last < latest => match self.store.events_after(viewer, last).await? {
                Some(missed) => missed,
                None => {
                    self.state_event(viewer, EventKind::Resync, &latest_text)
                        .await?
                }
            },
            Some(_) => {
                self.state_event(viewer, EventKind::Resync, &latest_text)
                    .await?
            }
        };
        let start = backlog
            .last()
            .and_then(|event| event.event_id())
            .map_or(latest, |id| id.max(latest));
        let live = live::events(self.clone(), viewer.clone(), attachment, start);
        Ok(SubscribeOutcome::Subscribed(Subscription { backlog, live }))
    }

    /// The viewer's current state as at most one event with the id `event_id`: its model with the
    /// effective config; with no model, the config (a `resync` always says there is no model).
    async fn state_event(
        &self,
        viewer: &ViewerId,
        kind: EventKind,
        event_id: &str,
    ) -> Result<Vec<Arc<Event>>, HubError> {
        let own_config = self.store.viewer_config(viewer).await?;
        let mut config = self.store.defaults().await?;
        config.extend(own_config.iter().map(|(k, v)| (k.clone(), v.clone())));
        let record = self.store.viewer(viewer).await?;
        let data = match record.and_then(|record| record.model) {
            Some(model) => self.model_state(viewer, &model, kind, &config).await?,
            None => None,
        };
        let data = data.or_else(|| match kind {
            EventKind::Resync => Some(EventData::simple(
                kind,
                viewer,
                json!({ "model_id": null, "config": config }),
            )),
            _ if !own_config.is_empty() => Some(EventData::simple(
                EventKind::ConfigUpdate,
                viewer,
                json!({ "config": config }),
            )),
            _ => None,
        });
        Ok(data
            .map(|data| Arc::new(data.with_id(event_id.to_string())))
            .into_iter()
            .collect())
    }

    /// A model event for the model on screen; a model over the inline limit is announced from its
    /// size alone, without reading it. `None` if it was evicted meanwhile.
    async fn model_state(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
        kind: EventKind,
        config: &JsonObject,
    ) -> Result<Option<EventData>, HubError> {
        let limit = self.limits.inline_limit;
        match self.store.model_size(model).await? {
            None => Ok(None),
            Some(size) if size > limit => Ok(Some(EventData::model_announcement(
                kind, model, viewer, size, config,
            ))),
            Some(_) => match self.store.model(model).await {
                Ok(stored) => Ok(Some(EventData::model(kind, &stored, config, limit))),
                Err(HubError::ModelGone(_) | HubError::ModelNotFound(_)) => Ok(None),
                Err(err) => Err(err),
            },
        }
    }

    /// Whether the viewer was deleted (a lagging page's stream then ends).
    async fn was_deleted(&self, viewer: &ViewerId) -> Result<bool, HubError> {
        self.store.was_deleted(viewer).await
    }

    /// The current state as a `resync` with the newest event's id, for a page that lagged; the
    /// id is read first, so events after it are the page's to receive live.
    async fn resync(&self, viewer: &ViewerId) -> Result<(EventId, Vec<Arc<Event>>), HubError> {
        let latest = self.store.latest_event(viewer).await?;
        let latest = latest.unwrap_or_else(|| "0".into());
        let events = self.state_event(viewer, EventKind::Resync, &latest).await?;
        Ok((EventId::parse(&latest).unwrap_or_default(), events))
    }

    /// The viewer's effective config: server defaults, then the viewer's own settings.
    async fn effective_config(&self, viewer: &ViewerId) -> Result<JsonObject, HubError> {
        let mut config = self.store.defaults().await?;
        config.extend(self.store.viewer_config(viewer).await?);
        Ok(config)
    }

    /// Server-wide viewer defaults.
    pub async fn defaults(&self) -> Result<JsonObject, HubError> {
        self.store.defaults().await
    }

    /// Merges into the server-wide defaults; returns them.
    pub async fn merge_defaults(&self, delta: JsonObject) -> Result<JsonObject, HubError> {
        self.store
            .merge_defaults(&delta, self.limit("the server-wide defaults"))
            .await?;
        self.store.defaults().await
    }

    /// Counts for `/health`, over every instance sharing the store.
    pub async fn stats(&self) -> Result<StoreCounts, HubError> {
        self.store.counts().await
    }

    /// The store's name, for answers that cannot reach it.
    pub fn store_name(&self) -> &'static str {
        self.store.name()
    }
}

/// The size of a JSON object as text.
fn json_size(object: &JsonObject) -> usize {
    serde_json::to_vec(object).map_or(usize::MAX, |json| json.len())
}

/// The value a page reported for one key: the `new` of `{"old", "new"}`, or the value itself.
fn reported_value(value: Value) -> Value {
    match value {
        Value::Object(mut change)
            if change.contains_key("new") && change.keys().all(|k| k == "new" || k == "old") =>
        {
            change.remove("new").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Formats a time for JSON answers (RFC 3339, UTC).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let time = time::OffsetDateTime::from(time);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
