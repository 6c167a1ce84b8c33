//! All state of the server: viewers, stored models, each viewer's event history and subscribers,
//! the status pages report, server-wide defaults and screenshots.
//!
//! [`Hub`] holds every rule once: what a new or reconnecting page receives, which model is
//! evicted, how a page's report merges into the status, which upload answers a screenshot
//! request, how the viewer list is ordered. It keeps its state in a [`Store`]: this process's
//! memory ([`memory::MemoryStore`]) or a Redis shared by several instances behind a load balancer
//! (`redis::RedisStore`, feature `redis`). Stores only store, so both behave the same, and one
//! contract suite (`tests/api.rs`, `tests/events.rs`) runs against each.
//!
//! - [`backend`]: exact measurements handed to a kernel that holds the CAD objects.
//! - [`event`]: event kinds, ids and SSE frames.
//! - [`limits`]: the bounds, flags and fixed ones.
//! - [`lock`]: the locks that give each viewer one order of writes.
//! - [`store`]: the storage interface.
//! - `live`: a page's live events (lag becomes one `resync`; `closed` ends the stream).

pub mod backend;
pub mod event;
pub mod limits;
mod live;
pub mod lock;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
pub mod store;
mod types;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::{json, Value};

use crate::ids::{ModelId, ViewerId};
use crate::model::config::initial_defaults;
pub use event::{Event, EventData, EventId, EventKind};
pub use limits::HubLimits;
use limits::{EMPTY_VIEWER_IDLE, EVICTION_WINDOW};
use lock::LockName;
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
    /// Pages' measurements waiting for a kernel on this instance (see [`backend`]).
    kernel_asks: Arc<tokio::sync::Semaphore>,
}

impl Hub {
    pub fn new(store: Arc<dyn Store>, limits: HubLimits) -> Self {
        Hub {
            store,
            limits,
            kernel_asks: Arc::new(tokio::sync::Semaphore::new(backend::KERNEL_ASKS)),
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

    /// Stores a model as the current model of `model.viewer_id` (creating the viewer) and
    /// announces it to the viewer's pages. Models over the budget are refused; to make room, the
    /// oldest models that no viewer shows go first, then this viewer's own; other viewers' models
    /// on screen are never evicted (the upload is refused instead). A refused model changes
    /// nothing: every check is made before the first step that writes.
    pub async fn publish_model(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let size = model.body.len();
        let budget = self.limits.model_budget;
        if size > budget {
            return Err(HubError::OverBudget { size, budget });
        }
        let viewer = model.viewer_id.clone();
        self.in_order(&viewer, self.publish_in_order(model)).await
    }

    /// [`Hub::publish_model`], holding the viewer's lock.
    async fn publish_in_order(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let viewer = &model.viewer_id;
        let record = self.store.viewer(viewer).await?;
        let mut merged = self.store.viewer_config(viewer).await?;
        // An animation moves the nodes of the model it was made for: a new model ends it.
        let animated = merged.get(ANIMATION).is_some_and(|a| !a.is_null());
        merged.extend(model.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        if animated && !model.config.contains_key(ANIMATION) {
            merged.insert(ANIMATION.into(), Value::Null);
        }
        self.limit(VIEWER_CONFIG).check(json_size(&merged))?;
        let admission = match &record {
            Some(_) => None,
            None => Some(self.admit_viewer(viewer, true).await?),
        };
        let room = self.store.lock(LockName::Room).await?;
        let own = record.and_then(|record| record.model);
        let victims = self.victims(model.body.len(), own.as_ref()).await?;
        // Every check passed: from here on, the model is published.
        self.store.touch(viewer, true).await?;
        if let Some(admission) = admission {
            admission.release().await;
        }
        for victim in &victims {
            tracing::debug!(model = %victim, "model evicted");
            self.store.evict_model(victim).await?;
        }
        let mut model = model;
        if animated && !model.config.contains_key(ANIMATION) {
            model.config.insert(ANIMATION.into(), Value::Null);
        }
        let model = Arc::new(model);
        let viewer = &model.viewer_id;
        self.store.put_model(model.clone()).await?;
        self.store
            .set_current_model(viewer, Some(&model.id))
            .await?;
        room.release().await;
        self.forget_picks(viewer).await?;
        self.store
            .merge_viewer_config(viewer, &model.config, self.limit(VIEWER_CONFIG))
            .await?;
        let config = self.effective_config(viewer).await?;
        let event = EventData::model(
            EventKind::ModelUpdate,
            &model,
            &config,
            self.limits.inline_limit,
        );
        self.store.append_event(viewer, &event).await?;
        Ok(model)
    }

    /// The models to evict so that `size` more bytes fit the budget, oldest first: those no
    /// viewer shows, then `own` (the model the publishing viewer shows, which the new one
    /// replaces). `ModelMemoryFull` when they are not enough; nothing is evicted here. Held
    /// under the room lock, so no other push counts the same bytes, and a model off screen
    /// never returns to it, so the plan stays true until it is carried out.
    async fn victims(&self, size: usize, own: Option<&ModelId>) -> Result<Vec<ModelId>, HubError> {
        let budget = self.limits.model_budget;
        let mut bytes = self.store.model_bytes().await?;
        let mut victims = Vec::new();
        if bytes + size <= budget {
            return Ok(victims);
        }
        let oldest = self.store.oldest_models(EVICTION_WINDOW).await?;
        let off_screen = oldest.iter().filter(|(_, current)| !current);
        let own = oldest.iter().filter(|(id, _)| Some(id) == own);
        for (id, _) in off_screen.chain(own) {
            bytes = bytes.saturating_sub(self.store.model_size(id).await?.unwrap_or(0));
            victims.push(id.clone());
            if bytes + size <= budget {
                return Ok(victims);
            }
        }
        Err(HubError::ModelMemoryFull { budget })
    }

    /// Creates the viewer if it is new, within `--max-viewers`, and marks it active; `written`
    /// for writes (which need the token where there is one), not for pages.
    async fn open_viewer(&self, viewer: &ViewerId, written: bool) -> Result<(), HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            let admission = self.admit_viewer(viewer, written).await?;
            self.store.touch(viewer, written).await?;
            admission.release().await;
            return Ok(());
        }
        self.store.touch(viewer, written).await
    }

    /// Runs `write` to `viewer` after every write to it before, and before any after.
    async fn in_order<T>(
        &self,
        viewer: &ViewerId,
        write: impl std::future::Future<Output = Result<T, HubError>>,
    ) -> Result<T, HubError> {
        let order = self.store.lock(LockName::Viewer(viewer)).await?;
        let done = write.await;
        order.release().await;
        done
    }

    /// Room for one more viewer within `--max-viewers`: the lock on new viewers, to hold until
    /// the viewer is made. Viewers only pages use may take half of the limit, so pages cannot
    /// lock writes out.
    async fn admit_viewer(&self, viewer: &ViewerId, written: bool) -> Result<lock::Held, HubError> {
        let admission = self.store.lock(LockName::NewViewers).await?;
        if self.store.viewer(viewer).await?.is_some() {
            return Ok(admission); // made meanwhile (by a page of its own)
        }
        let max = self.limits.max_viewers;
        let (all, by_writes) = self.store.viewer_counts().await?;
        if all >= max {
            return Err(HubError::TooManyViewers {
                max,
                pages_only: false,
            });
        }
        let half = (max / 2).max(1);
        if !written && all.saturating_sub(by_writes) >= half {
            return Err(HubError::TooManyViewers {
                max: half,
                pages_only: true,
            });
        }
        Ok(admission)
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
        self.open_viewer(viewer, false).await?;
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

    /// Merges `delta` into the viewer's settings and sends `config_update` with it. Returns the
    /// effective config.
    pub async fn update_config(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<JsonObject, HubError> {
        self.in_order(viewer, async {
            let mut merged = self.store.viewer_config(viewer).await?;
            merged.extend(delta.iter().map(|(k, v)| (k.clone(), v.clone())));
            self.limit(VIEWER_CONFIG).check(json_size(&merged))?;
            self.open_viewer(viewer, true).await?;
            self.store
                .merge_viewer_config(viewer, &delta, self.limit(VIEWER_CONFIG))
                .await?;
            let event =
                EventData::simple(EventKind::ConfigUpdate, viewer, json!({ "config": delta }));
            self.store.append_event(viewer, &event).await?;
            self.effective_config(viewer).await
        })
        .await
    }

    /// The viewer's effective config: server defaults, then the viewer's own settings.
    async fn effective_config(&self, viewer: &ViewerId) -> Result<JsonObject, HubError> {
        let mut config = self.store.defaults().await?;
        config.extend(self.store.viewer_config(viewer).await?);
        Ok(config)
    }

    /// Animates the model on screen, which must be `model` (a page or client names the model it
    /// made the tracks for): kept in the viewer's settings (`animation`, so a page opened later
    /// plays it too, within `--settings-limit`) and sent as an `animation` event. `None` stops it.
    pub async fn animate(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
        animation: Option<Value>,
    ) -> Result<(), HubError> {
        self.in_order(viewer, self.animate_in_order(viewer, model, animation))
            .await
    }

    /// [`Hub::animate`], holding the viewer's lock.
    async fn animate_in_order(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
        animation: Option<Value>,
    ) -> Result<(), HubError> {
        self.check_on_screen(viewer, model).await?;
        // The model it was made for goes with it: a page plays it on that model only.
        let animation = match animation {
            Some(Value::Object(mut tracks)) => {
                tracks.insert("model_id".into(), json!(model));
                Value::Object(tracks)
            }
            other => other.unwrap_or(Value::Null),
        };
        let delta = JsonObject::from_iter([(ANIMATION.to_string(), animation.clone())]);
        self.store
            .merge_viewer_config(viewer, &delta, self.limit(VIEWER_CONFIG))
            .await?;
        let event = EventData::simple(
            EventKind::Animation,
            viewer,
            json!({ "model_id": model, "animation": animation }),
        );
        self.store.append_event(viewer, &event).await
    }

    /// Picks name faces of the model they were made on: another model (or none) drops them, so
    /// `selection()` never maps them onto the wrong faces.
    async fn forget_picks(&self, viewer: &ViewerId) -> Result<(), HubError> {
        let status = self.store.viewer_status(viewer).await?;
        let picked = status
            .get(PICKS)
            .and_then(Value::as_array)
            .is_some_and(|picks| !picks.is_empty());
        if picked {
            let none = JsonObject::from_iter([(PICKS.to_string(), json!([]))]);
            self.store
                .merge_viewer_status(viewer, &none, self.limit("the viewer's status"))
                .await?;
        }
        Ok(())
    }

    /// `Ok` when the viewer shows `model`, else [`HubError::ModelChanged`].
    pub async fn check_on_screen(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
    ) -> Result<(), HubError> {
        let shows = self
            .store
            .viewer(viewer)
            .await?
            .and_then(|record| record.model);
        if shows.as_ref() == Some(model) {
            return Ok(());
        }
        Err(HubError::ModelChanged {
            viewer: viewer.clone(),
            shows: shows.map_or_else(|| "nothing".into(), |id| id.to_string()),
            asked: model.clone(),
        })
    }

    /// Drops the viewer's current model from the screen and sends `clear`.
    pub async fn clear(&self, viewer: &ViewerId) -> Result<(), HubError> {
        self.in_order(viewer, self.clear_in_order(viewer)).await
    }

    /// [`Hub::clear`], holding the viewer's lock.
    async fn clear_in_order(&self, viewer: &ViewerId) -> Result<(), HubError> {
        self.open_viewer(viewer, true).await?;
        let animation = JsonObject::from_iter([(ANIMATION.to_string(), Value::Null)]);
        if self
            .store
            .viewer_config(viewer)
            .await?
            .contains_key(ANIMATION)
        {
            self.store
                .merge_viewer_config(viewer, &animation, self.limit(VIEWER_CONFIG))
                .await?;
        }
        self.store.set_current_model(viewer, None).await?;
        self.forget_picks(viewer).await?;
        let event = EventData::simple(EventKind::Clear, viewer, json!({}));
        self.store.append_event(viewer, &event).await
    }

    /// Ends the viewer: its pages get `closed` and stop, its models are dropped, and its pages
    /// cannot bring it back (only a write can).
    pub async fn delete_viewer(&self, viewer: &ViewerId) -> Result<(), HubError> {
        self.in_order(viewer, async {
            if self.store.viewer(viewer).await?.is_none() {
                return Err(HubError::ViewerNotFound(viewer.clone()));
            }
            let event = EventData::simple(EventKind::Closed, viewer, json!({}));
            self.store.append_event(viewer, &event).await?;
            self.store.remove_viewer(viewer, true).await
        })
        .await
    }

    /// Merges a page's report into the status: `{key: value}`, or three-cad-viewer's
    /// `{key: {"old", "new"}}`, of which the status keeps `new`. Reports create no viewer: a page
    /// reports on the viewer it follows.
    pub async fn merge_status(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<ViewerStatus, HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            return Err(self.missing(viewer).await?);
        }
        // Only the server says whether a kernel answers measurements.
        let delta: JsonObject = delta
            .into_iter()
            .filter(|(key, _)| key != backend::BACKEND_KEY)
            .map(|(key, value)| (key, reported_value(value)))
            .collect();
        self.store.touch(viewer, false).await?;
        self.store
            .merge_viewer_status(viewer, &delta, self.limit("the viewer's status"))
            .await?;
        self.status(viewer).await
    }

    /// The merged status; `ViewerDeleted` for a deleted viewer (how a page that the server
    /// answered 204 learns its viewer is gone), `ViewerNotFound` for one nobody used.
    pub async fn status(&self, viewer: &ViewerId) -> Result<ViewerStatus, HubError> {
        let Some(record) = self.store.viewer(viewer).await? else {
            return Err(self.missing(viewer).await?);
        };
        Ok(ViewerStatus {
            viewer_id: viewer.clone(),
            subscribers: self.store.subscribers(viewer).await?,
            model_id: record.model,
            config: self.effective_config(viewer).await?,
            status: self.store.viewer_status(viewer).await?,
        })
    }

    /// Why a viewer is not there: deleted, or never used.
    async fn missing(&self, viewer: &ViewerId) -> Result<HubError, HubError> {
        Ok(match self.store.was_deleted(viewer).await? {
            true => HubError::ViewerDeleted(viewer.clone()),
            false => HubError::ViewerNotFound(viewer.clone()),
        })
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

    /// Asks the viewer's pages for a PNG (a `screenshot_request` event) and waits for the first
    /// answer. A viewer no page shows, known or not, is `NoPage`: either way the remedy is to open
    /// a page, and asking creates no viewer.
    pub async fn request_screenshot(
        &self,
        viewer: &ViewerId,
        timeout: Duration,
    ) -> Result<Screenshot, HubError> {
        if self.store.subscribers(viewer).await? == 0 {
            return Err(HubError::NoPage(viewer.clone()));
        }
        let request = uuid::Uuid::new_v4().simple().to_string();
        self.store.open_request(&request, viewer).await?;
        let event = EventData::simple(
            EventKind::ScreenshotRequest,
            viewer,
            json!({ "request_id": request }),
        );
        let answer = match self.store.append_event(viewer, &event).await {
            Ok(()) => self.store.await_answer(&request, timeout).await,
            Err(err) => Err(err),
        };
        self.store.close_request(&request).await?;
        match answer? {
            Some(id) => self
                .store
                .screenshot(&id)
                .await?
                .ok_or(HubError::ScreenshotNotFound(id)),
            None => Err(HubError::ScreenshotTimeout(viewer.clone())),
        }
    }

    /// Stores a PNG a page uploaded. It answers `request_id` only if that request is pending for
    /// the same viewer: a page cannot answer for another viewer.
    pub async fn store_screenshot(
        &self,
        viewer: &ViewerId,
        request_id: Option<&str>,
        png: Bytes,
    ) -> Result<Screenshot, HubError> {
        let screenshot = Screenshot {
            id: uuid::Uuid::new_v4().simple().to_string(),
            viewer_id: viewer.clone(),
            png,
            created: SystemTime::now(),
        };
        self.store.put_screenshot(&screenshot).await?;
        // A page's screenshot answers screenshot requests only, never a kernel's measurement.
        if let Some(request) = request_id.filter(|r| !backend::is_tool_request(r)) {
            let pending = self.store.request_viewer(request).await?;
            if pending.as_ref() == Some(viewer) {
                self.store.answer_request(request, &screenshot.id).await?;
            }
        }
        Ok(screenshot)
    }

    /// Keeps the last frame a page of `viewer` drew, replacing the one before. Like a status
    /// report, it creates no viewer: an unknown one is `ViewerNotFound`, a deleted one
    /// `ViewerDeleted`.
    pub async fn store_thumbnail(
        &self,
        viewer: &ViewerId,
        thumbnail: Thumbnail,
    ) -> Result<(), HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            return Err(self.missing(viewer).await?);
        }
        self.store.put_thumbnail(viewer, &thumbnail).await
    }

    pub async fn thumbnail(&self, viewer: &ViewerId) -> Result<Thumbnail, HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            return Err(self.missing(viewer).await?);
        }
        self.store
            .thumbnail(viewer)
            .await?
            .ok_or_else(|| HubError::NoThumbnail(viewer.clone()))
    }

    pub async fn screenshot(&self, id: &str) -> Result<Screenshot, HubError> {
        self.store
            .screenshot(id)
            .await?
            .ok_or_else(|| HubError::ScreenshotNotFound(id.to_string()))
    }

    /// Every viewer, the most recently active first.
    pub async fn viewers(&self) -> Result<Vec<ViewerSummary>, HubError> {
        let mut records = self.store.viewers().await?;
        records.sort_by_key(|record| std::cmp::Reverse(record.last_active));
        let mut viewers = Vec::with_capacity(records.len());
        for record in records {
            let summary = match &record.model {
                Some(model) => self.store.model_summary(model).await?,
                None => None,
            };
            viewers.push(ViewerSummary {
                subscribers: self.store.subscribers(&record.id).await?,
                last_event_id: self.store.latest_event(&record.id).await?,
                parts: summary.map(|s| s.leaves),
                triangles: summary.map(|s| s.triangles),
                thumbnail: self.store.has_thumbnail(&record.id).await?,
                model_id: record.model,
                created: rfc3339(record.created),
                last_active: rfc3339(record.last_active),
                id: record.id,
            });
        }
        Ok(viewers)
    }

    /// Counts for `/health`, over every instance sharing the store.
    pub async fn stats(&self) -> Result<StoreCounts, HubError> {
        self.store.counts().await
    }

    /// The store's name, for answers that cannot reach it.
    pub fn store_name(&self) -> &'static str {
        self.store.name()
    }

    /// Drops viewers that have had no page and no activity for longer than `idle`, with their
    /// models; returns how many. A viewer with a page counts as active; one that only pages ever
    /// used (no write) goes [`EMPTY_VIEWER_IDLE`] after its last page.
    pub async fn collect_idle(&self, idle: Duration) -> Result<usize, HubError> {
        let now = SystemTime::now();
        let mut collected = 0;
        for record in self.store.viewers().await? {
            let quiet = now.duration_since(record.last_active).unwrap_or_default();
            if self.store.subscribers(&record.id).await? > 0 {
                self.store.touch(&record.id, false).await?;
            } else if quiet > idle || (quiet > EMPTY_VIEWER_IDLE.min(idle) && !record.written) {
                // Removed in order with writes: a push that came meanwhile keeps the viewer.
                let removed = self.in_order(&record.id, async {
                    let now = self.store.viewer(&record.id).await?;
                    let still = now.is_some_and(|now| now.last_active == record.last_active);
                    if still {
                        self.store.remove_viewer(&record.id, false).await?;
                    }
                    Ok(still)
                });
                if !removed.await? {
                    continue;
                }
                tracing::info!(viewer = %record.id, "idle viewer collected");
                collected += 1;
            }
        }
        Ok(collected)
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
