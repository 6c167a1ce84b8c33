//! The memory store's models: each part kept once with a count of the models that hold it, and
//! every stored byte counted once in `model_bytes`.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use bytes::Bytes;

use super::{MemoryStore, Result, State};
use crate::hub::{HubError, ModelInfo, StoredModel};
use crate::ids::{ModelId, PartHash, ViewerId};

impl MemoryStore {
    /// Stores a model: what it keeps beside its parts, and each part the store lacks, copied out
    /// of the upload's buffer; answers it over the store's own bytes.
    pub(super) async fn keep_model(&self, model: StoredModel) -> Result<Arc<StoredModel>> {
        // The parts new to the store are copied out of the upload's buffer (on a blocking
        // thread, outside the lock), so that the buffer goes with the request: a version that
        // changed one part keeps that part, not the whole upload it came in.
        let holders = self.lock().holders(&model.hashes());
        let fresh: Vec<Bytes> = model
            .parts
            .iter()
            .zip(&holders)
            .filter(|(_, holders)| **holders == 0)
            .map(|((_, bytes), _)| bytes.clone())
            .collect();
        let copy = move || {
            fresh
                .iter()
                .map(|b| Bytes::copy_from_slice(b))
                .collect::<Vec<_>>()
        };
        let mut copies = tokio::task::spawn_blocking(copy)
            .await
            .map_err(|err| HubError::Busy(format!("the model could not be kept: {err}")))?
            .into_iter();
        let mut state = self.lock();
        let mut new_bytes = model.own_bytes();
        let mut kept = Vec::with_capacity(model.parts.len());
        for ((hash, bytes), holders) in model.parts.iter().zip(holders) {
            let copy = (holders == 0).then(|| copies.next()).flatten();
            let held = state.parts.entry(*hash).or_insert_with(|| {
                // Known a moment ago and dropped since: copied now.
                let bytes = copy.unwrap_or_else(|| Bytes::copy_from_slice(bytes));
                new_bytes += bytes.len();
                (bytes, 0)
            });
            held.1 += 1;
            kept.push((*hash, held.0.clone()));
        }
        let mut model = model.with_parts(kept);
        model.new_bytes = new_bytes;
        let model = Arc::new(model);
        state.model_bytes += new_bytes;
        state.model_order.push_back(model.id.clone());
        let versions = state.versions.entry(model.viewer_id.clone()).or_default();
        versions.push_back(model.id.clone());
        state.evicted.remove(&model.id);
        state.models.insert(model.id.clone(), model.clone());
        Ok(model)
    }

    /// The stored models of a viewer, oldest first.
    pub(super) fn models_of(&self, viewer: &ViewerId) -> Vec<ModelInfo> {
        let state = self.lock();
        let versions = state.versions.get(viewer).into_iter().flatten();
        versions
            .filter_map(|id| state.models.get(id))
            .map(|model| model.info())
            .collect()
    }
}

impl State {
    /// Drops a model, remembering its id so a fetch says 410.
    pub(super) fn drop_model(&mut self, id: &ModelId) {
        if let Some(model) = self.models.remove(id) {
            self.model_bytes -= model.own_bytes();
            if let Entry::Occupied(mut versions) = self.versions.entry(model.viewer_id.clone()) {
                versions.get_mut().retain(|other| other != id);
                if versions.get().is_empty() {
                    versions.remove();
                }
            }
            for (hash, _) in &model.parts {
                if let Entry::Occupied(mut held) = self.parts.entry(*hash) {
                    held.get_mut().1 -= 1;
                    if held.get().1 == 0 {
                        self.model_bytes -= held.remove().0.len();
                    }
                }
            }
            self.evicted.insert(id.clone());
        }
        self.model_order.retain(|other| other != id);
    }

    /// How many models hold each of `parts`.
    pub(super) fn holders(&self, parts: &[PartHash]) -> Vec<usize> {
        parts
            .iter()
            .map(|hash| self.parts.get(hash).map_or(0, |(_, holders)| *holders))
            .collect()
    }

    pub(super) fn part_bytes(&self, parts: &[PartHash]) -> Vec<Option<Bytes>> {
        parts
            .iter()
            .map(|hash| self.parts.get(hash).map(|(bytes, _)| bytes.clone()))
            .collect()
    }
}
