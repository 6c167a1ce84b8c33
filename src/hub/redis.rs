//! The hub on Redis, shared by several server processes behind a load balancer.
//!
//! - Each viewer's events are a Redis Stream, `events:<viewer>`; an entry's id is the SSE event
//!   id, so a page's `Last-Event-ID` replays with `XRANGE` on whichever instance it reaches.
//!   The stream is trimmed to the event history; `max-deleted-entry-id` tells whether a page's
//!   id is still replayable (else it gets a `resync`).
//! - Each instance tails (`XREAD BLOCK`, one connection) the streams of the viewers it has pages
//!   for, and fans each entry out to its local pages through a `broadcast` channel.
//! - Models are hashes (`body` as posted, `meta`), bounded by the model memory budget: the oldest
//!   go first, sparing viewers' current models as long as possible, and leave a tombstone so a
//!   fetch says 410. Viewer settings and status are hashes of JSON values, so merges are plain
//!   `HSET`s from any instance.
//! - Subscriber counts are per instance (`subs:<viewer>`, field = instance) and count while the
//!   instance's heartbeat is fresh, so a killed instance's pages stop counting.
//! - Screenshots: the request is an event on the viewer's stream; the page uploads to whichever
//!   instance, which pushes the screenshot's id on `shot-answer:<request>` for the waiting one.
//!
//! Writes while Redis is unreachable answer 503 (`store_unavailable`) and `/health` says so; the
//! connection comes back by itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncCommands, Value as RedisValue};
use rocket::futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::memory::HubLimits;
use super::{
    rfc3339, Event, Hub, HubError, HubStats, JsonObject, Screenshot, StoredModel, SubscribeOutcome,
    Subscription, ViewerStatus, ViewerSummary,
};
use crate::ids::{ModelId, ViewerId};
use crate::model::{StoredJson, TreeSummary};

/// Live events buffered per viewer and instance before a slow page lags (and gets a resync).
const LIVE_BUFFER: usize = 64;
/// How long a tail read waits for new entries before looking at the set of viewers again.
const TAIL_BLOCK_MS: usize = 250;
/// Instances heartbeat this often; one silent for three beats no longer counts.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Tombstones of evicted models and deleted viewers are kept this long.
const TOMBSTONE_SECS: u64 = 86_400;
/// Screenshots kept (newest), and for how long.
const SCREENSHOTS: isize = 32;
const SCREENSHOT_SECS: u64 = 3_600;

/// The [`Hub`] on Redis.
pub struct RedisHub {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    limits: HubLimits,
    instance: String,
    /// Viewers with pages on this instance: their live channel and the last entry tailed.
    local: Mutex<HashMap<ViewerId, Local>>,
}

struct Local {
    live: broadcast::Sender<Arc<Event>>,
    cursor: String,
}

/// What a model's hash keeps beside its body.
#[derive(Serialize, Deserialize)]
struct ModelMeta {
    viewer_id: String,
    config: JsonObject,
    summary: TreeSummary,
    created_micros: u64,
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

/// A stream id (`<ms>-<seq>`) as a comparable pair; `None` for anything else.
fn stream_id(text: &str) -> Option<(u64, u64)> {
    let (ms, seq) = text.trim().split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

fn field_bytes(entry: &StreamId, name: &str) -> Vec<u8> {
    match entry.map.get(name) {
        Some(RedisValue::BulkString(bytes)) => bytes.clone(),
        Some(RedisValue::SimpleString(text)) => text.clone().into_bytes(),
        _ => Vec::new(),
    }
}

/// An event read back from a stream entry.
fn event_of(entry: &StreamId) -> Event {
    let kind = String::from_utf8_lossy(&field_bytes(entry, "k")).into_owned();
    Event::new(
        entry.id.clone(),
        Event::kind_named(&kind),
        &field_bytes(entry, "d"),
    )
}

impl RedisHub {
    /// Connects to `url` (`redis://host:port[/db]`); `prefix` namespaces every key.
    pub async fn connect(
        url: &str,
        prefix: &str,
        limits: HubLimits,
        defaults: JsonObject,
    ) -> Result<RedisHub, HubError> {
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
            prefix: prefix.to_string(),
            limits,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            local: Mutex::new(HashMap::new()),
        });
        // The first instance seeds the server-wide defaults; later ones keep what is there.
        let mut conn = inner.conn.clone();
        for (key, value) in defaults {
            let _: bool = conn
                .hset_nx(inner.key("defaults"), key, value.to_string())
                .await
                .map_err(unavailable)?;
        }
        inner.heartbeat().await?;
        tokio::spawn(tail(Arc::downgrade(&inner)));
        tokio::spawn(heartbeat(Arc::downgrade(&inner)));
        Ok(RedisHub { inner })
    }
}

impl Inner {
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn viewer_key(&self, viewer: &ViewerId, part: &str) -> String {
        format!("{}viewer:{viewer}{part}", self.prefix)
    }

    fn events_key(&self, viewer: &ViewerId) -> String {
        format!("{}events:{viewer}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Runs a pipeline whose answers are all ignored.
    async fn run(&self, pipe: &redis::Pipeline) -> Result<(), HubError> {
        pipe.query_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn heartbeat(&self) -> Result<(), HubError> {
        let now = micros(SystemTime::now()) / 1_000_000;
        let _: () = self
            .conn()
            .zadd(self.key("instances"), &self.instance, now)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Creates the viewer if need be and marks it active.
    async fn touch(&self, viewer: &ViewerId) -> Result<(), HubError> {
        let now = micros(SystemTime::now());
        let key = self.viewer_key(viewer, "");
        let _: () = redis::pipe()
            .sadd(self.key("viewers"), viewer.as_str())
            .ignore()
            .hset_nx(&key, "created", now)
            .ignore()
            .hset(&key, "last_active", now)
            .ignore()
            .del(self.key(&format!("deleted:{viewer}")))
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn exists(&self, viewer: &ViewerId) -> Result<bool, HubError> {
        self.conn()
            .sismember(self.key("viewers"), viewer.as_str())
            .await
            .map_err(unavailable)
    }

    /// Appends an event to the viewer's stream; answers its id.
    async fn emit(&self, viewer: &ViewerId, kind: &str, data: &[u8]) -> Result<String, HubError> {
        let history = self.limits.event_history;
        redis::cmd("XADD")
            .arg(self.events_key(viewer))
            .arg("MAXLEN")
            .arg("~")
            .arg(history)
            .arg("*")
            .arg("k")
            .arg(kind)
            .arg("d")
            .arg(data)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn latest_event(&self, viewer: &ViewerId) -> Result<Option<String>, HubError> {
        let reply: StreamRangeReply = self
            .conn()
            .xrevrange_count(self.events_key(viewer), "+", "-", 1)
            .await
            .map_err(unavailable)?;
        Ok(reply.ids.into_iter().next().map(|entry| entry.id))
    }

    /// Whether every event after `last` is still in the stream.
    async fn replayable(&self, viewer: &ViewerId, last: (u64, u64)) -> Result<bool, HubError> {
        let info: HashMap<String, RedisValue> = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(self.events_key(viewer))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let deleted = match info.get("max-deleted-entry-id") {
            Some(RedisValue::BulkString(bytes)) => stream_id(&String::from_utf8_lossy(bytes)),
            Some(RedisValue::SimpleString(text)) => stream_id(text),
            _ => None,
        };
        Ok(deleted.is_none_or(|deleted| last >= deleted))
    }

    async fn json_hash(&self, key: &str) -> Result<JsonObject, HubError> {
        let raw: HashMap<String, String> = self.conn().hgetall(key).await.map_err(unavailable)?;
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| Some((k, serde_json::from_str(&v).ok()?)))
            .collect())
    }

    async fn set_json_fields(&self, key: &str, fields: &JsonObject) -> Result<(), HubError> {
        if fields.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(&str, String)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string()))
            .collect();
        let _: () = self
            .conn()
            .hset_multiple(key, &pairs)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn effective_config(&self, viewer: &ViewerId) -> Result<JsonObject, HubError> {
        let mut config = self.json_hash(&self.key("defaults")).await?;
        config.extend(self.json_hash(&self.viewer_key(viewer, ":config")).await?);
        Ok(config)
    }

    async fn current_model(&self, viewer: &ViewerId) -> Result<Option<ModelId>, HubError> {
        let id: Option<String> = self
            .conn()
            .hget(self.viewer_key(viewer, ""), "model")
            .await
            .map_err(unavailable)?;
        Ok(id.and_then(|id| ModelId::new(id).ok()))
    }

    async fn load_model(&self, id: &ModelId) -> Result<Arc<StoredModel>, HubError> {
        let key = self.key(&format!("model:{id}"));
        let (body, meta): (Option<Vec<u8>>, Option<String>) = redis::cmd("HMGET")
            .arg(&key)
            .arg("body")
            .arg("meta")
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let (Some(body), Some(meta)) = (body, meta) else {
            let gone: bool = self
                .conn()
                .exists(self.key(&format!("gone:{id}")))
                .await
                .map_err(unavailable)?;
            return Err(match gone {
                true => HubError::ModelGone(id.clone()),
                false => HubError::ModelNotFound(id.clone()),
            });
        };
        let meta: ModelMeta = serde_json::from_str(&meta)
            .map_err(|err| HubError::Unavailable(format!("a stored model is damaged: {err}")))?;
        let viewer_id = ViewerId::new(meta.viewer_id)
            .map_err(|err| HubError::Unavailable(format!("a stored model is damaged: {err}")))?;
        let mut model = StoredModel::new(
            id.clone(),
            viewer_id,
            StoredJson::from(Bytes::from(body)),
            meta.config,
            meta.summary,
        );
        model.created = from_micros(meta.created_micros);
        Ok(Arc::new(model))
    }

    /// The viewer's current state as one event (see [`super::memory`]'s counterpart). A model
    /// over the inline limit is announced from its size alone: its body stays in Redis.
    async fn state_event(
        &self,
        viewer: &ViewerId,
        kind: &'static str,
        event_id: &str,
    ) -> Result<Option<Event>, HubError> {
        let config = self.effective_config(viewer).await?;
        let id = event_id.to_string();
        if let Some(model_id) = self.current_model(viewer).await? {
            let size: Option<usize> = self
                .conn()
                .hget(self.key(&format!("model:{model_id}")), "size")
                .await
                .map_err(unavailable)?;
            match size {
                Some(size) if size > self.limits.inline_limit => {
                    let head = Event::model_head(kind, &model_id, viewer, size, &config);
                    return Ok(Some(Event::new(id, kind, head.to_string().as_bytes())));
                }
                Some(_) => {
                    if let Ok(model) = self.load_model(&model_id).await {
                        let limit = self.limits.inline_limit;
                        return Ok(Some(Event::model(id, kind, &model, &config, limit)));
                    }
                }
                None => {} // evicted: nothing to announce
            }
        }
        let own_config: bool = self
            .conn()
            .exists(self.viewer_key(viewer, ":config"))
            .await
            .map_err(unavailable)?;
        Ok(match kind {
            "resync" => Some(Event::simple(
                id,
                kind,
                viewer,
                json!({ "model_id": null, "config": config }),
            )),
            _ if own_config => Some(Event::simple(
                id,
                "config_update",
                viewer,
                json!({ "config": config }),
            )),
            _ => None,
        })
    }

    /// Appends a `{"type": kind, "viewer_id", ...fields}` event to the viewer's stream.
    async fn emit_simple(
        &self,
        viewer: &ViewerId,
        kind: &'static str,
        fields: Value,
    ) -> Result<String, HubError> {
        self.emit(viewer, kind, &Event::simple_data(kind, viewer, fields))
            .await
    }

    /// Pages of the viewer on every live instance.
    async fn subscribers(&self, viewer: &ViewerId) -> Result<usize, HubError> {
        let counts: HashMap<String, i64> = self
            .conn()
            .hgetall(self.key(&format!("subs:{viewer}")))
            .await
            .map_err(unavailable)?;
        if counts.is_empty() {
            return Ok(0);
        }
        let alive = self.alive_instances().await?;
        Ok(counts
            .into_iter()
            .filter(|(instance, _)| alive.contains(instance))
            .map(|(_, count)| count.max(0) as usize)
            .sum())
    }

    async fn alive_instances(&self) -> Result<Vec<String>, HubError> {
        let now = micros(SystemTime::now()) / 1_000_000;
        let since = now.saturating_sub(3 * HEARTBEAT.as_secs());
        self.conn()
            .zrangebyscore(self.key("instances"), since, "+inf")
            .await
            .map_err(unavailable)
    }

    async fn count_subscriber(&self, viewer: &ViewerId, delta: i64) {
        let key = self.key(&format!("subs:{viewer}"));
        let _: Result<(), _> = self.conn().hincr(key, &self.instance, delta).await;
    }

    /// Evicts models, oldest first (sparing current ones while others remain), until `size`
    /// more bytes fit the budget.
    async fn make_room(&self, size: usize) -> Result<(), HubError> {
        let budget = self.limits.model_budget;
        loop {
            let total: Option<i64> = self
                .conn()
                .get(self.key("model_bytes"))
                .await
                .map_err(unavailable)?;
            if total.unwrap_or(0).max(0) as usize + size <= budget {
                return Ok(());
            }
            let oldest: Vec<String> = self
                .conn()
                .zrange(self.key("models"), 0, 63)
                .await
                .map_err(unavailable)?;
            let Some(first) = oldest.first().cloned() else {
                return Ok(());
            };
            let mut victim = first;
            for id in &oldest {
                let current: bool = self
                    .conn()
                    .sismember(self.key("current_models"), id)
                    .await
                    .map_err(unavailable)?;
                if !current {
                    victim = id.clone();
                    break;
                }
            }
            self.drop_model(&victim, true).await?;
        }
    }

    async fn drop_model(&self, id: &str, tombstone: bool) -> Result<(), HubError> {
        let key = self.key(&format!("model:{id}"));
        let size: Option<i64> = self.conn().hget(&key, "size").await.map_err(unavailable)?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(&key)
            .ignore()
            .zrem(self.key("models"), id)
            .ignore()
            .srem(self.key("current_models"), id)
            .ignore()
            .decr(self.key("model_bytes"), size.unwrap_or(0))
            .ignore();
        if tombstone {
            pipe.set_ex(self.key(&format!("gone:{id}")), 1, TOMBSTONE_SECS)
                .ignore();
        }
        self.run(&pipe).await
    }

    /// Removes a viewer's state (its stream is left to expire, so that tails still read a
    /// final `closed`).
    async fn remove_viewer(&self, viewer: &ViewerId, tombstone: bool) -> Result<(), HubError> {
        let models: Vec<String> = self
            .conn()
            .smembers(self.viewer_key(viewer, ":models"))
            .await
            .map_err(unavailable)?;
        for id in models {
            self.drop_model(&id, false).await?;
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .srem(self.key("viewers"), viewer.as_str())
            .ignore()
            .del(&[
                self.viewer_key(viewer, ""),
                self.viewer_key(viewer, ":config"),
                self.viewer_key(viewer, ":status"),
                self.viewer_key(viewer, ":models"),
                self.key(&format!("subs:{viewer}")),
            ])
            .ignore()
            .expire(self.events_key(viewer), 60)
            .ignore();
        if tombstone {
            pipe.set_ex(self.key(&format!("deleted:{viewer}")), 1, TOMBSTONE_SECS)
                .ignore();
        }
        self.run(&pipe).await
    }

    async fn viewer_status(&self, viewer: &ViewerId) -> Result<ViewerStatus, HubError> {
        Ok(ViewerStatus {
            viewer_id: viewer.clone(),
            subscribers: self.subscribers(viewer).await?,
            model_id: self.current_model(viewer).await?,
            config: self.effective_config(viewer).await?,
            status: self.json_hash(&self.viewer_key(viewer, ":status")).await?,
        })
    }

    async fn load_screenshot(&self, id: &str) -> Result<Screenshot, HubError> {
        let key = self.key(&format!("shot:{id}"));
        let (viewer, png, created): (Option<String>, Option<Vec<u8>>, Option<u64>) =
            redis::cmd("HMGET")
                .arg(&key)
                .arg("viewer")
                .arg("png")
                .arg("created")
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
        match (viewer.and_then(|v| ViewerId::new(v).ok()), png) {
            (Some(viewer_id), Some(png)) => Ok(Screenshot {
                id: id.to_string(),
                viewer_id,
                png: Bytes::from(png),
                created: from_micros(created.unwrap_or(0)),
            }),
            _ => Err(HubError::ScreenshotNotFound(id.to_string())),
        }
    }
}

/// Reads the streams of the viewers with pages on this instance and hands each entry to them.
async fn tail(inner: std::sync::Weak<Inner>) {
    let mut conn: Option<MultiplexedConnection> = None;
    loop {
        let Some(hub) = inner.upgrade() else { return };
        let targets: Vec<(ViewerId, String)> = {
            let mut local = hub.local.lock().unwrap_or_else(|e| e.into_inner());
            local.retain(|_, viewer| viewer.live.receiver_count() > 0);
            local
                .iter()
                .map(|(id, viewer)| (id.clone(), viewer.cursor.clone()))
                .collect()
        };
        if targets.is_empty() {
            drop(hub);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if conn.is_none() {
            conn = hub.client.get_multiplexed_async_connection().await.ok();
        }
        let Some(connection) = conn.as_mut() else {
            drop(hub);
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let keys: Vec<String> = targets.iter().map(|(id, _)| hub.events_key(id)).collect();
        let ids: Vec<&str> = targets.iter().map(|(_, cursor)| cursor.as_str()).collect();
        let options = redis::streams::StreamReadOptions::default()
            .block(TAIL_BLOCK_MS)
            .count(256);
        let reply: Result<StreamReadReply, _> =
            connection.xread_options(&keys, &ids, &options).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) => {
                tracing::warn!(%err, "reading viewer streams from redis failed; retrying");
                conn = None;
                drop(hub);
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut local = hub.local.lock().unwrap_or_else(|e| e.into_inner());
        for stream in reply.keys {
            let Some((viewer, _)) = targets
                .iter()
                .find(|(id, _)| hub.events_key(id) == stream.key)
            else {
                continue;
            };
            let Some(target) = local.get_mut(viewer) else {
                continue;
            };
            for entry in &stream.ids {
                target.cursor = entry.id.clone();
                let _ = target.live.send(Arc::new(event_of(entry)));
            }
        }
    }
}

async fn heartbeat(inner: std::sync::Weak<Inner>) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let Some(hub) = inner.upgrade() else { return };
        if let Err(err) = hub.heartbeat().await {
            tracing::warn!(%err, "redis heartbeat failed");
        }
    }
}

/// Counts a page on this instance for as long as its stream lives.
struct SubscriberGuard {
    hub: Arc<Inner>,
    viewer: ViewerId,
}

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        let (hub, viewer) = (self.hub.clone(), self.viewer.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { hub.count_subscriber(&viewer, -1).await });
        }
    }
}

#[rocket::async_trait]
impl Hub for RedisHub {
    async fn publish_model(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let hub = &self.inner;
        let size = model.body.len();
        if size > hub.limits.model_budget {
            return Err(HubError::OverBudget {
                size,
                budget: hub.limits.model_budget,
            });
        }
        hub.make_room(size).await?;
        let viewer = model.viewer_id.clone();
        hub.touch(&viewer).await?;
        let previous = hub.current_model(&viewer).await?;
        let meta = ModelMeta {
            viewer_id: viewer.to_string(),
            config: model.config.clone(),
            summary: model.summary,
            created_micros: micros(model.created),
        };
        let meta = serde_json::to_string(&meta).expect("model meta serializes");
        let id = model.id.to_string();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                hub.key(&format!("model:{id}")),
                &[
                    ("body", model.body.to_vec()),
                    ("meta", meta.into_bytes()),
                    ("size", size.to_string().into_bytes()),
                ],
            )
            .ignore()
            .zadd(hub.key("models"), &id, micros(model.created))
            .ignore()
            .incr(hub.key("model_bytes"), size)
            .ignore()
            .sadd(hub.key("current_models"), &id)
            .ignore()
            .sadd(hub.viewer_key(&viewer, ":models"), &id)
            .ignore()
            .hset(hub.viewer_key(&viewer, ""), "model", &id)
            .ignore();
        if let Some(previous) = previous {
            pipe.srem(hub.key("current_models"), previous.as_str())
                .ignore();
        }
        hub.run(&pipe).await?;
        hub.set_json_fields(&hub.viewer_key(&viewer, ":config"), &model.config)
            .await?;
        let config = hub.effective_config(&viewer).await?;
        let data = Event::model_data("model_update", &model, &config, hub.limits.inline_limit);
        hub.emit(&viewer, "model_update", &data).await?;
        Ok(Arc::new(model))
    }

    async fn model(&self, id: &ModelId) -> Result<Arc<StoredModel>, HubError> {
        self.inner.load_model(id).await
    }

    async fn subscribe(
        &self,
        viewer: &ViewerId,
        last_event_id: Option<&str>,
    ) -> Result<SubscribeOutcome, HubError> {
        let hub = &self.inner;
        let deleted: bool = hub
            .conn()
            .exists(hub.key(&format!("deleted:{viewer}")))
            .await
            .map_err(unavailable)?;
        if deleted {
            return Ok(SubscribeOutcome::Deleted);
        }
        hub.touch(viewer).await?;
        let latest = hub.latest_event(viewer).await?;
        let latest_text = latest.clone().unwrap_or_else(|| "0-0".into());
        let receiver = {
            let mut local = hub.local.lock().unwrap_or_else(|e| e.into_inner());
            local
                .entry(viewer.clone())
                .or_insert_with(|| Local {
                    live: broadcast::channel(LIVE_BUFFER).0,
                    cursor: latest_text.clone(),
                })
                .live
                .subscribe()
        };
        let last = last_event_id.and_then(stream_id);
        let newest = stream_id(&latest_text).unwrap_or((0, 0));
        let backlog: Vec<Arc<Event>> = match last {
            Some(last) if last == newest => Vec::new(),
            Some(last) if last < newest && hub.replayable(viewer, last).await? => {
                let start = format!("({}-{}", last.0, last.1);
                let reply: StreamRangeReply = hub
                    .conn()
                    .xrange(hub.events_key(viewer), start, "+")
                    .await
                    .map_err(unavailable)?;
                reply
                    .ids
                    .iter()
                    .map(|entry| Arc::new(event_of(entry)))
                    .collect()
            }
            Some(_) => hub
                .state_event(viewer, "resync", &latest_text)
                .await?
                .map(Arc::new)
                .into_iter()
                .collect(),
            None => hub
                .state_event(viewer, "model_update", &latest_text)
                .await?
                .map(Arc::new)
                .into_iter()
                .collect(),
        };
        let start = backlog
            .last()
            .and_then(|event| stream_id(&event.id))
            .map_or(newest, |id| id.max(newest));
        hub.count_subscriber(viewer, 1).await;
        let guard = SubscriberGuard {
            hub: hub.clone(),
            viewer: viewer.clone(),
        };
        let live = live_events(hub.clone(), viewer.clone(), receiver, start, guard);
        Ok(SubscribeOutcome::Subscribed(Subscription { backlog, live }))
    }

    async fn update_config(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<JsonObject, HubError> {
        let hub = &self.inner;
        hub.touch(viewer).await?;
        hub.set_json_fields(&hub.viewer_key(viewer, ":config"), &delta)
            .await?;
        hub.emit_simple(viewer, "config_update", json!({ "config": delta }))
            .await?;
        hub.effective_config(viewer).await
    }

    async fn clear(&self, viewer: &ViewerId) -> Result<(), HubError> {
        let hub = &self.inner;
        hub.touch(viewer).await?;
        if let Some(previous) = hub.current_model(viewer).await? {
            let _: () = hub
                .conn()
                .srem(hub.key("current_models"), previous.as_str())
                .await
                .map_err(unavailable)?;
        }
        let _: () = hub
            .conn()
            .hdel(hub.viewer_key(viewer, ""), "model")
            .await
            .map_err(unavailable)?;
        hub.emit_simple(viewer, "clear", json!({})).await?;
        Ok(())
    }

    async fn delete_viewer(&self, viewer: &ViewerId) -> Result<(), HubError> {
        let hub = &self.inner;
        if !hub.exists(viewer).await? {
            return Err(HubError::ViewerNotFound(viewer.clone()));
        }
        hub.emit_simple(viewer, "closed", json!({})).await?;
        hub.remove_viewer(viewer, true).await
    }

    async fn merge_status(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<ViewerStatus, HubError> {
        let hub = &self.inner;
        hub.touch(viewer).await?;
        let delta: JsonObject = delta
            .into_iter()
            .map(|(key, value)| (key, super::memory::reported_value(value)))
            .collect();
        hub.set_json_fields(&hub.viewer_key(viewer, ":status"), &delta)
            .await?;
        hub.viewer_status(viewer).await
    }

    async fn status(&self, viewer: &ViewerId) -> Result<ViewerStatus, HubError> {
        if !self.inner.exists(viewer).await? {
            return Err(HubError::ViewerNotFound(viewer.clone()));
        }
        self.inner.viewer_status(viewer).await
    }

    async fn defaults(&self) -> JsonObject {
        let hub = &self.inner;
        hub.json_hash(&hub.key("defaults"))
            .await
            .unwrap_or_default()
    }

    async fn merge_defaults(&self, delta: JsonObject) -> JsonObject {
        let hub = &self.inner;
        let _ = hub.set_json_fields(&hub.key("defaults"), &delta).await;
        self.defaults().await
    }

    async fn request_screenshot(
        &self,
        viewer: &ViewerId,
        timeout: Duration,
    ) -> Result<Screenshot, HubError> {
        let hub = &self.inner;
        if !hub.exists(viewer).await? {
            return Err(HubError::ViewerNotFound(viewer.clone()));
        }
        if hub.subscribers(viewer).await? == 0 {
            return Err(HubError::NoPage(viewer.clone()));
        }
        let request = uuid::Uuid::new_v4().simple().to_string();
        hub.emit_simple(
            viewer,
            "screenshot_request",
            json!({ "request_id": request }),
        )
        .await?;
        // BLPOP blocks its connection: a connection of its own.
        let mut conn = hub
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(unavailable)?;
        let answer: Option<(String, String)> = conn
            .blpop(
                hub.key(&format!("shot-answer:{request}")),
                timeout.as_secs_f64(),
            )
            .await
            .map_err(unavailable)?;
        match answer {
            Some((_, id)) => hub.load_screenshot(&id).await,
            None => Err(HubError::ScreenshotTimeout(viewer.clone())),
        }
    }

    async fn store_screenshot(
        &self,
        viewer: &ViewerId,
        request_id: Option<&str>,
        png: Bytes,
    ) -> Result<Screenshot, HubError> {
        let hub = &self.inner;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let created = SystemTime::now();
        let key = hub.key(&format!("shot:{id}"));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    ("viewer", viewer.as_str().as_bytes().to_vec()),
                    ("png", png.to_vec()),
                    ("created", micros(created).to_string().into_bytes()),
                ],
            )
            .ignore()
            .expire(&key, SCREENSHOT_SECS as i64)
            .ignore()
            .zadd(hub.key("shots"), &id, micros(created))
            .ignore()
            .zremrangebyrank(hub.key("shots"), 0, -(SCREENSHOTS + 1))
            .ignore();
        if let Some(request) = request_id {
            let answer = hub.key(&format!("shot-answer:{request}"));
            pipe.lpush(&answer, &id)
                .ignore()
                .expire(&answer, 60)
                .ignore();
        }
        hub.run(&pipe).await?;
        Ok(Screenshot {
            id,
            viewer_id: viewer.clone(),
            png,
            created,
        })
    }

    async fn screenshot(&self, id: &str) -> Result<Screenshot, HubError> {
        self.inner.load_screenshot(id).await
    }

    async fn viewers(&self) -> Vec<ViewerSummary> {
        let hub = &self.inner;
        let ids: Vec<String> = hub
            .conn()
            .smembers(hub.key("viewers"))
            .await
            .unwrap_or_default();
        let mut out = Vec::new();
        for id in ids.into_iter().filter_map(|id| ViewerId::new(id).ok()) {
            let times: HashMap<String, u64> = hub
                .conn()
                .hgetall(hub.viewer_key(&id, ""))
                .await
                .unwrap_or_default();
            out.push(ViewerSummary {
                subscribers: hub.subscribers(&id).await.unwrap_or(0),
                model_id: hub.current_model(&id).await.ok().flatten(),
                created: rfc3339(from_micros(times.get("created").copied().unwrap_or(0))),
                last_active: rfc3339(from_micros(times.get("last_active").copied().unwrap_or(0))),
                last_event_id: hub.latest_event(&id).await.ok().flatten(),
                id,
            });
        }
        out.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        out
    }

    async fn stats(&self) -> HubStats {
        let hub = &self.inner;
        let counts: Result<(usize, usize, Option<i64>, usize), _> = redis::pipe()
            .scard(hub.key("viewers"))
            .zcard(hub.key("models"))
            .get(hub.key("model_bytes"))
            .zcard(hub.key("shots"))
            .query_async(&mut hub.conn())
            .await;
        let subscribers = {
            let local = hub.local.lock().unwrap_or_else(|e| e.into_inner());
            local.values().map(|v| v.live.receiver_count()).sum()
        };
        let (viewers, models, bytes, screenshots, store_error) = match counts {
            Ok((viewers, models, bytes, shots)) => (viewers, models, bytes, shots, None),
            Err(err) => (0, 0, None, 0, Some(format!("redis: {err}"))),
        };
        HubStats {
            viewers,
            subscribers,
            models,
            model_bytes: bytes.unwrap_or(0).max(0) as usize,
            model_budget: hub.limits.model_budget,
            screenshots,
            store: "redis",
            store_error,
        }
    }

    async fn collect_idle(&self, idle: Duration) -> usize {
        let hub = &self.inner;
        let cutoff = micros(SystemTime::now()).saturating_sub(idle.as_micros() as u64);
        let ids: Vec<String> = hub
            .conn()
            .smembers(hub.key("viewers"))
            .await
            .unwrap_or_default();
        let mut collected = 0;
        for id in ids.into_iter().filter_map(|id| ViewerId::new(id).ok()) {
            let last: Option<u64> = hub
                .conn()
                .hget(hub.viewer_key(&id, ""), "last_active")
                .await
                .unwrap_or(None);
            let quiet = last.is_some_and(|last| last < cutoff);
            if quiet
                && hub.subscribers(&id).await.unwrap_or(1) == 0
                && hub.remove_viewer(&id, false).await.is_ok()
            {
                collected += 1;
            }
        }
        collected
    }
}

/// A page's live events: those after `start`, until the viewer is closed. A page that lags gets
/// one `resync` with the state now.
fn live_events(
    hub: Arc<Inner>,
    viewer: ViewerId,
    receiver: broadcast::Receiver<Arc<Event>>,
    start: (u64, u64),
    guard: SubscriberGuard,
) -> rocket::futures::stream::BoxStream<'static, Arc<Event>> {
    let state = (hub, viewer, receiver, start, guard, false);
    stream::unfold(
        state,
        |(hub, viewer, mut receiver, start, guard, closed)| async move {
            if closed {
                return None;
            }
            loop {
                match receiver.recv().await {
                    Ok(event) => {
                        if stream_id(&event.id).is_some_and(|id| id <= start) {
                            continue;
                        }
                        let closed = event.kind == "closed";
                        return Some((event, (hub, viewer, receiver, start, guard, closed)));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let latest = hub.latest_event(&viewer).await.ok().flatten();
                        let latest = latest.unwrap_or_else(|| "0-0".into());
                        let resync = hub.state_event(&viewer, "resync", &latest).await;
                        let start = stream_id(&latest).unwrap_or(start);
                        receiver = receiver.resubscribe();
                        if let Ok(Some(event)) = resync {
                            return Some((
                                Arc::new(event),
                                (hub, viewer, receiver, start, guard, false),
                            ));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_compare_as_pairs() {
        assert_eq!(stream_id("1700000000000-3"), Some((1_700_000_000_000, 3)));
        assert!(stream_id("1700000000000-10") > stream_id("1700000000000-9"));
        assert_eq!(stream_id("17"), None);
        assert_eq!(stream_id("a-b"), None);
    }
}
