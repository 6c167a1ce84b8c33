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

/// What a model's hash keeps beside its body.
#[derive(Serialize, Deserialize)]
struct ModelMeta {
    viewer_id: String,
    config: JsonObject,
    summary: TreeSummary,
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
            summary: model.summary,
            created_micros: micros(model.created),
        };
        let meta = serde_json::to_string(&meta).map_err(damaged)?;
        let id = model.id.as_str();
        let size = model.body.len();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                self.keys.model(id),
                &[
                    ("body", model.body.to_vec()),
                    ("meta", meta.into_bytes()),
                    ("size", size.to_string().into_bytes()),
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
        let (body, meta): (Option<Vec<u8>>, Option<String>) = redis::cmd("HMGET")
            .arg(self.keys.model(id.as_str()))
            .arg("body")
            .arg("meta")
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let (Some(body), Some(meta)) = (body, meta) else {
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
        let viewer_id = ViewerId::new(meta.viewer_id).map_err(damaged)?;
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

    pub(super) async fn model_bytes(&self) -> Result<usize> {
        let total: Option<i64> = self
            .conn()
            .get(self.keys.model_bytes())
            .await
            .map_err(unavailable)?;
        Ok(total.unwrap_or(0).max(0) as usize)
    }

    pub(super) async fn oldest_models(&self, count: usize) -> Result<Vec<(ModelId, bool)>> {
        let last = count.saturating_sub(1) as isize;
        let oldest: Vec<String> = self
            .conn()
            .zrange(self.keys.models(), 0, last)
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

    /// Drops a model and uncounts its bytes, leaving a tombstone so later fetches say 410.
    pub(super) async fn drop_model(&self, model: &ModelId) -> Result<()> {
        let id = model.as_str();
        let key = self.keys.model(id);
        let size: Option<i64> = self.conn().hget(&key, "size").await.map_err(unavailable)?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(&key)
            .ignore()
            .zrem(self.keys.models(), id)
            .ignore()
            .srem(self.keys.current_models(), id)
            .ignore()
            .decr(self.keys.model_bytes(), size.unwrap_or(0))
            .ignore()
            .set_ex(self.keys.gone(model), 1, TOMBSTONE_TTL.as_secs())
            .ignore();
        self.run(&pipe).await
    }
}
