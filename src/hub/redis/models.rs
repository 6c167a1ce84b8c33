//! Stored models: bodies as served, what eviction reads (age, size, whether a viewer shows
//! them), and tombstones for evicted ones.

use std::sync::Arc;

use bytes::Bytes;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{from_micros, micros, unavailable, Inner, Result};
use crate::hub::limits::TOMBSTONE_TTL;
use crate::hub::{HubError, JsonObject, StoredModel};
use crate::ids::{ModelId, ViewerId};
use crate::model::{StoredJson, TreeSummary};

/// Drops model ARGV[1]: its hash (KEYS[1]), its place in `models`, `current_models` and its
/// viewer's set, its bytes from `model_bytes`; sets its tombstone (KEYS[5], ARGV[2] seconds).
const DROP_MODEL: &str = r"
local size = redis.call('HGET', KEYS[1], 'size')
local set = redis.call('HGET', KEYS[1], 'viewer_models')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SET', KEYS[5], 1, 'EX', ARGV[2])
if size then
  redis.call('DEL', KEYS[1])
  redis.call('DECRBY', KEYS[4], size)
  if set then redis.call('SREM', set, ARGV[1]) end
end
return 1
";

/// What a model's hash keeps beside its body and its summary. The summary is a field of its
/// own: the viewer list reads it for every viewer, and the config here may be large.
#[derive(Serialize, Deserialize)]
struct ModelMeta {
    viewer_id: String,
    config: JsonObject,
    created_micros: u64,
}

fn damaged(err: impl std::fmt::Display) -> HubError {
    HubError::Unavailable(format!("a stored model is damaged: {err}"))
}

impl Inner {
    pub(super) async fn put_model(&self, model: &StoredModel) -> Result<()> {
        let meta = ModelMeta {
            viewer_id: model.viewer_id.to_string(),
            config: model.config.clone(),
            created_micros: micros(model.created),
        };
        let meta = serde_json::to_string(&meta).map_err(damaged)?;
        let summary = serde_json::to_string(&model.summary).map_err(damaged)?;
        let id = model.id.as_str();
        let size = model.body.len();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                self.keys.model(id),
                &[
                    ("body", model.body.to_vec()),
                    ("meta", meta.into_bytes()),
                    ("summary", summary.into_bytes()),
                    ("size", size.to_string().into_bytes()),
                    (
                        "viewer_models",
                        self.keys.viewer_models(&model.viewer_id).into_bytes(),
                    ),
                ],
            )
            .ignore()
            .zadd(self.keys.models(), id, micros(model.created))
            .ignore()
            .incr(self.keys.model_bytes(), size)
            .ignore()
            .sadd(self.keys.viewer_models(&model.viewer_id), id)
            .ignore();
        self.run(&pipe).await
    }

    pub(super) async fn load_model(&self, id: &ModelId) -> Result<Arc<StoredModel>> {
        let (body, meta, summary): (Option<Vec<u8>>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(self.keys.model(id.as_str()))
                .arg("body")
                .arg("meta")
                .arg("summary")
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
        let (Some(body), Some(meta), Some(summary)) = (body, meta, summary) else {
            let gone: bool = self
                .conn()
                .exists(self.keys.gone(id))
                .await
                .map_err(unavailable)?;
            return Err(match gone {
                true => HubError::ModelGone(id.clone()),
                false => HubError::ModelNotFound(id.clone()),
            });
        };
        let meta: ModelMeta = serde_json::from_str(&meta).map_err(damaged)?;
        let summary: TreeSummary = serde_json::from_str(&summary).map_err(damaged)?;
        let viewer_id = ViewerId::new(meta.viewer_id).map_err(damaged)?;
        let mut model = StoredModel::new(
            id.clone(),
            viewer_id,
            StoredJson::from(Bytes::from(body)),
            meta.config,
            summary,
        );
        model.created = from_micros(meta.created_micros);
        Ok(Arc::new(model))
    }

    pub(super) async fn model_summary(&self, id: &ModelId) -> Result<Option<TreeSummary>> {
        let summary: Option<String> = self
            .conn()
            .hget(self.keys.model(id.as_str()), "summary")
            .await
            .map_err(unavailable)?;
        summary
            .map(|summary| serde_json::from_str(&summary))
            .transpose()
            .map_err(damaged)
    }

    pub(super) async fn model_bytes(&self) -> Result<usize> {
        let total: Option<i64> = self
            .conn()
            .get(self.keys.model_bytes())
            .await
            .map_err(unavailable)?;
        Ok(total.unwrap_or(0).max(0) as usize)
    }

    pub(super) async fn oldest_models(
        &self,
        skip: usize,
        count: usize,
    ) -> Result<Vec<(ModelId, bool)>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let last = (skip + count - 1) as isize;
        let oldest: Vec<String> = self
            .conn()
            .zrange(self.keys.models(), skip as isize, last)
            .await
            .map_err(unavailable)?;
        if oldest.is_empty() {
            return Ok(Vec::new());
        }
        let current: Vec<bool> = redis::cmd("SMISMEMBER")
            .arg(self.keys.current_models())
            .arg(&oldest)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(oldest
            .into_iter()
            .zip(current)
            .filter_map(|(id, current)| Some((ModelId::new(id).ok()?, current)))
            .collect())
    }

    /// Drops a model and uncounts its bytes (once, however many instances drop it at the same
    /// time), leaving a tombstone so later fetches say 410.
    pub(super) async fn drop_model(&self, model: &ModelId) -> Result<()> {
        let _: i64 = redis::cmd("EVAL")
            .arg(DROP_MODEL)
            .arg(5)
            .arg(self.keys.model(model.as_str()))
            .arg(self.keys.models())
            .arg(self.keys.current_models())
            .arg(self.keys.model_bytes())
            .arg(self.keys.gone(model))
            .arg(model.as_str())
            .arg(TOMBSTONE_TTL.as_secs())
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
