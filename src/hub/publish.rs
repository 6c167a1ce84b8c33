//! Publishing a model: every check before the first write, room made within `--model-memory`,
//! and the pages told, in the viewer's order of writes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Value};

use super::limits::EVICTION_WINDOW;
use super::lock::LockName;
use super::{
    json_size, EventData, EventKind, Hub, HubError, JsonObject, StoredModel, ANIMATION, PICKS,
    VIEWER_CONFIG,
};
use crate::ids::{ModelId, PartHash, ViewerId};

impl Hub {
    /// Stores a model as the current model of `model.viewer_id` (creating the viewer) and
    /// announces it to the viewer's pages. What it costs is what it adds: its tree, and the parts
    /// no stored model has. Models over the budget are refused; to make room, the oldest models
    /// that no viewer shows go first, then this viewer's own; other viewers' models on screen are
    /// never evicted (the upload is refused instead). A refused model changes nothing: every
    /// check is made before the first step that writes. The viewer keeps its newest `--history`
    /// versions.
    pub async fn publish_model(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let size = model.own_bytes() + model.parts.iter().map(|(_, b)| b.len()).sum::<usize>();
        let budget = self.limits.model_budget;
        if size > budget {
            return Err(HubError::OverBudget { size, budget });
        }
        let viewer = model.viewer_id.clone();
        self.in_order(&viewer, self.publish_in_order(model)).await
    }

    /// [`Hub::publish_model`], holding the viewer's lock.
    async fn publish_in_order(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let viewer = model.viewer_id.clone();
        let viewer = &viewer;
        let record = self.store.viewer(viewer).await?;
        let mut merged = self.store.viewer_config(viewer).await?;
        // An animation moves the nodes of the model it was made for: a new model ends it (its
        // config says so, and so does the body pages and clients read).
        let animated = merged.get(ANIMATION).is_some_and(|a| !a.is_null());
        let model = match animated && !model.config.contains_key(ANIMATION) {
            true => {
                let mut config = model.config.clone();
                config.insert(ANIMATION.into(), Value::Null);
                model.with_config(config)
            }
            false => model,
        };
        merged.extend(model.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.limit(VIEWER_CONFIG).check(json_size(&merged))?;
        let room = self.store.lock(LockName::Room).await?;
        let own = record.as_ref().and_then(|record| record.model.clone());
        let victims = self.victims(&model, own.as_ref()).await?;
        let admission = match record {
            Some(_) => None,
            None => Some(self.admit_viewer(viewer, true).await?),
        };
        self.store.touch(viewer, true).await?;
        if let Some(admission) = admission {
            admission.release().await;
        }
        // Every check passed: from here on, the model is published. It is stored before the
        // victims go, so that parts it shares with them stay (for that moment the store holds
        // up to one model over the budget, under the room lock).
        let mut model = model;
        // Stamped in the viewer's order: both stores list its versions by when they were
        // published, which is the order pages saw them in.
        model.created = std::time::SystemTime::now();
        let model = self.store.put_model(model).await?;
        let viewer = &model.viewer_id;
        self.store
            .set_current_model(viewer, Some(&model.id))
            .await?;
        for victim in &victims {
            tracing::debug!(model = %victim, "model evicted");
            self.store.evict_model(victim).await?;
        }
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

    /// The models to evict: the publishing viewer's versions beyond `--history`, then, until
    /// `model` fits the budget, the oldest that no viewer shows, then `own` (the model the
    /// publishing viewer shows, which the new one replaces).
    /// `ModelMemoryFull` when they are not enough; nothing is evicted here. Called under the
    /// room lock, so no other push counts the same bytes, and a model off screen never returns
    /// to it, so the plan stays true until it is carried out.
    ///
    /// The model costs its tree and the parts the store lacks. A victim frees its tree and the
    /// parts no model but the victims holds, and never one the new model holds: it is stored
    /// before the victims go.
    async fn victims(
        &self,
        model: &StoredModel,
        own: Option<&ModelId>,
    ) -> Result<Vec<ModelId>, HubError> {
        let budget = self.limits.model_budget;
        let mut bytes = self.store.model_bytes().await?;
        let hashes = model.hashes();
        let holders = self.store.part_holders(&hashes).await?;
        let lacking = model.parts.iter().zip(&holders).filter(|(_, n)| **n == 0);
        let size = model.own_bytes() + lacking.map(|((_, b), _)| b.len()).sum::<usize>();
        let mut plan = Plan {
            keep: hashes.into_iter().collect(),
            holders: HashMap::new(),
            victims: Vec::new(),
        };
        // First the viewer's versions beyond `--history` once this one is in (the one on screen
        // now goes off it, so it may be among them): they go anyway, and what they free counts
        // before any other viewer's versions are touched.
        let versions = self.store.viewer_models(&model.viewer_id).await?;
        let over = (versions.len() + 1).saturating_sub(self.limits.history);
        for info in versions.into_iter().take(over) {
            bytes = bytes.saturating_sub(self.plan_eviction(&mut plan, info.id).await?);
        }
        let mut seen = 0;
        while bytes + size > budget {
            let oldest = self.store.oldest_models(seen, EVICTION_WINDOW).await?;
            if oldest.is_empty() {
                break;
            }
            seen += oldest.len();
            let unplanned: Vec<ModelId> = oldest
                .into_iter()
                .filter(|(id, current)| !current && !plan.victims.contains(id))
                .map(|(id, _)| id)
                .collect();
            for id in unplanned {
                bytes = bytes.saturating_sub(self.plan_eviction(&mut plan, id).await?);
                if bytes + size <= budget {
                    break;
                }
            }
        }
        if let Some(own) = own.filter(|own| bytes + size > budget && !plan.victims.contains(own)) {
            bytes = bytes.saturating_sub(self.plan_eviction(&mut plan, own.clone()).await?);
        }
        match bytes + size <= budget {
            true => Ok(plan.victims),
            false => Err(HubError::ModelMemoryFull { budget }),
        }
    }

    /// Adds `id` to the plan's victims; returns the bytes that frees (none counted for a
    /// record the store lists but cannot read as a model, such as one an older version wrote:
    /// it goes all the same).
    async fn plan_eviction(&self, plan: &mut Plan, id: ModelId) -> Result<usize, HubError> {
        let form = match self.store.model_tree(&id).await {
            Ok(form) => form,
            Err(HubError::ModelGone(_)) => return Ok(0),
            Err(HubError::ModelNotFound(_)) => {
                plan.victims.push(id);
                return Ok(0);
            }
            Err(err) => return Err(err),
        };
        let unread: Vec<PartHash> = form
            .parts
            .iter()
            .map(|(hash, _)| *hash)
            .filter(|hash| !plan.holders.contains_key(hash))
            .collect();
        let holders = self.store.part_holders(&unread).await?;
        plan.holders.extend(unread.into_iter().zip(holders));
        let mut freed = form.info.own_bytes;
        for (hash, size) in &form.parts {
            let left = plan.holders.entry(*hash).or_default();
            *left = left.saturating_sub(1);
            if *left == 0 && !plan.keep.contains(hash) {
                freed += size;
            }
        }
        plan.victims.push(id);
        Ok(freed)
    }

    /// Picks name faces of the model they were made on: another model (or none) drops them, so
    /// `selection()` never maps them onto the wrong faces.
    pub(super) async fn forget_picks(&self, viewer: &ViewerId) -> Result<(), HubError> {
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
}

/// An eviction being planned: the victims so far, how many models would still hold each part
/// they hold, and the parts the new model holds (which stay).
struct Plan {
    keep: HashSet<PartHash>,
    holders: HashMap<PartHash, usize>,
    victims: Vec<ModelId>,
}
