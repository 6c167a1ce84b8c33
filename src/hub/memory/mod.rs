//! The embedded store: everything in this process's memory, within the [`limits`](super::limits).
//!
//! One mutex guards the state. Nothing slow happens under it: no parsing, no I/O, no awaits.
//! Events go live through one tokio `broadcast` channel per viewer, sent under the lock, so ids
//! reach every page in order.

mod models;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};

use super::limits::{
    HubLimits, HISTORY_BYTES, LIVE_BUFFER, SCREENSHOTS, SCREENSHOT_REQUEST_TTL, SCREENSHOT_TTL,
    TOMBSTONES, TOMBSTONE_TTL,
};
use super::lock::{Held, LocalLocks, LockName};
use super::store::{Attachment, SettingsLimit, Store, StoreCounts, ViewerRecord};
use super::{
    Event, EventData, EventId, HubError, JsonObject, ModelInfo, ModelTree, Screenshot, StoredModel,
    Thumbnail,
};
use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::TreeSummary;

type Result<T> = std::result::Result<T, HubError>;

/// The in-process [`Store`].
pub struct MemoryStore {
    state: Mutex<State>,
    locks: LocalLocks,
    event_history: usize,
}

struct State {
    viewers: HashMap<ViewerId, Viewer>,
    models: HashMap<ModelId, Arc<StoredModel>>,
    /// Every stored model's parts, each once: its bytes and how many models hold it.
    parts: HashMap<PartHash, (Bytes, usize)>,
    /// Each viewer's stored models, oldest first.
    versions: HashMap<ViewerId, VecDeque<ModelId>>,
    /// Stored models, oldest first.
    model_order: VecDeque<ModelId>,
    model_bytes: usize,
    evicted: Tombstones<ModelId>,
    deleted_viewers: Tombstones<ViewerId>,
    defaults: JsonObject,
    screenshots: VecDeque<Screenshot>,
    requests: HashMap<String, PendingRequest>,
    /// The next event id. Starts at the clock (microseconds) so ids keep increasing across
    /// restarts and a page's old `Last-Event-ID` is never mistaken for a recent one.
    next_event: u64,
}

struct Viewer {
    created: SystemTime,
    last_active: SystemTime,
    model: Option<ModelId>,
    written: bool,
    config: JsonObject,
    status: JsonObject,
    thumbnail: Option<Thumbnail>,
    /// The mark of the kernel that answers measurements (see [`kernel`](super::kernel)).
    kernel: Option<serde_json::Value>,
    history: VecDeque<Arc<Event>>,
    history_bytes: usize,
    /// Every event with a larger id is still in `history`.
    replayable_after: u64,
    latest: Option<u64>,
    live: broadcast::Sender<Arc<Event>>,
}

/// A hand-off waiting for its answer (a screenshot's id, a measurement's JSON).
struct PendingRequest {
    viewer: ViewerId,
    opened: SystemTime,
    answer: watch::Sender<Option<String>>,
}

/// A bounded, expiring set of ids that existed once.
struct Tombstones<T> {
    order: VecDeque<(T, SystemTime)>,
}

impl<T: PartialEq> Tombstones<T> {
    fn new() -> Self {
        Tombstones {
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, id: T) {
        self.remove(&id);
        if self.order.len() == TOMBSTONES {
            self.order.pop_front();
        }
        self.order.push_back((id, SystemTime::now()));
    }

    fn contains(&self, id: &T) -> bool {
        self.order
            .iter()
            .any(|(other, when)| other == id && when.elapsed().unwrap_or_default() < TOMBSTONE_TTL)
    }

    fn remove(&mut self, id: &T) {
        self.order.retain(|(other, _)| other != id);
    }
}

impl MemoryStore {
    pub fn new(limits: HubLimits, defaults: JsonObject) -> Self {
        let now_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(1);
        let state = State {
            viewers: HashMap::new(),
            models: HashMap::new(),
            parts: HashMap::new(),
            versions: HashMap::new(),
            model_order: VecDeque::new(),
            model_bytes: 0,
            evicted: Tombstones::new(),
            deleted_viewers: Tombstones::new(),
            defaults,
            screenshots: VecDeque::new(),
            requests: HashMap::new(),
            next_event: now_micros,
        };
        MemoryStore {
            state: Mutex::new(state),
            locks: LocalLocks::default(),
            event_history: limits.event_history,
        }
    }

    /// Reads from one viewer, if it exists.
    fn read_viewer<T>(&self, id: &ViewerId, read: impl FnOnce(&Viewer) -> T) -> Option<T> {
        self.lock().viewers.get(id).map(read)
    }

    /// The state, even if a thread panicked while holding it: every update leaves it consistent.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Viewer {
    fn new() -> Self {
        let now = SystemTime::now();
        Viewer {
            created: now,
            last_active: now,
            model: None,
            written: false,
            config: JsonObject::new(),
            status: JsonObject::new(),
            thumbnail: None,
            kernel: None,
            history: VecDeque::new(),
            history_bytes: 0,
            replayable_after: 0,
            latest: None,
            live: broadcast::channel(LIVE_BUFFER).0,
        }
    }

    fn record(&self, id: &ViewerId) -> ViewerRecord {
        ViewerRecord {
            id: id.clone(),
            created: self.created,
            last_active: self.last_active,
            model: self.model.clone(),
            written: self.written,
        }
    }
}

impl State {
    fn viewer_mut(&mut self, id: &ViewerId) -> Result<&mut Viewer> {
        self.viewers
            .get_mut(id)
            .ok_or_else(|| HubError::ViewerNotFound(id.clone()))
    }

    fn expire_screenshots(&mut self) {
        let fresh =
            |created: SystemTime, ttl: Duration| created.elapsed().unwrap_or_default() < ttl;
        self.screenshots
            .retain(|shot| fresh(shot.created, SCREENSHOT_TTL));
        self.requests
            .retain(|_, request| fresh(request.opened, SCREENSHOT_REQUEST_TTL));
    }
}

/// Merges `delta` into `target` unless the result would be over `limit` (checked under the
/// same lock as the merge).
fn merge_within(target: &mut JsonObject, delta: &JsonObject, limit: SettingsLimit) -> Result<()> {
    let mut merged = target.clone();
    merged.extend(delta.iter().map(|(k, v)| (k.clone(), v.clone())));
    limit.check(serde_json::to_vec(&merged).map_or(usize::MAX, |json| json.len()))?;
    *target = merged;
    Ok(())
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn lock(&self, name: LockName<'_>) -> Result<Held> {
        Ok(Held::local(self.locks.lock(name).await))
    }

    async fn touch(&self, id: &ViewerId, written: bool) -> Result<()> {
        let mut state = self.lock();
        state.deleted_viewers.remove(id);
        let viewer = state.viewers.entry(id.clone()).or_insert_with(Viewer::new);
        viewer.last_active = SystemTime::now();
        viewer.written |= written;
        Ok(())
    }

    async fn mark_active(&self, id: &ViewerId) -> Result<bool> {
        let mut state = self.lock();
        let viewer = state.viewers.get_mut(id);
        let there = viewer.is_some();
        if let Some(viewer) = viewer {
            viewer.last_active = SystemTime::now();
        }
        Ok(there)
    }

    async fn viewer(&self, id: &ViewerId) -> Result<Option<ViewerRecord>> {
        Ok(self.lock().viewers.get(id).map(|viewer| viewer.record(id)))
    }

    async fn viewers(&self) -> Result<Vec<ViewerRecord>> {
        let state = self.lock();
        Ok(state
            .viewers
            .iter()
            .map(|(id, viewer)| viewer.record(id))
            .collect())
    }

    async fn viewer_counts(&self) -> Result<(usize, usize)> {
        let state = self.lock();
        let written = state.viewers.values().filter(|v| v.written).count();
        Ok((state.viewers.len(), written))
    }

    async fn set_current_model(&self, id: &ViewerId, model: Option<&ModelId>) -> Result<()> {
        self.lock().viewer_mut(id)?.model = model.cloned();
        Ok(())
    }

    async fn remove_viewer(&self, id: &ViewerId, tombstone: bool) -> Result<()> {
        let mut state = self.lock();
        // Dropping the viewer drops its broadcast sender: every live feed ends.
        state.viewers.remove(id);
        let models = state.versions.get(id).cloned().unwrap_or_default();
        for model in models {
            state.drop_model(&model);
        }
        if tombstone {
            state.deleted_viewers.insert(id.clone());
        }
        Ok(())
    }

    async fn was_deleted(&self, id: &ViewerId) -> Result<bool> {
        Ok(self.lock().deleted_viewers.contains(id))
    }

    async fn defaults(&self) -> Result<JsonObject> {
        Ok(self.lock().defaults.clone())
    }

    async fn merge_defaults(&self, delta: &JsonObject, limit: SettingsLimit) -> Result<()> {
        merge_within(&mut self.lock().defaults, delta, limit)
    }

    async fn viewer_config(&self, id: &ViewerId) -> Result<JsonObject> {
        Ok(self
            .read_viewer(id, |v| v.config.clone())
            .unwrap_or_default())
    }

    async fn merge_viewer_config(
        &self,
        id: &ViewerId,
        delta: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()> {
        merge_within(&mut self.lock().viewer_mut(id)?.config, delta, limit)
    }

    async fn viewer_status(&self, id: &ViewerId) -> Result<JsonObject> {
        Ok(self
            .read_viewer(id, |v| v.status.clone())
            .unwrap_or_default())
    }

    async fn merge_viewer_status(
        &self,
        id: &ViewerId,
        delta: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()> {
        merge_within(&mut self.lock().viewer_mut(id)?.status, delta, limit)
    }

    async fn set_kernel_mark(&self, id: &ViewerId, mark: Option<&serde_json::Value>) -> Result<()> {
        self.lock().viewer_mut(id)?.kernel = mark.cloned();
        Ok(())
    }

    async fn kernel_mark(&self, id: &ViewerId) -> Result<Option<serde_json::Value>> {
        Ok(self.read_viewer(id, |v| v.kernel.clone()).flatten())
    }

    async fn put_model(&self, model: StoredModel) -> Result<Arc<StoredModel>> {
        self.keep_model(model).await
    }

    async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>> {
        let state = self.lock();
        match state.models.get(id) {
            Some(model) => Ok(model.clone()),
            None if state.evicted.contains(id) => Err(HubError::ModelGone(id.clone())),
            None => Err(HubError::ModelNotFound(id.clone())),
        }
    }

    async fn model_tree(&self, id: &ModelId) -> Result<ModelTree> {
        Ok(self.model(id).await?.tree_form())
    }

    async fn model_size(&self, id: &ModelId) -> Result<Option<usize>> {
        Ok(self.lock().models.get(id).map(|model| model.body.len()))
    }

    async fn model_summary(&self, id: &ModelId) -> Result<Option<TreeSummary>> {
        Ok(self.lock().models.get(id).map(|model| model.summary))
    }

    async fn model_bytes(&self) -> Result<usize> {
        Ok(self.lock().model_bytes)
    }

    async fn oldest_models(&self, skip: usize, count: usize) -> Result<Vec<(ModelId, bool)>> {
        let state = self.lock();
        let current: HashSet<&ModelId> = state
            .viewers
            .values()
            .filter_map(|viewer| viewer.model.as_ref())
            .collect();
        Ok(state
            .model_order
            .iter()
            .skip(skip)
            .take(count)
            .map(|id| (id.clone(), current.contains(id)))
            .collect())
    }

    async fn viewer_models(&self, viewer: &ViewerId) -> Result<Vec<ModelInfo>> {
        Ok(self.models_of(viewer))
    }

    async fn part_holders(&self, parts: &[PartHash]) -> Result<Vec<usize>> {
        Ok(self.lock().holders(parts))
    }

    async fn parts(&self, parts: &[PartHash]) -> Result<Vec<Option<Bytes>>> {
        Ok(self.lock().part_bytes(parts))
    }

    async fn evict_model(&self, id: &ModelId) -> Result<()> {
        self.lock().drop_model(id);
        Ok(())
    }

    async fn append_event(&self, id: &ViewerId, data: &EventData) -> Result<()> {
        let mut state = self.lock();
        let seq = state.next_event;
        state.next_event += 1;
        let history_len = self.event_history;
        let viewer = state.viewer_mut(id)?;
        let event = Arc::new(data.with_id(seq.to_string()));
        viewer.history_bytes += event.frame.len();
        viewer.history.push_back(event.clone());
        while viewer.history.len() > history_len
            || (viewer.history_bytes > HISTORY_BYTES && viewer.history.len() > 1)
        {
            if let Some(dropped) = viewer.history.pop_front() {
                viewer.replayable_after = dropped.event_id().map_or(0, |id| id.0);
                viewer.history_bytes -= dropped.frame.len();
            }
        }
        viewer.latest = Some(seq);
        viewer.last_active = SystemTime::now();
        // No receivers is fine: the history serves pages that come later.
        let _ = viewer.live.send(event);
        Ok(())
    }

    async fn latest_event(&self, id: &ViewerId) -> Result<Option<String>> {
        let latest = self.read_viewer(id, |v| v.latest).flatten();
        Ok(latest.map(|seq| seq.to_string()))
    }

    async fn events_after(&self, id: &ViewerId, after: EventId) -> Result<Option<Vec<Arc<Event>>>> {
        let state = self.lock();
        let Some(viewer) = state.viewers.get(id) else {
            return Ok(None);
        };
        if after < EventId(viewer.replayable_after, 0) {
            return Ok(None);
        }
        Ok(Some(
            viewer
                .history
                .iter()
                .filter(|event| event.event_id().is_some_and(|id| id > after))
                .cloned()
                .collect(),
        ))
    }

    async fn attach(&self, id: &ViewerId) -> Result<Attachment> {
        let mut state = self.lock();
        let receiver = state.viewer_mut(id)?.live.subscribe();
        Ok(Attachment {
            receiver,
            guard: None,
        })
    }

    async fn subscribers(&self, id: &ViewerId) -> Result<usize> {
        Ok(self
            .read_viewer(id, |v| v.live.receiver_count())
            .unwrap_or(0))
    }

    async fn put_screenshot(&self, screenshot: &Screenshot) -> Result<()> {
        let mut state = self.lock();
        state.expire_screenshots();
        if state.screenshots.len() == SCREENSHOTS {
            state.screenshots.pop_front();
        }
        state.screenshots.push_back(screenshot.clone());
        Ok(())
    }

    async fn screenshot(&self, id: &str) -> Result<Option<Screenshot>> {
        let mut state = self.lock();
        state.expire_screenshots();
        Ok(state.screenshots.iter().find(|s| s.id == id).cloned())
    }

    async fn open_request(&self, request: &str, viewer: &ViewerId) -> Result<()> {
        let mut state = self.lock();
        state.expire_screenshots();
        let pending = PendingRequest {
            viewer: viewer.clone(),
            opened: SystemTime::now(),
            answer: watch::channel(None).0,
        };
        state.requests.insert(request.to_string(), pending);
        Ok(())
    }

    async fn request_viewer(&self, request: &str) -> Result<Option<ViewerId>> {
        let state = self.lock();
        Ok(state
            .requests
            .get(request)
            .map(|pending| pending.viewer.clone()))
    }

    async fn answer_request(&self, request: &str, answer: &str) -> Result<()> {
        if let Some(pending) = self.lock().requests.get(request) {
            pending.answer.send_replace(Some(answer.to_string()));
        }
        Ok(())
    }

    async fn await_answer(&self, request: &str, timeout: Duration) -> Result<Option<String>> {
        let answer = self
            .lock()
            .requests
            .get(request)
            .map(|pending| pending.answer.subscribe());
        let Some(mut answer) = answer else {
            return Ok(None);
        };
        let answered = tokio::time::timeout(timeout, answer.wait_for(Option::is_some)).await;
        Ok(match answered {
            Ok(Ok(id)) => id.clone(),
            _ => None,
        })
    }

    async fn close_request(&self, request: &str) -> Result<()> {
        self.lock().requests.remove(request);
        Ok(())
    }

    async fn put_thumbnail(&self, viewer: &ViewerId, thumbnail: &Thumbnail) -> Result<()> {
        self.lock().viewer_mut(viewer)?.thumbnail = Some(thumbnail.clone());
        Ok(())
    }

    async fn thumbnail(&self, viewer: &ViewerId) -> Result<Option<Thumbnail>> {
        Ok(self
            .lock()
            .viewers
            .get(viewer)
            .and_then(|viewer| viewer.thumbnail.clone()))
    }

    async fn has_thumbnail(&self, viewer: &ViewerId) -> Result<bool> {
        Ok(self
            .lock()
            .viewers
            .get(viewer)
            .is_some_and(|viewer| viewer.thumbnail.is_some()))
    }

    async fn counts(&self) -> Result<StoreCounts> {
        let mut state = self.lock();
        state.expire_screenshots();
        Ok(StoreCounts {
            viewers: state.viewers.len(),
            subscribers: state
                .viewers
                .values()
                .map(|viewer| viewer.live.receiver_count())
                .sum(),
            models: state.models.len(),
            model_bytes: state.model_bytes,
            screenshots: state.screenshots.len(),
        })
    }
}

#[cfg(test)]
mod tests;
