//! Room for work that costs a whole model's size again and needs no token: writing a scene file
//! (gzip, base64, the page), answering a measurement (the model read whole, its picked parts
//! decoded) and comparing two versions (both trees read). Whoever asks, at most
//! [`MODEL_WORK_AT_ONCE`] such jobs run together.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult};
use crate::wire::ErrorCode;

/// Jobs that read a whole model at once.
pub const MODEL_WORK_AT_ONCE: usize = 2;

/// The room for model-sized jobs ([`MODEL_WORK_AT_ONCE`]), managed by the server.
pub struct ModelWork(Arc<Semaphore>);

impl Default for ModelWork {
    fn default() -> Self {
        ModelWork(Arc::new(Semaphore::new(MODEL_WORK_AT_ONCE)))
    }
}

impl ModelWork {
    /// Runs `job` (one that reads a whole model) on a blocking thread once a slot is free, waiting
    /// up to 10 s for one, then 503 `busy`. The slot goes with the job: a request dropped
    /// meanwhile does not free it while the job still runs.
    pub async fn run<T: Send + 'static>(
        &self,
        what: &str,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        self.take(what).await?.run(what, job).await
    }

    /// A slot, for a job that must gather what it reads (a scene's versions) within it: taken
    /// before the gathering, so that requests waiting for a slot hold nothing.
    pub async fn take(&self, what: &str) -> ApiResult<Slot> {
        let wait = tokio::time::timeout(Duration::from_secs(10), self.0.clone().acquire_owned());
        match wait.await {
            Ok(Ok(permit)) => Ok(Slot { _permit: permit }),
            _ => Err(ApiError::new(
                ErrorCode::Busy,
                format!(
                    "{MODEL_WORK_AT_ONCE} scene files, measurements or diffs are being made, the most \
                     at once; try the {what} again"
                ),
            )),
        }
    }
}

/// One of the [`ModelWork`] slots, held until its job is done (dropping it frees the slot).
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    /// Runs `job` on a blocking thread, the slot held until it ends (a request dropped
    /// meanwhile does not free it while the job still runs).
    pub async fn run<T: Send + 'static>(
        self,
        what: &str,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        rocket::tokio::task::spawn_blocking(move || {
            let _slot = self;
            job()
        })
        .await
        .map_err(|err| ApiError::internal(format!("the {what} failed: {err}")))
    }
}
