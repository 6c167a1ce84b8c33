//! Each viewer's versions: the models pushed to it that are still kept (`--history` of them,
//! within `--model-memory`), showing one of them again, and what changed between two.

use super::{EventData, EventKind, Hub, HubError, ModelInfo, ModelTree};
use crate::ids::{ModelId, PartHash, ViewerId};

/// A viewer's kept versions, oldest first, and the one on screen.
#[derive(Debug, Clone)]
pub struct History {
    pub versions: Vec<ModelInfo>,
    pub shown: Option<ModelId>,
}

impl Hub {
    /// The viewer's kept versions; `ViewerNotFound` when there is no such viewer.
    pub async fn history(&self, viewer: &ViewerId) -> Result<History, HubError> {
        let record = self
            .store
            .viewer(viewer)
            .await?
            .ok_or_else(|| HubError::ViewerNotFound(viewer.clone()))?;
        Ok(History {
            versions: self.store.viewer_models(viewer).await?,
            shown: record.model,
        })
    }

    /// A stored model's tree form, without its parts' bytes.
    pub async fn model_tree(&self, id: &ModelId) -> Result<ModelTree, HubError> {
        self.store.model_tree(id).await
    }

    /// The bytes of each of `parts` that is stored.
    pub async fn parts(&self, parts: &[PartHash]) -> Result<Vec<Option<bytes::Bytes>>, HubError> {
        self.store.parts(parts).await
    }

    /// The two trees a diff compares: `to` (default: the model on screen) and `from` (default:
    /// the version kept before `to`; `None` when there is none, so everything is added).
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
        let from = from.or_else(|| {
            let at = history.versions.iter().position(|info| info.id == to)?;
            Some(history.versions.get(at.checked_sub(1)?)?.id.clone())
        });
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
            let versions = self.history(viewer).await?.versions;
            if !versions.iter().any(|info| &info.id == model) {
                return Err(HubError::VersionNotKept {
                    viewer: viewer.clone(),
                    model: model.clone(),
                });
            }
            let stored = self.store.model(model).await?;
            self.store.set_current_model(viewer, Some(model)).await?;
            self.forget_picks(viewer).await?;
            let config = self.effective_config(viewer).await?;
            let event = EventData::model(
                EventKind::ModelUpdate,
                &stored,
                &config,
                self.limits.inline_limit,
            );
            self.store.append_event(viewer, &event).await
        })
        .await
    }
}
