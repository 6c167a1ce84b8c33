//! Screenshots, and the hand-off between instances: the instance waiting for an answer (a
//! screenshot for a client, an exact measurement for a page) records the request
//! (`shot-request:<id>` = viewer) and blocks on `shot-answer:<id>`; whichever instance the answer
//! reaches pushes it there (a screenshot's id, a measurement's JSON).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use redis::AsyncCommands;

use super::{from_micros, micros, unavailable, Inner, Result};
use crate::hub::limits::{SCREENSHOTS, SCREENSHOT_REQUEST_TTL, SCREENSHOT_TTL};
use crate::hub::Screenshot;
use crate::ids::ViewerId;

impl Inner {
    /// Keeps the screenshot for [`SCREENSHOT_TTL`]; the index keeps the newest
    /// [`SCREENSHOTS`], and the older ones' bodies go with their index entries.
    pub(super) async fn put_screenshot(&self, screenshot: &Screenshot) -> Result<()> {
        let key = self.keys.screenshot(&screenshot.id);
        let index = self.keys.screenshots();
        let created = micros(screenshot.created);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    ("viewer", screenshot.viewer_id.as_str().as_bytes().to_vec()),
                    ("png", screenshot.png.to_vec()),
                    ("created", created.to_string().into_bytes()),
                ],
            )
            .ignore()
            .expire(&key, SCREENSHOT_TTL.as_secs() as i64)
            .ignore()
            .zadd(&index, &screenshot.id, created)
            .ignore();
        self.run(&pipe).await?;
        let stale: Vec<String> = self
            .conn()
            .zrange(&index, 0, -(SCREENSHOTS as isize) - 1)
            .await
            .map_err(unavailable)?;
        if stale.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for id in &stale {
            pipe.del(self.keys.screenshot(id))
                .ignore()
                .zrem(&index, id)
                .ignore();
        }
        self.run(&pipe).await
    }

    pub(super) async fn load_screenshot(&self, id: &str) -> Result<Option<Screenshot>> {
        let (viewer, png, created): (Option<String>, Option<Vec<u8>>, Option<u64>) =
            redis::cmd("HMGET")
                .arg(self.keys.screenshot(id))
                .arg("viewer")
                .arg("png")
                .arg("created")
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
        Ok(match (viewer.and_then(|v| ViewerId::new(v).ok()), png) {
            (Some(viewer_id), Some(png)) => Some(Screenshot {
                id: id.to_string(),
                viewer_id,
                png: Bytes::from(png),
                created: from_micros(created.unwrap_or(0)),
            }),
            _ => None,
        })
    }

    pub(super) async fn open_request(&self, request: &str, viewer: &ViewerId) -> Result<()> {
        let _: () = self
            .conn()
            .set_ex(
                self.keys.request(request),
                viewer.as_str(),
                SCREENSHOT_REQUEST_TTL.as_secs(),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn request_viewer(&self, request: &str) -> Result<Option<ViewerId>> {
        let viewer: Option<String> = self
            .conn()
            .get(self.keys.request(request))
            .await
            .map_err(unavailable)?;
        Ok(viewer.and_then(|viewer| ViewerId::new(viewer).ok()))
    }

    pub(super) async fn answer_request(&self, request: &str, answer: &str) -> Result<()> {
        let key = self.keys.answer(request);
        let mut pipe = redis::pipe();
        pipe.lpush(&key, answer)
            .ignore()
            .expire(&key, SCREENSHOT_REQUEST_TTL.as_secs() as i64)
            .ignore();
        self.run(&pipe).await
    }

    pub(super) async fn await_answer(
        &self,
        request: &str,
        timeout: Duration,
    ) -> Result<Option<String>> {
        // BLPOP blocks its connection: a connection of its own.
        let mut conn = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(unavailable)?;
        // BLPOP reads a zero wait as "forever"; its resolution is a millisecond.
        let wait = timeout.max(Duration::from_millis(1)).as_secs_f64();
        let answer: Option<(String, String)> = conn
            .blpop(self.keys.answer(request), wait)
            .await
            .map_err(unavailable)?;
        Ok(answer.map(|(_, id)| id))
    }

    pub(super) async fn close_request(&self, request: &str) -> Result<()> {
        let _: () = self
            .conn()
            .del(&[self.keys.request(request), self.keys.answer(request)])
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// The screenshots of the last [`SCREENSHOT_TTL`], for counting.
pub(super) fn fresh_since() -> u64 {
    micros(SystemTime::now() - SCREENSHOT_TTL)
}
