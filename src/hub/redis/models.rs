//! Stored models by content: each model's tree form in its hash, its parts once each under
//! their hash with a count of the models holding them; what eviction reads (age, size, whether a
//! viewer shows them); tombstones for evicted ones.
//!
//! The scripts name part keys they build from a prefix, and a model's viewer set from its hash,
//! rather than in `KEYS`: they need one Redis, not a Redis Cluster.

use std::sync::Arc;

use bytes::Bytes;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::{from_micros, micros, unavailable, Inner, Result};
use crate::hub::limits::TOMBSTONE_TTL;
use crate::hub::{HubError, JsonObject, ModelInfo, ModelTree, StoredModel};
use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::parts::{Hole, PartedTree};
use crate::model::TreeSummary;

/// Stores model ARGV[1] (its hash KEYS[1], in `models` KEYS[2] and its viewer's set KEYS[5]) if
/// every one of its parts (ARGV[8..], under the prefix ARGV[7]) is there; counts each part's
/// holders in KEYS[4], and in `model_bytes` (KEYS[3]) the tree (ARGV[4]) and the parts no model
/// held. Returns the parts that are missing (then nothing is stored), else the bytes it added.
/// ARGV: id, created (µs), tree text, what the model keeps beside its parts (its message
/// without them), holes, the other fields as JSON, prefix, hashes.
const PUT_MODEL: &str = r"
local missing = {}
for i = 8, #ARGV do
  if redis.call('EXISTS', ARGV[7] .. ARGV[i]) == 0 then table.insert(missing, ARGV[i]) end
end
if #missing > 0 then return missing end
local added = tonumber(ARGV[4])
for i = 8, #ARGV do
  if redis.call('HINCRBY', KEYS[4], ARGV[i], 1) == 1 then
    redis.call('PERSIST', ARGV[7] .. ARGV[i])
    added = added + redis.call('STRLEN', ARGV[7] .. ARGV[i])
  end
end
local fields = cjson.decode(ARGV[6])
redis.call('HSET', KEYS[1], 'tree', ARGV[3], 'holes', ARGV[5], 'tree_size', ARGV[4], 'created', ARGV[2],
  'new_bytes', added, 'meta', fields.meta, 'summary', fields.summary, 'size', fields.size,
  'parts', table.concat(ARGV, ' ', 8), 'viewer_models', KEYS[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('INCRBY', KEYS[3], added)
return added
";

/// Drops model ARGV[1]: its hash (KEYS[1]), its place in `models`, `current_models` and its
/// viewer's set, its tree and the parts no other model holds (counts in KEYS[6], under the prefix
/// ARGV[3]) from `model_bytes`; sets its tombstone (KEYS[5], ARGV[2] seconds). A model stored
/// whole by an older version (a `size`, no `tree_size`) frees its `size`.
const DROP_MODEL: &str = r"
local fields = redis.call('HMGET', KEYS[1], 'tree_size', 'viewer_models', 'parts', 'size')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SET', KEYS[5], 1, 'EX', ARGV[2])
if fields[1] or fields[4] then
  local freed = tonumber(fields[1] or fields[4])
  for hash in string.gmatch(fields[3] or '', '%S+') do
    if redis.call('HINCRBY', KEYS[6], hash, -1) <= 0 then
      redis.call('HDEL', KEYS[6], hash)
      freed = freed + redis.call('STRLEN', ARGV[3] .. hash)
      redis.call('DEL', ARGV[3] .. hash)
    end
  end
  redis.call('DEL', KEYS[1])
  redis.call('DECRBY', KEYS[4], freed)
  if fields[2] then redis.call('SREM', fields[2], ARGV[1]) end
end
return 1
";

/// How long a part waits for the model that sent it to be stored (a push that failed half way
/// leaves nothing for longer).
const UNHELD_PART_SECS: u64 = 600;

/// What a model's hash keeps beside its tree and its summary. The summary is a field of its
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

/// What `PUT_MODEL` answers.
#[derive(Debug)]
enum Put {
    Added(i64),
    Missing(Vec<String>),
}

impl redis::FromRedisValue for Put {
    fn from_redis_value(value: &redis::Value) -> redis::RedisResult<Self> {
        match value {
            redis::Value::Int(added) => Ok(Put::Added(*added)),
            other => Ok(Put::Missing(redis::from_redis_value(other)?)),
        }
    }
}

impl Inner {
    pub(super) async fn put_model(&self, model: StoredModel) -> Result<Arc<StoredModel>> {
        let meta = ModelMeta {
            viewer_id: model.viewer_id.to_string(),
            config: model.config.clone(),
            created_micros: micros(model.created),
        };
        let fields = serde_json::json!({
            "meta": serde_json::to_string(&meta).map_err(damaged)?,
            "summary": serde_json::to_string(&model.summary).map_err(damaged)?,
            "size": model.body.len(),
        });
        let holes: Vec<(usize, usize, String)> = model
            .tree
            .holes
            .iter()
            .map(|hole| (hole.range.start, hole.range.end, hole.part.to_string()))
            .collect();
        let holes = serde_json::to_string(&holes).map_err(damaged)?;
        let hashes = model.hashes();
        let bytes_of = model.part_map();
        let mut send: Vec<PartHash> = {
            let holders = self.part_holders(&hashes).await?;
            hashes
                .iter()
                .zip(holders)
                .filter(|(_, n)| *n == 0)
                .map(|(h, _)| *h)
                .collect()
        };
        // A part counted as known may be dropped before the script runs: it says which are
        // missing, and they are sent again. Each round sends only those.
        for _ in 0..4 {
            let mut pipe = redis::pipe();
            for hash in &send {
                let bytes = bytes_of.get(hash).cloned().unwrap_or_default();
                pipe.cmd("SET")
                    .arg(self.keys.part(hash))
                    .arg(&bytes[..])
                    .arg("EX")
                    .arg(UNHELD_PART_SECS)
                    .arg("NX")
                    .ignore();
            }
            if !send.is_empty() {
                self.run(&pipe).await?;
            }
            let put: Put = redis::cmd("EVAL")
                .arg(PUT_MODEL)
                .arg(5)
                .arg(self.keys.model(model.id.as_str()))
                .arg(self.keys.models())
                .arg(self.keys.model_bytes())
                .arg(self.keys.part_refs())
                .arg(self.keys.viewer_models(&model.viewer_id))
                .arg(model.id.as_str())
                .arg(micros(model.created))
                .arg(&model.tree.text[..])
                .arg(model.own_bytes())
                .arg(&holes)
                .arg(fields.to_string())
                .arg(self.keys.part_prefix())
                .arg(hashes.iter().map(PartHash::to_string).collect::<Vec<_>>())
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            match put {
                Put::Added(added) => {
                    let mut model = model;
                    model.new_bytes = added.max(0) as usize;
                    return Ok(Arc::new(model));
                }
                Put::Missing(missing) => {
                    send = missing
                        .iter()
                        .filter_map(|hash| PartHash::parse(hash).ok())
                        .collect();
                }
            }
        }
        Err(HubError::Busy(
            "the model's parts kept being dropped while it was stored".into(),
        ))
    }

    /// A stored model's tree form and record, without its parts' bytes.
    pub(super) async fn load_tree(&self, id: &ModelId) -> Result<(ModelTree, Vec<PartHash>)> {
        type Fields = (
            Option<Vec<u8>>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<usize>,
            Option<usize>,
            Option<usize>,
        );
        let fields = [
            "tree",
            "holes",
            "parts",
            "meta",
            "summary",
            "size",
            "new_bytes",
            "tree_size",
        ];
        let (tree, holes, parts, meta, summary, size, new_bytes, own): Fields = redis::cmd("HMGET")
            .arg(self.keys.model(id.as_str()))
            .arg(&fields)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let (Some(tree), Some(holes), Some(meta), Some(summary)) = (tree, holes, meta, summary)
        else {
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
        let holes: Vec<(usize, usize, String)> = serde_json::from_str(&holes).map_err(damaged)?;
        let holes = holes
            .into_iter()
            .map(|(start, end, part)| {
                Ok(Hole {
                    range: start..end,
                    part: PartHash::parse(&part).map_err(damaged)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let parts = parts
            .unwrap_or_default()
            .split_whitespace()
            .map(|hash| PartHash::parse(hash).map_err(damaged))
            .collect::<Result<Vec<_>>>()?;
        let info = ModelInfo {
            id: id.clone(),
            viewer_id: ViewerId::new(meta.viewer_id).map_err(damaged)?,
            created: from_micros(meta.created_micros),
            summary,
            bytes: size.unwrap_or(0),
            new_bytes: new_bytes.unwrap_or(0),
            own_bytes: own.unwrap_or(0),
        };
        let tree = ModelTree {
            info,
            config: meta.config,
            tree: PartedTree {
                text: Bytes::from(tree),
                holes,
            },
            parts: Vec::new(),
        };
        Ok((tree, parts))
    }

    pub(super) async fn load_model(&self, id: &ModelId) -> Result<Arc<StoredModel>> {
        let (tree, hashes) = self.load_tree(id).await?;
        let bytes = self.parts(&hashes).await?;
        let parts = hashes
            .into_iter()
            .zip(bytes)
            .map(|(hash, bytes)| Some((hash, bytes?)))
            .collect::<Option<Vec<_>>>()
            // Dropped between the two reads: the model went with it.
            .ok_or_else(|| HubError::ModelGone(id.clone()))?;
        let ModelTree {
            info, config, tree, ..
        } = tree;
        let mut model = StoredModel::new(
            id.clone(),
            info.viewer_id,
            (tree, parts),
            config,
            info.summary,
        );
        model.created = info.created;
        model.new_bytes = info.new_bytes;
        Ok(Arc::new(model))
    }

    pub(super) async fn model_tree(&self, id: &ModelId) -> Result<ModelTree> {
        let (mut tree, hashes) = self.load_tree(id).await?;
        let mut pipe = redis::pipe();
        for hash in &hashes {
            pipe.strlen(self.keys.part(hash));
        }
        let sizes: Vec<usize> = match hashes.is_empty() {
            true => Vec::new(),
            false => pipe
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?,
        };
        tree.parts = hashes.into_iter().zip(sizes).collect();
        Ok(tree)
    }

    /// A viewer's versions, from the small fields of each model's hash, in one round trip.
    pub(super) async fn viewer_models(&self, viewer: &ViewerId) -> Result<Vec<ModelInfo>> {
        let ids: Vec<String> = self
            .conn()
            .smembers(self.keys.viewer_models(viewer))
            .await
            .map_err(unavailable)?;
        let ids: Vec<ModelId> = ids
            .into_iter()
            .filter_map(|id| ModelId::new(id).ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HMGET").arg(self.keys.model(id.as_str())).arg(&[
                "created",
                "summary",
                "size",
                "new_bytes",
                "tree_size",
            ]);
        }
        type Fields = (
            Option<u64>,
            Option<String>,
            Option<usize>,
            Option<usize>,
            Option<usize>,
        );
        let found: Vec<Fields> = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let mut versions = Vec::with_capacity(ids.len());
        for (id, (created, summary, bytes, new_bytes, own)) in ids.into_iter().zip(found) {
            // Gone meanwhile, or stored whole by an older version: not a version to step to.
            let (Some(created), Some(summary), Some(own)) = (created, summary, own) else {
                continue;
            };
            versions.push(ModelInfo {
                id,
                viewer_id: viewer.clone(),
                created: from_micros(created),
                summary: serde_json::from_str(&summary).map_err(damaged)?,
                bytes: bytes.unwrap_or(0),
                new_bytes: new_bytes.unwrap_or(0),
                own_bytes: own,
            });
        }
        versions.sort_by_key(|info| info.created);
        Ok(versions)
    }

    pub(super) async fn part_holders(&self, parts: &[PartHash]) -> Result<Vec<usize>> {
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let holders: Vec<Option<i64>> = redis::cmd("HMGET")
            .arg(self.keys.part_refs())
            .arg(parts.iter().map(PartHash::to_string).collect::<Vec<_>>())
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(holders
            .into_iter()
            .map(|n| n.unwrap_or(0).max(0) as usize)
            .collect())
    }

    pub(super) async fn parts(&self, parts: &[PartHash]) -> Result<Vec<Option<Bytes>>> {
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = parts.iter().map(|hash| self.keys.part(hash)).collect();
        // A part no model holds (written for a push that then failed, kept a while for its
        // retry) is not served: as in memory, a part lives while a model holds it.
        let (found, holders): (Vec<Option<Vec<u8>>>, Vec<Option<i64>>) = redis::pipe()
            .atomic()
            .cmd("MGET")
            .arg(keys)
            .cmd("HMGET")
            .arg(self.keys.part_refs())
            .arg(parts.iter().map(PartHash::to_string).collect::<Vec<_>>())
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(found
            .into_iter()
            .zip(holders)
            .map(|(bytes, holders)| bytes.filter(|_| holders.unwrap_or(0) > 0).map(Bytes::from))
            .collect())
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
            .arg(6)
            .arg(self.keys.model(model.as_str()))
            .arg(self.keys.models())
            .arg(self.keys.current_models())
            .arg(self.keys.model_bytes())
            .arg(self.keys.gone(model))
            .arg(self.keys.part_refs())
            .arg(model.as_str())
            .arg(TOMBSTONE_TTL.as_secs())
            .arg(self.keys.part_prefix())
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
