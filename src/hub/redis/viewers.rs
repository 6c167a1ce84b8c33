//! Viewer records, settings and status.

use std::collections::HashMap;
use std::time::SystemTime;

use redis::AsyncCommands;

use super::{from_micros, micros, unavailable, Inner, Result};
use crate::hub::limits::TOMBSTONE_TTL;
use crate::hub::store::ViewerRecord;
use crate::hub::JsonObject;
use crate::ids::{ModelId, ViewerId};

/// How long a deleted viewer's stream stays, so that tails still read its final `closed`.
const CLOSED_STREAM_SECS: i64 = 60;

impl Inner {
    /// Creates the viewer if need be, forgets that it was deleted, and marks it active (and
    /// `written`, once a write used it).
    pub(super) async fn touch(&self, viewer: &ViewerId, written: bool) -> Result<()> {
        let now = micros(SystemTime::now());
        let key = self.keys.viewer(viewer);
        let mut pipe = redis::pipe();
        pipe.sadd(self.keys.viewers(), viewer.as_str())
            .ignore()
            .hset_nx(&key, "created", now)
            .ignore()
            .hset(&key, "last_active", now)
            .ignore()
            .del(self.keys.deleted(viewer))
            .ignore();
        if written {
            pipe.hset(&key, "written", 1).ignore();
        }
        self.run(&pipe).await
    }

    pub(super) async fn record(&self, viewer: &ViewerId) -> Result<Option<ViewerRecord>> {
        let fields: HashMap<String, String> = self
            .conn()
            .hgetall(self.keys.viewer(viewer))
            .await
            .map_err(unavailable)?;
        if fields.is_empty() {
            return Ok(None);
        }
        let time =
            |name: &str| from_micros(fields.get(name).and_then(|v| v.parse().ok()).unwrap_or(0));
        Ok(Some(ViewerRecord {
            id: viewer.clone(),
            created: time("created"),
            last_active: time("last_active"),
            model: fields
                .get("model")
                .and_then(|id| ModelId::new(id.clone()).ok()),
            written: fields.contains_key("written"),
        }))
    }

    pub(super) async fn records(&self) -> Result<Vec<ViewerRecord>> {
        let ids: Vec<String> = self
            .conn()
            .smembers(self.keys.viewers())
            .await
            .map_err(unavailable)?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids.into_iter().filter_map(|id| ViewerId::new(id).ok()) {
            if let Some(record) = self.record(&id).await? {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Puts `model` on the viewer's screen (or nothing), keeping `current_models` in step, which
    /// eviction reads.
    pub(super) async fn set_current_model(
        &self,
        viewer: &ViewerId,
        model: Option<&ModelId>,
    ) -> Result<()> {
        let key = self.keys.viewer(viewer);
        let previous: Option<String> =
            self.conn().hget(&key, "model").await.map_err(unavailable)?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(previous) = previous {
            pipe.srem(self.keys.current_models(), previous).ignore();
        }
        match model {
            Some(model) => pipe
                .hset(&key, "model", model.as_str())
                .ignore()
                .sadd(self.keys.current_models(), model.as_str())
                .ignore(),
            None => pipe.hdel(&key, "model").ignore(),
        };
        self.run(&pipe).await
    }

    /// Removes a viewer's state and models. Its stream is left to expire, so that tails still
    /// read a final `closed`.
    pub(super) async fn remove_viewer(&self, viewer: &ViewerId, tombstone: bool) -> Result<()> {
        let models: Vec<String> = self
            .conn()
            .smembers(self.keys.viewer_models(viewer))
            .await
            .map_err(unavailable)?;
        for id in models.into_iter().filter_map(|id| ModelId::new(id).ok()) {
            self.drop_model(&id).await?;
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .srem(self.keys.viewers(), viewer.as_str())
            .ignore()
            .del(&[
                self.keys.viewer(viewer),
                self.keys.config(viewer),
                self.keys.status(viewer),
                self.keys.viewer_models(viewer),
                self.keys.subscribers(viewer),
            ])
            .ignore()
            .expire(self.keys.events(viewer), CLOSED_STREAM_SECS)
            .ignore()
            .expire(self.keys.event_sizes(viewer), CLOSED_STREAM_SECS)
            .ignore()
            .expire(self.keys.event_bytes(viewer), CLOSED_STREAM_SECS)
            .ignore();
        if tombstone {
            pipe.set_ex(self.keys.deleted(viewer), 1, TOMBSTONE_TTL.as_secs())
                .ignore();
        }
        self.run(&pipe).await
    }

    /// A hash of JSON values as an object (fields that are not JSON are skipped).
    pub(super) async fn json_hash(&self, key: &str) -> Result<JsonObject> {
        let raw: HashMap<String, String> = self.conn().hgetall(key).await.map_err(unavailable)?;
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| Some((k, serde_json::from_str(&v).ok()?)))
            .collect())
    }

    pub(super) async fn set_json_fields(&self, key: &str, fields: &JsonObject) -> Result<()> {
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
}
