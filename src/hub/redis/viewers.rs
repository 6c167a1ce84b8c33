//! Viewer records, settings and status.

use std::collections::HashMap;
use std::time::SystemTime;

use redis::AsyncCommands;

use super::{from_micros, micros, unavailable, Inner, Result};
use crate::hub::kernel::KERNEL_GONE;
use crate::hub::limits::TOMBSTONE_TTL;
use crate::hub::store::{SettingsLimit, ViewerRecord};
use crate::hub::{HubError, ImageKind, JsonObject, Thumbnail};
use crate::ids::{ModelId, ViewerId};

/// Puts model ARGV[1] (or none, '') on a viewer's screen (KEYS[1]), moving `current_models`
/// (KEYS[2]) from the previous one in the same step.
const SET_CURRENT_MODEL: &str = r"
local previous = redis.call('HGET', KEYS[1], 'model')
if previous then redis.call('SREM', KEYS[2], previous) end
if ARGV[1] == '' then
  redis.call('HDEL', KEYS[1], 'model')
else
  redis.call('HSET', KEYS[1], 'model', ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[1])
end
return 1
";

/// Sets `last_active` (ARGV[1]) of the viewer whose hash is KEYS[1], if it is there.
const MARK_ACTIVE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_active', ARGV[1])
return 1
";

/// Sets a viewer's thumbnail (KEYS[2]: `image` ARGV[2], `kind` ARGV[3]) if the viewer
/// (ARGV[1]) is still in the set of live viewers (KEYS[1]): a thumbnail never outlives its viewer.
const PUT_THUMBNAIL: &str = r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'image', ARGV[2], 'kind', ARGV[3])
return 1
";

/// Merges field/value pairs (ARGV[2..]) into a hash unless its JSON size would pass ARGV[1];
/// answers that size either way.
const MERGE_WITHIN: &str = r"
local limit = tonumber(ARGV[1])
local new = {}
-- The merged object's JSON size: braces, and per field its quoted key, a colon, its value and
-- a comma (one comma fewer than fields).
local size = 1
for i = 2, #ARGV, 2 do
  if new[ARGV[i]] == nil then size = size + #ARGV[i] + #ARGV[i + 1] + 4 end
  new[ARGV[i]] = ARGV[i + 1]
end
local old = redis.call('HGETALL', KEYS[1])
for i = 1, #old, 2 do
  if new[old[i]] == nil then size = size + #old[i] + #old[i + 1] + 4 end
end
if size == 1 then size = 2 end
if size <= limit then
  for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return size
";

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
            .ignore()
            .persist(self.keys.events(viewer))
            .ignore()
            .persist(self.keys.event_sizes(viewer))
            .ignore()
            .persist(self.keys.event_bytes(viewer))
            .ignore();
        if written {
            pipe.hset(&key, "written", 1)
                .ignore()
                .sadd(self.keys.written_viewers(), viewer.as_str())
                .ignore();
        }
        self.run(&pipe).await
    }

    pub(super) async fn mark_active(&self, viewer: &ViewerId) -> Result<bool> {
        let marked: i64 = redis::cmd("EVAL")
            .arg(MARK_ACTIVE)
            .arg(1)
            .arg(self.keys.viewer(viewer))
            .arg(micros(SystemTime::now()))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(marked == 1)
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
        let _: i64 = redis::cmd("EVAL")
            .arg(SET_CURRENT_MODEL)
            .arg(2)
            .arg(self.keys.viewer(viewer))
            .arg(self.keys.current_models())
            .arg(model.map_or("", ModelId::as_str))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
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
            .srem(self.keys.written_viewers(), viewer.as_str())
            .ignore()
            .del(&[
                self.keys.viewer(viewer),
                self.keys.config(viewer),
                self.keys.status(viewer),
                self.keys.thumbnail(viewer),
                self.keys.viewer_models(viewer),
                self.keys.subscribers(viewer),
                self.keys.kernel(viewer),
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

    /// Merges `fields` into the hash at `key` unless the result would be over `limit`, in one
    /// step on the server; the size is the merged object's JSON size (or a byte per field over).
    pub(super) async fn set_json_fields(
        &self,
        key: &str,
        fields: &JsonObject,
        limit: SettingsLimit,
    ) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let mut script = redis::cmd("EVAL");
        script.arg(MERGE_WITHIN).arg(1).arg(key).arg(limit.bytes);
        for (name, value) in fields {
            script.arg(name).arg(value.to_string());
        }
        let size: i64 = script
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        limit.check(size.max(0) as usize)
    }

    /// Keeps a kernel's mark for as long as it may count as present, or drops it.
    pub(super) async fn set_kernel_mark(
        &self,
        viewer: &ViewerId,
        mark: Option<&serde_json::Value>,
    ) -> Result<()> {
        let key = self.keys.kernel(viewer);
        match mark {
            Some(mark) => {
                let lease = (2 * KERNEL_GONE.as_millis()) as u64;
                let _: () = self
                    .conn()
                    .pset_ex(key, mark.to_string(), lease)
                    .await
                    .map_err(unavailable)?;
            }
            None => {
                let _: () = self.conn().del(key).await.map_err(unavailable)?;
            }
        }
        Ok(())
    }

    pub(super) async fn kernel_mark(&self, viewer: &ViewerId) -> Result<Option<serde_json::Value>> {
        let mark: Option<String> = self
            .conn()
            .get(self.keys.kernel(viewer))
            .await
            .map_err(unavailable)?;
        Ok(mark.and_then(|mark| serde_json::from_str(&mark).ok()))
    }

    pub(super) async fn put_thumbnail(
        &self,
        viewer: &ViewerId,
        thumbnail: &Thumbnail,
    ) -> Result<()> {
        let kind = serde_json::to_value(thumbnail.kind).unwrap_or_default();
        let set: i64 = redis::cmd("EVAL")
            .arg(PUT_THUMBNAIL)
            .arg(2)
            .arg(self.keys.viewers())
            .arg(self.keys.thumbnail(viewer))
            .arg(viewer.as_str())
            .arg(&thumbnail.image[..])
            .arg(kind.as_str().unwrap_or("png"))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match set {
            1 => Ok(()),
            _ => Err(HubError::ViewerNotFound(viewer.clone())),
        }
    }

    pub(super) async fn thumbnail(&self, viewer: &ViewerId) -> Result<Option<Thumbnail>> {
        let (image, kind): (Option<Vec<u8>>, Option<String>) = redis::cmd("HMGET")
            .arg(self.keys.thumbnail(viewer))
            .arg("image")
            .arg("kind")
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let kind = kind.and_then(|kind| serde_json::from_value::<ImageKind>(kind.into()).ok());
        Ok(image.zip(kind).map(|(image, kind)| Thumbnail {
            image: image.into(),
            kind,
        }))
    }
}
