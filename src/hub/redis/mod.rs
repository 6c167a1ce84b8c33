//! The store on Redis, shared by several server processes behind a load balancer.
//!
//! - [`keys`]: where everything lives.
//! - `viewers`: viewer records, settings and status (hashes of JSON values, so a merge is a
//!   plain `HSET` from any instance).
//! - `events`: each viewer's events in a Redis Stream whose entry ids are the SSE ids, so a
//!   page's `Last-Event-ID` replays with `XRANGE` on whichever instance it reaches.
//! - `tail`: each instance reads (`XREAD BLOCK`, one connection) the streams of the viewers
//!   it has pages for and fans entries out to them.
//! - `instances`: heartbeats, and page counts that stop counting when their instance dies.
//! - `models`: model bodies and the byte count eviction works from.
//! - `locks`: the hub's locks across instances, as keys with a lease.
//! - `screenshots`: screenshots, and the hand-off from the instance a page uploads to to the
//!   one waiting for it.
//!
//! Every failure to reach Redis is [`HubError::Unavailable`]: the server answers 503
//! `store_unavailable`, and the connection comes back by itself.

mod events;
mod instances;
pub mod keys;
mod locks;
mod models;
mod screenshots;
mod tail;
mod viewers;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::limits::HubLimits;
use super::lock::{Held, LocalLocks, LockName};
use super::store::{Attachment, SettingsLimit, Store, StoreCounts, ViewerRecord};
use super::{
    Event, EventData, EventId, HubError, JsonObject, ModelInfo, ModelTree, Screenshot, StoredModel,
    Thumbnail,
};
use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::TreeSummary;
use keys::Keys;

type Result<T> = std::result::Result<T, HubError>;

/// The [`Store`] on Redis.
pub struct RedisStore {
    inner: Arc<Inner>,
}

/// What the parts of the store share.
struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    keys: Keys,
    limits: HubLimits,
    /// This process, among the instances sharing the store.
    instance: String,
    /// Viewers with pages on this instance: their live channel and the last entry read.
    local: Mutex<HashMap<ViewerId, tail::Local>>,
    /// Viewers whose page count here was last written as more than zero.
    reported: Mutex<HashSet<ViewerId>>,
    /// This instance's side of the locks (see [`locks`]).
    locks: LocalLocks,
}

fn unavailable(err: redis::RedisError) -> HubError {
    HubError::Unavailable(format!("redis: {err}"))
}

fn micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn from_micros(value: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(value)
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port[/db]`); `prefix` namespaces every key. The first
    /// instance seeds the server-wide `defaults`; later ones keep what is there.
    pub async fn connect(
        url: &str,
        prefix: &str,
        limits: HubLimits,
        defaults: JsonObject,
    ) -> Result<RedisStore> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(5))
            .set_number_of_retries(1)
            .set_max_delay(500);
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(unavailable)?;
        let inner = Arc::new(Inner {
            client,
            conn,
            keys: Keys::new(prefix),
            limits,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            local: Mutex::new(HashMap::new()),
            reported: Mutex::new(HashSet::new()),
            locks: LocalLocks::default(),
        });
        let mut conn = inner.conn();
        for (key, value) in defaults {
            let _: bool = conn
                .hset_nx(inner.keys.defaults(), key, value.to_string())
                .await
                .map_err(unavailable)?;
        }
        inner.heartbeat().await?;
        tokio::spawn(tail::run(Arc::downgrade(&inner)));
        tokio::spawn(instances::beat(Arc::downgrade(&inner)));
        Ok(RedisStore { inner })
    }
}

impl Inner {
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Runs a pipeline whose answers are all ignored.
    async fn run(&self, pipe: &redis::Pipeline) -> Result<()> {
        pipe.query_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }
}

#[async_trait::async_trait]
impl Store for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn lock(&self, name: LockName<'_>) -> Result<Held> {
        self.inner.lock(name).await
    }

    async fn touch(&self, viewer: &ViewerId, written: bool) -> Result<()> {
        self.inner.touch(viewer, written).await
    }

    async fn mark_active(&self, viewer: &ViewerId) -> Result<bool> {
        self.inner.mark_active(viewer).await
    }

    async fn viewer(&self, viewer: &ViewerId) -> Result<Option<ViewerRecord>> {
        self.inner.record(viewer).await
    }

    async fn viewers(&self) -> Result<Vec<ViewerRecord>> {
        self.inner.records().await
    }

    async fn viewer_counts(&self) -> Result<(usize, usize)> {
        let hub = &self.inner;
        redis::pipe()
            .scard(hub.keys.viewers())
            .scard(hub.keys.written_viewers())
            .query_async(&mut hub.conn())
            .await
            .map_err(unavailable)
    }

    async fn set_current_model(&self, viewer: &ViewerId, model: Option<&ModelId>) -> Result<()> {
        self.inner.set_current_model(viewer, model).await
    }

    async fn remove_viewer(&self, viewer: &ViewerId, tombstone: bool) -> Result<()> {
        self.inner.remove_viewer(viewer, tombstone).await
    }

    async fn was_deleted(&self, viewer: &ViewerId) -> Result<bool> {
        let hub = &self.inner;
        hub.conn()
            .exists(hub.keys.deleted(viewer))
            .await
            .map_err(unavailable)
    }

    async fn defaults(&self) -> Result<JsonObject> {
        self.inner.json_hash(&self.inner.keys.defaults()).await
    }

    async fn merge_defaults(&self, delta: &JsonObject, limit: SettingsLimit) -> Result<()> {
        let hub = &self.inner;
        hub.set_json_fields(&hub.keys.defaults(), delta, limit)
            .await
    }

    async fn viewer_config(&self, viewer: &ViewerId) -> Result<JsonObject> {
        self.inner.json_hash(&self.inner.keys.config(viewer)).await
    }

    async fn merge_viewer_config(
        &self,
        viewer: &ViewerId,
        delta: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()> {
        let hub = &self.inner;
        hub.set_json_fields(&hub.keys.config(viewer), delta, limit)
            .await
    }

    async fn viewer_status(&self, viewer: &ViewerId) -> Result<JsonObject> {
        self.inner.json_hash(&self.inner.keys.status(viewer)).await
    }

    async fn merge_viewer_status(
        &self,
        viewer: &ViewerId,
        delta: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()> {
        let hub = &self.inner;
        hub.set_json_fields(&hub.keys.status(viewer), delta, limit)
            .await
    }

    async fn set_kernel_mark(
        &self,
        viewer: &ViewerId,
        mark: Option<&serde_json::Value>,
    ) -> Result<()> {
        self.inner.set_kernel_mark(viewer, mark).await
    }

    async fn kernel_mark(&self, viewer: &ViewerId) -> Result<Option<serde_json::Value>> {
        self.inner.kernel_mark(viewer).await
    }

    async fn put_model(&self, model: StoredModel) -> Result<Arc<StoredModel>> {
        self.inner.put_model(model).await
    }

    async fn model_tree(&self, id: &ModelId) -> Result<ModelTree> {
        self.inner.model_tree(id).await
    }

    async fn viewer_models(&self, viewer: &ViewerId) -> Result<Vec<ModelInfo>> {
        self.inner.viewer_models(viewer).await
    }

    async fn part_holders(&self, parts: &[PartHash]) -> Result<Vec<usize>> {
        self.inner.part_holders(parts).await
    }

    async fn parts(&self, parts: &[PartHash]) -> Result<Vec<Option<Bytes>>> {
        self.inner.parts(parts).await
    }

    async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>> {
        self.inner.load_model(id).await
    }

    async fn model_summary(&self, id: &ModelId) -> Result<Option<TreeSummary>> {
        self.inner.model_summary(id).await
    }

    async fn model_size(&self, id: &ModelId) -> Result<Option<usize>> {
        let hub = &self.inner;
        hub.conn()
            .hget(hub.keys.model(id.as_str()), "size")
            .await
            .map_err(unavailable)
    }

    async fn model_bytes(&self) -> Result<usize> {
        self.inner.model_bytes().await
    }

    async fn oldest_models(&self, skip: usize, count: usize) -> Result<Vec<(ModelId, bool)>> {
        self.inner.oldest_models(skip, count).await
    }

    async fn evict_model(&self, id: &ModelId) -> Result<()> {
        self.inner.drop_model(id).await
    }

    async fn append_event(&self, viewer: &ViewerId, event: &EventData) -> Result<()> {
        self.inner.append_event(viewer, event).await
    }

    async fn latest_event(&self, viewer: &ViewerId) -> Result<Option<String>> {
        self.inner.latest_event(viewer).await
    }

    async fn events_after(
        &self,
        viewer: &ViewerId,
        after: EventId,
    ) -> Result<Option<Vec<Arc<Event>>>> {
        self.inner.events_after(viewer, after).await
    }

    async fn attach(&self, viewer: &ViewerId) -> Result<Attachment> {
        let receiver = self.inner.follow(viewer).await?;
        let guard = self.inner.count_page(viewer).await?;
        Ok(Attachment {
            receiver,
            guard: Some(Box::new(guard)),
        })
    }

    async fn subscribers(&self, viewer: &ViewerId) -> Result<usize> {
        self.inner.subscribers(viewer).await
    }

    async fn put_screenshot(&self, screenshot: &Screenshot) -> Result<()> {
        self.inner.put_screenshot(screenshot).await
    }

    async fn screenshot(&self, id: &str) -> Result<Option<Screenshot>> {
        self.inner.load_screenshot(id).await
    }

    async fn put_thumbnail(&self, viewer: &ViewerId, thumbnail: &Thumbnail) -> Result<()> {
        self.inner.put_thumbnail(viewer, thumbnail).await
    }

    async fn thumbnail(&self, viewer: &ViewerId) -> Result<Option<Thumbnail>> {
        self.inner.thumbnail(viewer).await
    }

    async fn has_thumbnail(&self, viewer: &ViewerId) -> Result<bool> {
        let hub = &self.inner;
        hub.conn()
            .exists(hub.keys.thumbnail(viewer))
            .await
            .map_err(unavailable)
    }

    async fn open_request(&self, request: &str, viewer: &ViewerId) -> Result<()> {
        self.inner.open_request(request, viewer).await
    }

    async fn request_viewer(&self, request: &str) -> Result<Option<ViewerId>> {
        self.inner.request_viewer(request).await
    }

    async fn answer_request(&self, request: &str, answer: &str) -> Result<()> {
        self.inner.answer_request(request, answer).await
    }

    async fn await_answer(&self, request: &str, timeout: Duration) -> Result<Option<String>> {
        self.inner.await_answer(request, timeout).await
    }

    async fn close_request(&self, request: &str) -> Result<()> {
        self.inner.close_request(request).await
    }

    async fn counts(&self) -> Result<StoreCounts> {
        let hub = &self.inner;
        let keys = &hub.keys;
        let (viewers, models, bytes, screenshots): (usize, usize, Option<i64>, usize) =
            redis::pipe()
                .scard(keys.viewers())
                .zcard(keys.models())
                .get(keys.model_bytes())
                .zcount(keys.screenshots(), screenshots::fresh_since(), "+inf")
                .query_async(&mut hub.conn())
                .await
                .map_err(unavailable)?;
        Ok(StoreCounts {
            viewers,
            subscribers: hub.total_subscribers().await?,
            models,
            model_bytes: bytes.unwrap_or(0).max(0) as usize,
            screenshots,
        })
    }
}
