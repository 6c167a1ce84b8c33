//! Publishing a model: every check before the first write, room made within `--model-memory`,
//! and the pages told, in the viewer's order of writes.

use std::sync::Arc;

use serde_json::{json, Value};

use super::limits::EVICTION_WINDOW;
use super::lock::LockName;
use super::{
    json_size, EventData, EventKind, Hub, HubError, JsonObject, StoredModel, ANIMATION, PICKS,
    VIEWER_CONFIG,
};
use crate::ids::{ModelId, ViewerId};

impl Hub {
    /// Stores a model as the current model of `model.viewer_id` (creating the viewer) and
    /// announces it to the viewer's pages. Models over the budget are refused; to make room, the
    /// oldest models that no viewer shows go first, then this viewer's own; other viewers' models
    /// on screen are never evicted (the upload is refused instead). A refused model changes
    /// nothing: every check is made before the first step that writes.
    pub async fn publish_model(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let size = model.body.len();
        let budget = self.limits.model_budget;
        if size > budget {
            return Err(HubError::OverBudget { size, budget });
        }
        let viewer = model.viewer_id.clone();
        self.in_order(&viewer, self.publish_in_order(model)).await
    }

    /// [`Hub::publish_model`], holding the viewer's lock.
    async fn publish_in_order(&self, model: StoredModel) -> Result<Arc<StoredModel>, HubError> {
        let viewer = &model.viewer_id;
        let record = self.store.viewer(viewer).await?;
        let mut merged = self.store.viewer_config(viewer).await?;
        // An animation moves the nodes of the model it was made for: a new model ends it.
        let animated = merged.get(ANIMATION).is_some_and(|a| !a.is_null());
        merged.extend(model.config.iter().map(|(k, v)| (k.clone(), v.clone())));
        if animated && !model.config.contains_key(ANIMATION) {
            merged.insert(ANIMATION.into(), Value::Null);
        }
        self.limit(VIEWER_CONFIG).check(json_size(&merged))?;
        let room = self.store.lock(LockName::Room).await?;
        let own = record.as_ref().and_then(|record| record.model.clone());
        let victims = self.victims(model.body.len(), own.as_ref()).await?;
        let admission = match record {
            Some(_) => None,
            None => Some(self.admit_viewer(viewer, true).await?),
        };
        self.store.touch(viewer, true).await?;
        if let Some(admission) = admission {
            admission.release().await;
        }
        // Every check passed: from here on, the model is published.
        for victim in &victims {
            tracing::debug!(model = %victim, "model evicted");
            self.store.evict_model(victim).await?;
        }
        let mut model = model;
        if animated && !model.config.contains_key(ANIMATION) {
            model.config.insert(ANIMATION.into(), Value::Null);
        }
        let model = Arc::new(model);
        let viewer = &model.viewer_id;
        self.store.put_model(model.clone()).await?;
        self.store
            .set_current_model(viewer, Some(&model.id))
            .await?;
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

    /// The models to evict so that `size` more bytes fit the budget: the oldest that no viewer
    /// shows, then `own` (the model the publishing viewer shows, which the new one replaces).
    /// `ModelMemoryFull` when they are not enough; nothing is evicted here. Called under the
    /// room lock, so no other push counts the same bytes, and a model off screen never returns
    /// to it, so the plan stays true until it is carried out.
    async fn victims(&self, size: usize, own: Option<&ModelId>) -> Result<Vec<ModelId>, HubError> {
        let budget = self.limits.model_budget;
        let mut bytes = self.store.model_bytes().await?;
        let mut victims = Vec::new();
        let mut seen = 0;
        while bytes + size > budget {
            let oldest = self.store.oldest_models(seen, EVICTION_WINDOW).await?;
            if oldest.is_empty() {
                break;
            }
            seen += oldest.len();
            for (id, _) in oldest.into_iter().filter(|(_, current)| !current) {
                bytes = bytes.saturating_sub(self.store.model_size(&id).await?.unwrap_or(0));
                victims.push(id);
                if bytes + size <= budget {
                    break;
                }
            }
        }
        if let Some(own) = own.filter(|_| bytes + size > budget) {
            bytes = bytes.saturating_sub(self.store.model_size(own).await?.unwrap_or(0));
            victims.push(own.clone());
        }
        match bytes + size <= budget {
            true => Ok(victims),
            false => Err(HubError::ModelMemoryFull { budget }),
        }
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
