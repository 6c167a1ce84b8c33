//! The embedded hub: everything in this process's memory, bounded.
//!
//! - Models: a memory budget; beyond it the oldest model that is no viewer's current one goes
//!   first, then the oldest of all. Evicted ids are remembered so their fetch says 410, not 404.
//! - Events: a bounded history per viewer for replay; live delivery through a tokio `broadcast`
//!   channel, whose slow receivers lag (and get a `resync`) instead of growing memory.
//! - Viewers: created on first use, collected when idle without subscribers.
//!
//! One mutex guards the state. Nothing slow happens under it: no parsing, no I/O, no awaits.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rocket::futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{broadcast, oneshot};

use super::{
    rfc3339, Event, Hub, HubError, HubStats, JsonObject, Screenshot, StoredModel, SubscribeOutcome,
    Subscription, ViewerStatus, ViewerSummary,
};
use crate::ids::{ModelId, ViewerId};
use crate::Settings;

/// Live events buffered per viewer before a slow subscriber lags.
const LIVE_BUFFER: usize = 64;
/// Evicted model ids and deleted viewer ids remembered.
const TOMBSTONES: usize = 4096;
/// Screenshots kept (newest).
const SCREENSHOTS: usize = 32;
/// Bytes of event frames kept per viewer for replay (inlined models make frames big), beside the
/// configured count.
const HISTORY_BYTES: usize = 16 << 20;

/// The bounds a [`MemoryHub`] keeps to.
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    pub model_budget: usize,
    pub event_history: usize,
    pub inline_limit: usize,
}

impl HubLimits {
    pub fn from_settings(settings: &Settings) -> Self {
        HubLimits {
            model_budget: settings.model_memory.as_u64() as usize,
            event_history: settings.event_history.max(1),
            inline_limit: settings.inline_limit.as_u64() as usize,
        }
    }
}

/// The in-process [`Hub`].
pub struct MemoryHub {
    state: Arc<Mutex<State>>,
    limits: HubLimits,
}

struct State {
    viewers: HashMap<ViewerId, Viewer>,
    models: HashMap<ModelId, Arc<StoredModel>>,
    /// Stored models, oldest first.
    model_order: VecDeque<ModelId>,
    model_bytes: usize,
    evicted: Tombstones<ModelId>,
    deleted_viewers: Tombstones<ViewerId>,
    defaults: JsonObject,
    screenshots: VecDeque<Screenshot>,
    pending_screenshots: HashMap<String, (ViewerId, oneshot::Sender<Screenshot>)>,
    /// The next event id. Starts at the clock (microseconds) so ids keep increasing across
    /// restarts and a page's old `Last-Event-ID` is never mistaken for a recent one.
    next_event: u64,
    inline_limit: usize,
    event_history: usize,
}

struct Viewer {
    created: SystemTime,
    last_active: SystemTime,
    model: Option<ModelId>,
    /// The viewer's own settings: every model's config and live updates, merged.
    config: JsonObject,
    status: JsonObject,
    history: VecDeque<(u64, Arc<Event>)>,
    history_bytes: usize,
    /// Every event with a larger id is still in `history`.
    replayable_after: u64,
    latest: u64,
    live: broadcast::Sender<Arc<Event>>,
}

/// A bounded set of ids that existed once.
struct Tombstones<T> {
    order: VecDeque<T>,
}

impl<T: PartialEq> Tombstones<T> {
    fn new() -> Self {
        Tombstones {
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, id: T) {
        if self.order.len() == TOMBSTONES {
            self.order.pop_front();
        }
        self.order.push_back(id);
    }

    fn contains(&self, id: &T) -> bool {
        self.order.contains(id)
    }

    fn remove(&mut self, id: &T) {
        self.order.retain(|other| other != id);
    }
}

impl MemoryHub {
    pub fn new(limits: HubLimits, defaults: JsonObject) -> Self {
        let now_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(1);
        let state = State {
            viewers: HashMap::new(),
            models: HashMap::new(),
            model_order: VecDeque::new(),
            model_bytes: 0,
            evicted: Tombstones::new(),
            deleted_viewers: Tombstones::new(),
            defaults,
            screenshots: VecDeque::new(),
            pending_screenshots: HashMap::new(),
            next_event: now_micros,
            inline_limit: limits.inline_limit,
            event_history: limits.event_history,
        };
        MemoryHub {
            state: Arc::new(Mutex::new(state)),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// The state, even if a thread panicked while holding it: every update leaves it consistent.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Viewer {
    fn new() -> Self {
        let now = SystemTime::now();
        Viewer {
            created: now,
            last_active: now,
            model: None,
            config: JsonObject::new(),
            status: JsonObject::new(),
            history: VecDeque::new(),
            history_bytes: 0,
            replayable_after: 0,
            latest: 0,
            live: broadcast::channel(LIVE_BUFFER).0,
        }
    }

    fn subscribers(&self) -> usize {
        self.live.receiver_count()
    }
}

impl State {
    fn viewer(&mut self, id: &ViewerId) -> &mut Viewer {
        if !self.viewers.contains_key(id) {
            self.deleted_viewers.remove(id);
        }
        let viewer = self.viewers.entry(id.clone()).or_insert_with(Viewer::new);
        viewer.last_active = SystemTime::now();
        viewer
    }

    fn effective_config(&self, viewer: &Viewer) -> JsonObject {
        let mut config = self.defaults.clone();
        config.extend(viewer.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        config
    }

    /// Records an event in the viewer's history and sends it live.
    fn emit(&mut self, viewer_id: &ViewerId, make: impl FnOnce(&State, &Viewer, String) -> Event) {
        let seq = self.next_event;
        self.next_event += 1;
        let history_len = self.event_history;
        let Some(viewer) = self.viewers.get(viewer_id) else {
            return;
        };
        let event = Arc::new(make(self, viewer, seq.to_string()));
        let viewer = self.viewers.get_mut(viewer_id).expect("checked above");
        viewer.history_bytes += event.frame.len();
        viewer.history.push_back((seq, event.clone()));
        while viewer.history.len() > history_len
            || (viewer.history_bytes > HISTORY_BYTES && viewer.history.len() > 1)
        {
            if let Some((dropped, event)) = viewer.history.pop_front() {
                viewer.replayable_after = dropped;
                viewer.history_bytes -= event.frame.len();
            }
        }
        viewer.latest = seq;
        viewer.last_active = SystemTime::now();
        // No receivers is fine: the history serves pages that come later.
        let _ = viewer.live.send(event);
    }

    /// The viewer's current state as one event: its model with the effective config, or (with no
    /// model) just the config. `None` when there is nothing to tell a new page.
    fn state_event(&self, viewer: &Viewer, id: &ViewerId, kind: &'static str) -> Option<Event> {
        let config = self.effective_config(viewer);
        let event_id = viewer.latest.to_string();
        match viewer.model.as_ref().and_then(|m| self.models.get(m)) {
            Some(model) => Some(Event::model(
                event_id,
                kind,
                model,
                &config,
                self.inline_limit,
            )),
            None if kind == "resync" => Some(Event::simple(
                event_id,
                kind,
                id,
                json!({ "model_id": null, "config": config }),
            )),
            None if !viewer.config.is_empty() => Some(Event::simple(
                event_id,
                "config_update",
                id,
                json!({ "config": config }),
            )),
            None => None,
        }
    }

    /// Frees room for `size` more bytes of models, oldest first, sparing current models as long
    /// as possible.
    fn make_room(&mut self, size: usize, budget: usize) {
        while self.model_bytes + size > budget && !self.model_order.is_empty() {
            let current: Vec<&ModelId> = self
                .viewers
                .values()
                .filter_map(|v| v.model.as_ref())
                .collect();
            let victim = self
                .model_order
                .iter()
                .position(|id| !current.contains(&id))
                .unwrap_or(0);
            let id = self.model_order.remove(victim).expect("index in range");
            self.drop_model(&id);
        }
    }

    fn drop_model(&mut self, id: &ModelId) {
        if let Some(model) = self.models.remove(id) {
            self.model_bytes -= model.body.len();
            self.evicted.insert(id.clone());
            tracing::debug!(model = %id, bytes = model.body.len(), "model evicted");
        }
        self.model_order.retain(|other| other != id);
    }

    fn drop_models_of(&mut self, viewer: &ViewerId) {
        let ids: Vec<ModelId> = self
            .models
            .values()
            .filter(|m| &m.viewer_id == viewer)
            .map(|m| m.id.clone())
            .collect();
        for id in ids {
            self.drop_model(&id);
        }
    }

    fn status_of(&self, id: &ViewerId, viewer: &Viewer) -> ViewerStatus {
        ViewerStatus {
            viewer_id: id.clone(),
            subscribers: viewer.subscribers(),
            model_id: viewer.model.clone(),
            config: self.effective_config(viewer),
            status: viewer.status.clone(),
        }
    }
}

/// A page reports changes as `{key: {"old": ..., "new": ...}}` (three-cad-viewer's notify
/// callback) or plainly as `{key: value}`; the status keeps the newest value of each key.
fn merge_report(status: &mut JsonObject, delta: JsonObject) {
    for (key, value) in delta {
        status.insert(key, reported_value(value));
    }
}

/// The value a page reported for one key: the `new` of `{"old", "new"}`, or the value itself.
pub(crate) fn reported_value(value: Value) -> Value {
    match value {
        Value::Object(mut change)
            if change.contains_key("new") && change.keys().all(|k| k == "new" || k == "old") =>
        {
            change.remove("new").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Live events of one subscriber. A lagging subscriber gets one `resync` (the state now) in place
/// of what it missed, and from then on only newer events.
fn live_events(
    state: Arc<Mutex<State>>,
    viewer: ViewerId,
    receiver: broadcast::Receiver<Arc<Event>>,
) -> rocket::futures::stream::BoxStream<'static, Arc<Event>> {
    stream::unfold(receiver, move |mut receiver| {
        let state = state.clone();
        let viewer = viewer.clone();
        async move {
            match receiver.recv().await {
                Ok(event) => Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Events are sent under this lock, so a receiver made now misses nothing
                    // after the state the resync describes, and repeats nothing before it.
                    let state = lock(&state);
                    let current = state.viewers.get(&viewer)?;
                    let fresh = receiver.resubscribe();
                    let event = state.state_event(current, &viewer, "resync")?;
                    tracing::debug!(%viewer, missed, "slow subscriber resynced");
                    Some((Arc::new(event), fresh))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        }
    })
    .boxed()
}

#[rocket::async_trait]
impl Hub for MemoryHub {
    async fn publish_model(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let size = model.body.len();
        if size > self.limits.model_budget {
            return Err(HubError::OverBudget {
                size,
                budget: self.limits.model_budget,
            });
        }
        let model = Arc::new(model);
        let mut state = self.lock();
        state.make_room(size, self.limits.model_budget);
        state.models.insert(model.id.clone(), model.clone());
        state.model_order.push_back(model.id.clone());
        state.model_bytes += size;

        let viewer = state.viewer(&model.viewer_id);
        viewer.model = Some(model.id.clone());
        viewer
            .config
            .extend(model.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        let inline_limit = self.limits.inline_limit;
        let published = model.clone();
        state.emit(&model.viewer_id, |state, viewer, id| {
            let config = state.effective_config(viewer);
            Event::model(id, "model_update", &published, &config, inline_limit)
        });
        Ok(model)
    }

    async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>, HubError> {
        let state = self.lock();
        match state.models.get(id) {
            Some(model) => Ok(model.clone()),
            None if state.evicted.contains(id) => Err(HubError::ModelGone(id.clone())),
            None => Err(HubError::ModelNotFound(id.clone())),
        }
    }

    async fn subscribe(
        &self,
        viewer_id: &ViewerId,
        last_event_id: Option<&str>,
    ) -> Result<SubscribeOutcome, HubError> {
        let mut state = self.lock();
        if state.deleted_viewers.contains(viewer_id) {
            return Ok(SubscribeOutcome::Deleted);
        }
        let viewer = state.viewer(viewer_id);
        let receiver = viewer.live.subscribe();
        let viewer = &state.viewers[viewer_id];
        let last = last_event_id.and_then(|id| id.trim().parse::<u64>().ok());
        let backlog: Vec<Arc<Event>> = match last {
            Some(last) if last == viewer.latest => Vec::new(),
            Some(last) if last < viewer.latest && last >= viewer.replayable_after => viewer
                .history
                .iter()
                .filter(|(seq, _)| *seq > last)
                .map(|(_, event)| event.clone())
                .collect(),
            Some(_) => state
                .state_event(viewer, viewer_id, "resync")
                .map(Arc::new)
                .into_iter()
                .collect(),
            None => state
                .state_event(viewer, viewer_id, "model_update")
                .map(Arc::new)
                .into_iter()
                .collect(),
        };
        let live = live_events(self.state.clone(), viewer_id.clone(), receiver);
        Ok(SubscribeOutcome::Subscribed(Subscription { backlog, live }))
    }

    async fn update_config(
        &self,
        viewer_id: &ViewerId,
        delta: JsonObject,
    ) -> Result<JsonObject, HubError> {
        let mut state = self.lock();
        let viewer = state.viewer(viewer_id);
        viewer
            .config
            .extend(delta.iter().map(|(k, v)| (k.clone(), v.clone())));
        let effective = state.effective_config(&state.viewers[viewer_id]);
        state.emit(viewer_id, |_, _, id| {
            Event::simple(id, "config_update", viewer_id, json!({ "config": delta }))
        });
        Ok(effective)
    }

    async fn clear(&self, viewer_id: &ViewerId) -> Result<(), HubError> {
        let mut state = self.lock();
        state.viewer(viewer_id).model = None;
        state.emit(viewer_id, |_, _, id| {
            Event::simple(id, "clear", viewer_id, json!({}))
        });
        Ok(())
    }

    async fn delete_viewer(&self, viewer_id: &ViewerId) -> Result<(), HubError> {
        let mut state = self.lock();
        if !state.viewers.contains_key(viewer_id) {
            return Err(HubError::ViewerNotFound(viewer_id.clone()));
        }
        state.emit(viewer_id, |_, _, id| {
            Event::simple(id, "closed", viewer_id, json!({}))
        });
        // Dropping the viewer drops its broadcast sender: every live stream ends after `closed`.
        state.viewers.remove(viewer_id);
        state.drop_models_of(viewer_id);
        state.deleted_viewers.insert(viewer_id.clone());
        Ok(())
    }

    async fn merge_status(
        &self,
        viewer_id: &ViewerId,
        delta: JsonObject,
    ) -> Result<ViewerStatus, HubError> {
        let mut state = self.lock();
        merge_report(&mut state.viewer(viewer_id).status, delta);
        Ok(state.status_of(viewer_id, &state.viewers[viewer_id]))
    }

    async fn status(&self, viewer_id: &ViewerId) -> Result<ViewerStatus, HubError> {
        let state = self.lock();
        let viewer = state
            .viewers
            .get(viewer_id)
            .ok_or_else(|| HubError::ViewerNotFound(viewer_id.clone()))?;
        Ok(state.status_of(viewer_id, viewer))
    }

    async fn defaults(&self) -> JsonObject {
        self.lock().defaults.clone()
    }

    async fn merge_defaults(&self, delta: JsonObject) -> JsonObject {
        let mut state = self.lock();
        state.defaults.extend(delta);
        state.defaults.clone()
    }

    async fn request_screenshot(
        &self,
        viewer_id: &ViewerId,
        timeout: Duration,
    ) -> Result<Screenshot, HubError> {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let answer = {
            let mut state = self.lock();
            let pages = state.viewers.get(viewer_id).map_or(0, Viewer::subscribers);
            if pages == 0 {
                return Err(HubError::NoPage(viewer_id.clone()));
            }
            let (sender, answer) = oneshot::channel();
            state
                .pending_screenshots
                .insert(request_id.clone(), (viewer_id.clone(), sender));
            state.emit(viewer_id, |_, _, id| {
                Event::simple(
                    id,
                    "screenshot_request",
                    viewer_id,
                    json!({ "request_id": request_id }),
                )
            });
            answer
        };
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(screenshot)) => Ok(screenshot),
            _ => {
                self.lock().pending_screenshots.remove(&request_id);
                Err(HubError::ScreenshotTimeout(viewer_id.clone()))
            }
        }
    }

    async fn store_screenshot(
        &self,
        viewer_id: &ViewerId,
        request_id: Option<&str>,
        png: Bytes,
    ) -> Result<Screenshot, HubError> {
        let screenshot = Screenshot {
            id: uuid::Uuid::new_v4().simple().to_string(),
            viewer_id: viewer_id.clone(),
            png,
            created: SystemTime::now(),
        };
        let mut state = self.lock();
        if state.screenshots.len() == SCREENSHOTS {
            state.screenshots.pop_front();
        }
        state.screenshots.push_back(screenshot.clone());
        let pending = request_id.and_then(|id| state.pending_screenshots.get(id));
        if pending.is_some_and(|(viewer, _)| viewer == viewer_id) {
            let (_, waiter) = state
                .pending_screenshots
                .remove(request_id.unwrap_or_default())
                .expect("checked above");
            let _ = waiter.send(screenshot.clone());
        }
        Ok(screenshot)
    }

    async fn screenshot(&self, id: &str) -> Result<Screenshot, HubError> {
        self.lock()
            .screenshots
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| HubError::ScreenshotNotFound(id.to_string()))
    }

    async fn viewers(&self) -> Vec<ViewerSummary> {
        let state = self.lock();
        let mut viewers: Vec<(SystemTime, ViewerSummary)> = state
            .viewers
            .iter()
            .map(|(id, viewer)| {
                let summary = ViewerSummary {
                    id: id.clone(),
                    subscribers: viewer.subscribers(),
                    model_id: viewer.model.clone(),
                    created: rfc3339(viewer.created),
                    last_active: rfc3339(viewer.last_active),
                    last_event_id: (viewer.latest > 0).then(|| viewer.latest.to_string()),
                };
                (viewer.last_active, summary)
            })
            .collect();
        viewers.sort_by_key(|(last_active, _)| std::cmp::Reverse(*last_active));
        viewers.into_iter().map(|(_, summary)| summary).collect()
    }

    async fn stats(&self) -> HubStats {
        let state = self.lock();
        HubStats {
            viewers: state.viewers.len(),
            subscribers: state.viewers.values().map(Viewer::subscribers).sum(),
            models: state.models.len(),
            model_bytes: state.model_bytes,
            model_budget: self.limits.model_budget,
            screenshots: state.screenshots.len(),
            store: "memory",
            store_error: None,
        }
    }

    async fn collect_idle(&self, idle: Duration) -> usize {
        let mut state = self.lock();
        let now = SystemTime::now();
        let mut idle_viewers = Vec::new();
        for (id, viewer) in state.viewers.iter_mut() {
            if viewer.subscribers() > 0 {
                viewer.last_active = now;
            } else if now.duration_since(viewer.last_active).unwrap_or_default() > idle {
                idle_viewers.push(id.clone());
            }
        }
        for id in &idle_viewers {
            state.viewers.remove(id);
            state.drop_models_of(id);
            tracing::info!(viewer = %id, "idle viewer collected");
        }
        idle_viewers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(event_history: usize) -> MemoryHub {
        let limits = HubLimits {
            model_budget: 1 << 20,
            event_history,
            inline_limit: 1024,
        };
        MemoryHub::new(limits, JsonObject::new())
    }

    fn kind_of(event: &Event) -> String {
        let text = std::str::from_utf8(&event.frame).unwrap();
        let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        serde_json::from_str::<Value>(data).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_one_resync_instead_of_a_backlog() {
        let hub = hub(1000);
        let viewer = ViewerId::new("slow").unwrap();
        let SubscribeOutcome::Subscribed(mut slow) = hub.subscribe(&viewer, None).await.unwrap()
        else {
            panic!("subscribed");
        };
        for i in 0..LIVE_BUFFER * 2 {
            hub.update_config(&viewer, json!({ "i": i }).as_object().unwrap().clone())
                .await
                .unwrap();
        }
        let first = slow.live.next().await.unwrap();
        assert_eq!(kind_of(&first), "resync");
        assert!(std::str::from_utf8(&first.frame)
            .unwrap()
            .contains(&format!("\"i\":{}", LIVE_BUFFER * 2 - 1)));

        hub.clear(&viewer).await.unwrap();
        let next = slow.live.next().await.unwrap();
        assert_eq!(
            kind_of(&next),
            "clear",
            "nothing older than the resync follows it"
        );
    }

    #[tokio::test]
    async fn history_is_bounded_and_ids_increase() {
        let hub = hub(3);
        let viewer = ViewerId::new("h").unwrap();
        for _ in 0..10 {
            hub.clear(&viewer).await.unwrap();
        }
        let state = hub.lock();
        let history = &state.viewers[&viewer].history;
        assert_eq!(history.len(), 3);
        assert!(history
            .iter()
            .zip(history.iter().skip(1))
            .all(|(a, b)| a.0 < b.0));
    }

    #[tokio::test]
    async fn idle_viewers_without_pages_are_collected_with_their_models() {
        let hub = hub(10);
        let idle = ViewerId::new("idle").unwrap();
        let watched = ViewerId::new("watched").unwrap();
        let body = Bytes::from_static(b"{}").into();
        let model = StoredModel::new(
            ModelId::random(),
            idle.clone(),
            body,
            JsonObject::new(),
            Default::default(),
        );
        let model = hub.publish_model(model).await.unwrap();
        let _page = hub.subscribe(&watched, None).await.unwrap();
        assert_eq!(hub.collect_idle(Duration::ZERO).await, 1);
        assert!(hub.status(&idle).await.is_err());
        assert!(
            hub.status(&watched).await.is_ok(),
            "a viewer with a page stays"
        );
        assert!(matches!(
            hub.model(&model.id).await,
            Err(HubError::ModelGone(_))
        ));
    }
}
