//! Each viewer's versions: the models pushed to it that are still kept (`--history` of them,
//! within `--model-memory`), showing one of them again, and what changed between two.

use super::lock::LockName;
use super::{EventKind, Hub, HubError, ModelInfo, ModelTree};
use crate::ids::{ModelId, ViewerId};

/// A viewer's kept versions, oldest first, and the one on screen.
#[derive(Debug, Clone)]
pub struct History {
    pub versions: Vec<ModelInfo>,
    pub shown: Option<ModelId>,
}

impl Hub {
    /// The viewer's kept versions; `ViewerDeleted` or `ViewerNotFound` when there is no such
    /// viewer.
    pub async fn history(&self, viewer: &ViewerId) -> Result<History, HubError> {
        let Some(record) = self.store.viewer(viewer).await? else {
            return Err(self.missing(viewer).await?);
        };
        Ok(History {
            versions: self.store.viewer_models(viewer).await?,
            shown: record.model,
        })
    }

    /// The two trees a diff compares, both versions the viewer keeps (else `VersionNotKept`):
    /// `to` (default: the model on screen) and `from` (default: the version kept before `to`;
    /// `None` when there is none, so everything is added).
    pub async fn diff_trees(
        &self,
        viewer: &ViewerId,
        from: Option<ModelId>,
        to: Option<ModelId>,
    ) -> Result<(Option<ModelTree>, ModelTree), HubError> {
        let history = self.history(viewer).await?;
        let to = match to.or(history.shown) {
            Some(to) => to,
            None => return Err(HubError::NoModel(viewer.clone())),
        };
        let kept = |model: &ModelId| {
            let at = history.versions.iter().position(|info| &info.id == model);
            at.ok_or_else(|| HubError::VersionNotKept {
                viewer: viewer.clone(),
                model: model.clone(),
            })
        };
        let at = kept(&to)?;
        let from = match from {
            Some(from) => kept(&from).map(|_| Some(from))?,
            None => at.checked_sub(1).map(|i| history.versions[i].id.clone()),
        };
        let to = self.store.model_tree(&to).await?;
        let from = match from {
            Some(from) => Some(self.store.model_tree(&from).await?),
            None => None,
        };
        Ok((from, to))
    }

    /// Shows a kept version of the viewer again on every page, as if it had been pushed now
    /// (the history keeps its place). `VersionNotKept` when it is not one of the viewer's.
    pub async fn show_version(&self, viewer: &ViewerId, model: &ModelId) -> Result<(), HubError> {
        self.in_order(viewer, async {
            // Under the room lock: a push planning evictions counts on no model coming back
            // on screen meanwhile.
            let room = self.store.lock(LockName::Room).await?;
            let versions = self.history(viewer).await?.versions;
            if !versions.iter().any(|info| &info.id == model) {
                room.release().await;
                return Err(HubError::VersionNotKept {
                    viewer: viewer.clone(),
                    model: model.clone(),
                });
            }
            self.store.touch(viewer, true).await?;
            self.store.set_current_model(viewer, Some(model)).await?;
            room.release().await;
            self.forget_picks(viewer).await?;
            let config = self.effective_config(viewer).await?;
            let event = self
                .model_state(viewer, model, EventKind::ModelUpdate, &config)
                .await?
                .ok_or_else(|| HubError::ModelGone(model.clone()))?;
            self.store.append_event(viewer, &event).await
        })
        .await
    }
}
