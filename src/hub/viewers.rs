//! Viewers: made within `--max-viewers`, written one write at a time (see [`lock`](super::lock)),
//! configured, animated, cleared, deleted, collected when idle, listed, and what their pages
//! report.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::limits::EMPTY_VIEWER_IDLE;
use super::lock::{self, LockName};
use super::{
    json_size, kernel, reported_value, rfc3339, EventData, EventKind, Hub, HubError, JsonObject,
    ViewerStatus, ViewerSummary, ANIMATION, VIEWER_CONFIG,
};
use crate::ids::{ModelId, ViewerId};

impl Hub {
    /// Creates the viewer if it is new, within `--max-viewers`, and marks it active; `written`
    /// for writes (which need the token where there is one), not for pages.
    pub(super) async fn open_viewer(
        &self,
        viewer: &ViewerId,
        written: bool,
    ) -> Result<(), HubError> {
        let admission = self.admit_if_new(viewer, written).await?;
        self.store.touch(viewer, written).await?;
        if let Some(admission) = admission {
            admission.release().await;
        }
        Ok(())
    }

    /// For a viewer not made yet, [`Hub::admit_viewer`]; `None` for one that is there.
    pub(super) async fn admit_if_new(
        &self,
        viewer: &ViewerId,
        written: bool,
    ) -> Result<Option<lock::Held>, HubError> {
        match self.store.viewer(viewer).await? {
            Some(_) => Ok(None),
            None => self.admit_viewer(viewer, written).await.map(Some),
        }
    }

    /// Runs `write` to `viewer` after every write to it before, and before any after.
    pub(super) async fn in_order<T>(
        &self,
        viewer: &ViewerId,
        write: impl std::future::Future<Output = Result<T, HubError>>,
    ) -> Result<T, HubError> {
        let order = self.store.lock(LockName::Viewer(viewer)).await?;
        let done = write.await;
        order.release().await;
        done
    }

    /// Room for one more viewer within `--max-viewers`: the lock on new viewers, to hold until
    /// the viewer is made. Viewers only pages use may take half of the limit, so pages cannot
    /// lock writes out.
    pub(super) async fn admit_viewer(
        &self,
        viewer: &ViewerId,
        written: bool,
    ) -> Result<lock::Held, HubError> {
        let admission = self.store.lock(LockName::NewViewers).await?;
        if self.store.viewer(viewer).await?.is_some() {
            return Ok(admission); // made meanwhile (by a page of its own)
        }
        // A page cannot bring back a viewer deleted while it was asking (only a write can).
        if !written && self.store.was_deleted(viewer).await? {
            return Err(HubError::ViewerDeleted(viewer.clone()));
        }
        let max = self.limits.max_viewers;
        let (all, by_writes) = self.store.viewer_counts().await?;
        if all >= max {
            return Err(HubError::TooManyViewers {
                max,
                pages_only: false,
            });
        }
        let half = (max / 2).max(1);
        if !written && all.saturating_sub(by_writes) >= half {
            return Err(HubError::TooManyViewers {
                max: half,
                pages_only: true,
            });
        }
        Ok(admission)
    }

    /// Merges `delta` into the viewer's settings and sends `config_update` with it. Returns the
    /// effective config.
    pub async fn update_config(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<JsonObject, HubError> {
        self.in_order(viewer, async {
            let admission = self.admit_if_new(viewer, true).await?;
            let mut merged = self.store.viewer_config(viewer).await?;
            merged.extend(delta.iter().map(|(k, v)| (k.clone(), v.clone())));
            self.limit(VIEWER_CONFIG).check(json_size(&merged))?;
            self.store.touch(viewer, true).await?;
            if let Some(admission) = admission {
                admission.release().await;
            }
            self.store
                .merge_viewer_config(viewer, &delta, self.limit(VIEWER_CONFIG))
                .await?;
            let event =
                EventData::simple(EventKind::ConfigUpdate, viewer, json!({ "config": delta }));
            self.store.append_event(viewer, &event).await?;
            self.effective_config(viewer).await
        })
        .await
    }

    /// Animates the model on screen, which must be `model` (a page or client names the model it
    /// made the tracks for): kept in the viewer's settings (`animation`, so a page opened later
    /// plays it too, within `--settings-limit`) and sent as an `animation` event. `None` stops it.
    pub async fn animate(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
        animation: Option<Value>,
    ) -> Result<(), HubError> {
        self.in_order(viewer, self.animate_in_order(viewer, model, animation))
            .await
    }

    /// [`Hub::animate`], holding the viewer's lock.
    pub(super) async fn animate_in_order(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
        animation: Option<Value>,
    ) -> Result<(), HubError> {
        self.check_on_screen(viewer, model).await?;
        // The model it was made for goes with it: a page plays it on that model only.
        let animation = match animation {
            Some(Value::Object(mut tracks)) => {
                tracks.insert("model_id".into(), json!(model));
                Value::Object(tracks)
            }
            other => other.unwrap_or(Value::Null),
        };
        let delta = JsonObject::from_iter([(ANIMATION.to_string(), animation.clone())]);
        self.store
            .merge_viewer_config(viewer, &delta, self.limit(VIEWER_CONFIG))
            .await?;
        let event = EventData::simple(
            EventKind::Animation,
            viewer,
            json!({ "model_id": model, "animation": animation }),
        );
        self.store.append_event(viewer, &event).await
    }

    /// `Ok` when the viewer shows `model`, else [`HubError::ModelChanged`].
    pub async fn check_on_screen(
        &self,
        viewer: &ViewerId,
        model: &ModelId,
    ) -> Result<(), HubError> {
        let shows = self
            .store
            .viewer(viewer)
            .await?
            .and_then(|record| record.model);
        if shows.as_ref() == Some(model) {
            return Ok(());
        }
        Err(HubError::ModelChanged {
            viewer: viewer.clone(),
            shows: shows.map_or_else(|| "nothing".into(), |id| id.to_string()),
            asked: model.clone(),
        })
    }

    /// Drops the viewer's current model from the screen and sends `clear`.
    pub async fn clear(&self, viewer: &ViewerId) -> Result<(), HubError> {
        self.in_order(viewer, self.clear_in_order(viewer)).await
    }

    /// [`Hub::clear`], holding the viewer's lock.
    pub(super) async fn clear_in_order(&self, viewer: &ViewerId) -> Result<(), HubError> {
        self.open_viewer(viewer, true).await?;
        let animation = JsonObject::from_iter([(ANIMATION.to_string(), Value::Null)]);
        if self
            .store
            .viewer_config(viewer)
            .await?
            .contains_key(ANIMATION)
        {
            self.store
                .merge_viewer_config(viewer, &animation, self.limit(VIEWER_CONFIG))
                .await?;
        }
        self.store.set_current_model(viewer, None).await?;
        self.forget_picks(viewer).await?;
        let event = EventData::simple(EventKind::Clear, viewer, json!({}));
        self.store.append_event(viewer, &event).await
    }

    /// Ends the viewer: its pages get `closed` and stop, its models are dropped, and its pages
    /// cannot bring it back (only a write can).
    pub async fn delete_viewer(&self, viewer: &ViewerId) -> Result<(), HubError> {
        self.in_order(viewer, async {
            if self.store.viewer(viewer).await?.is_none() {
                return Err(HubError::ViewerNotFound(viewer.clone()));
            }
            let event = EventData::simple(EventKind::Closed, viewer, json!({}));
            self.store.append_event(viewer, &event).await?;
            self.store.remove_viewer(viewer, true).await
        })
        .await
    }

    /// Merges a page's report into the status: `{key: value}`, or three-cad-viewer's
    /// `{key: {"old", "new"}}`, of which the status keeps `new`. Reports create no viewer: a page
    /// reports on the viewer it follows.
    pub async fn merge_status(
        &self,
        viewer: &ViewerId,
        delta: JsonObject,
    ) -> Result<ViewerStatus, HubError> {
        // Only the server says whether a kernel answers measurements.
        let delta: JsonObject = delta
            .into_iter()
            .filter(|(key, _)| key != kernel::KERNEL_STATUS_KEY)
            .map(|(key, value)| (key, reported_value(value)))
            .collect();
        if !self.store.mark_active(viewer).await? {
            return Err(self.missing(viewer).await?);
        }
        self.store
            .merge_viewer_status(viewer, &delta, self.limit("the viewer's status"))
            .await?;
        self.status(viewer).await
    }

    /// The merged status; `ViewerDeleted` for a deleted viewer (how a page that the server
    /// answered 204 learns its viewer is gone), `ViewerNotFound` for one nobody used.
    pub async fn status(&self, viewer: &ViewerId) -> Result<ViewerStatus, HubError> {
        let Some(record) = self.store.viewer(viewer).await? else {
            return Err(self.missing(viewer).await?);
        };
        Ok(ViewerStatus {
            viewer_id: viewer.clone(),
            subscribers: self.store.subscribers(viewer).await?,
            model_id: record.model,
            config: self.effective_config(viewer).await?,
            status: self.reported_status(viewer).await?,
        })
    }

    /// What pages reported, and the mark of the kernel that answers the viewer's measurements.
    pub(super) async fn reported_status(&self, viewer: &ViewerId) -> Result<JsonObject, HubError> {
        let mut status = self.store.viewer_status(viewer).await?;
        if let Some(mark) = self.store.kernel_mark(viewer).await? {
            status.insert(kernel::KERNEL_STATUS_KEY.into(), mark);
        }
        Ok(status)
    }

    /// Why a viewer is not there: deleted, or never used.
    pub(super) async fn missing(&self, viewer: &ViewerId) -> Result<HubError, HubError> {
        Ok(match self.store.was_deleted(viewer).await? {
            true => HubError::ViewerDeleted(viewer.clone()),
            false => HubError::ViewerNotFound(viewer.clone()),
        })
    }

    /// Every viewer, the most recently active first.
    pub async fn viewers(&self) -> Result<Vec<ViewerSummary>, HubError> {
        let mut records = self.store.viewers().await?;
        records.sort_by_key(|record| std::cmp::Reverse(record.last_active));
        let mut viewers = Vec::with_capacity(records.len());
        for record in records {
            let summary = match &record.model {
                Some(model) => self.store.model_summary(model).await?,
                None => None,
            };
            viewers.push(ViewerSummary {
                subscribers: self.store.subscribers(&record.id).await?,
                last_event_id: self.store.latest_event(&record.id).await?,
                parts: summary.map(|s| s.leaves),
                triangles: summary.map(|s| s.triangles),
                thumbnail: self.store.has_thumbnail(&record.id).await?,
                model_id: record.model,
                created: rfc3339(record.created),
                last_active: rfc3339(record.last_active),
                id: record.id,
            });
        }
        Ok(viewers)
    }

    /// Drops viewers that have had no page and no activity for longer than `idle`, with their
    /// models; returns how many. A viewer with a page counts as active; one that only pages ever
    /// used (no write) goes [`EMPTY_VIEWER_IDLE`] after its last page.
    pub async fn collect_idle(&self, idle: Duration) -> Result<usize, HubError> {
        let now = SystemTime::now();
        let mut collected = 0;
        for record in self.store.viewers().await? {
            let quiet = now.duration_since(record.last_active).unwrap_or_default();
            if self.store.subscribers(&record.id).await? > 0 {
                self.store.mark_active(&record.id).await?;
            } else if quiet > idle || (quiet > EMPTY_VIEWER_IDLE.min(idle) && !record.written) {
                // Removed in order with writes: a push that came meanwhile keeps the viewer.
                let removed = self.in_order(&record.id, async {
                    let now = self.store.viewer(&record.id).await?;
                    let still = now.is_some_and(|now| now.last_active == record.last_active);
                    if still {
                        self.store.remove_viewer(&record.id, false).await?;
                    }
                    Ok(still)
                });
                if !removed.await? {
                    continue;
                }
                tracing::info!(viewer = %record.id, "idle viewer collected");
                collected += 1;
            }
        }
        Ok(collected)
    }
}
