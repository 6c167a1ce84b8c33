//! Screenshots a client asks pages for, and the thumbnail each viewer's pages keep current.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::json;

use super::{kernel, EventData, EventKind, Hub, HubError, Screenshot, Thumbnail};
use crate::ids::ViewerId;

impl Hub {
    /// Asks the viewer's pages for a PNG (a `screenshot_request` event) and waits for the first
    /// answer. A viewer no page shows, known or not, is `NoPage`: either way the remedy is to open
    /// a page, and asking creates no viewer.
    pub async fn request_screenshot(
        &self,
        viewer: &ViewerId,
        timeout: Duration,
    ) -> Result<Screenshot, HubError> {
        if self.store.subscribers(viewer).await? == 0 {
            return Err(HubError::NoPage(viewer.clone()));
        }
        let request = uuid::Uuid::new_v4().simple().to_string();
        self.store.open_request(&request, viewer).await?;
        let event = EventData::simple(
            EventKind::ScreenshotRequest,
            viewer,
            json!({ "request_id": request }),
        );
        let answer = match self.store.append_event(viewer, &event).await {
            Ok(()) => self.store.await_answer(&request, timeout).await,
            Err(err) => Err(err),
        };
        self.store.close_request(&request).await?;
        match answer? {
            Some(id) => self
                .store
                .screenshot(&id)
                .await?
                .ok_or(HubError::ScreenshotNotFound(id)),
            None => Err(HubError::ScreenshotTimeout(viewer.clone())),
        }
    }

    /// Stores a PNG a page uploaded. It answers `request_id` only if that request is pending for
    /// the same viewer: a page cannot answer for another viewer.
    pub async fn store_screenshot(
        &self,
        viewer: &ViewerId,
        request_id: Option<&str>,
        png: Bytes,
    ) -> Result<Screenshot, HubError> {
        let screenshot = Screenshot {
            id: uuid::Uuid::new_v4().simple().to_string(),
            viewer_id: viewer.clone(),
            png,
            created: SystemTime::now(),
        };
        self.store.put_screenshot(&screenshot).await?;
        // A page's screenshot answers screenshot requests only, never a kernel's measurement.
        if let Some(request) = request_id.filter(|r| !kernel::is_tool_request(r)) {
            let pending = self.store.request_viewer(request).await?;
            if pending.as_ref() == Some(viewer) {
                self.store.answer_request(request, &screenshot.id).await?;
            }
        }
        Ok(screenshot)
    }

    /// Keeps the last frame a page of `viewer` drew, replacing the one before. Like a status
    /// report, it creates no viewer: an unknown one is `ViewerNotFound`, a deleted one
    /// `ViewerDeleted`.
    pub async fn store_thumbnail(
        &self,
        viewer: &ViewerId,
        thumbnail: Thumbnail,
    ) -> Result<(), HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            return Err(self.missing(viewer).await?);
        }
        self.store.put_thumbnail(viewer, &thumbnail).await
    }

    pub async fn thumbnail(&self, viewer: &ViewerId) -> Result<Thumbnail, HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            return Err(self.missing(viewer).await?);
        }
        self.store
            .thumbnail(viewer)
            .await?
            .ok_or_else(|| HubError::NoThumbnail(viewer.clone()))
    }

    pub async fn screenshot(&self, id: &str) -> Result<Screenshot, HubError> {
        self.store
            .screenshot(id)
            .await?
            .ok_or_else(|| HubError::ScreenshotNotFound(id.to_string()))
    }
}
