//! Exact measurements from a kernel. A Python kernel that holds the CAD objects may offer to
//! answer the viewer's measure tools itself: it polls for requests
//! ([`Hub::kernel_requests`]), and while it does, a page's measurement is handed to it as a
//! `tool_request` event and its answer is waited for ([`Hub::hand_to_kernel`]). Requests and answers
//! travel through the store, so on Redis the page, the kernel and the waiting request may each
//! reach a different instance.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{EventData, EventId, EventKind, Hub, HubError, JsonObject};
use crate::ids::{ModelId, ViewerId};

/// The key under which a viewer's status shows the kernel that answers its measurements, and
/// since when it last asked for work (milliseconds since 1970). The server keeps that mark
/// apart from what pages report, and a page cannot report it.
pub const KERNEL_STATUS_KEY: &str = "measureBackend";
/// A kernel that has not polled for this long is gone: pages are answered from the mesh.
pub const KERNEL_GONE: Duration = Duration::from_secs(45);
/// How often a waiting poll looks for new requests.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// Pages' measurements waiting for kernels at once on one instance; more are measured on the
/// mesh at once (each holds a pending request, and on Redis a connection, for up to 5 s).
pub const KERNEL_ASKS: usize = 8;
/// Kernel requests' ids start with this, so no other answer (a page's screenshot) can take one.
const TOOL_REQUEST: &str = "tool-";

/// Whether `request` names a measurement waiting for a kernel.
pub fn is_tool_request(request: &str) -> bool {
    request.starts_with(TOOL_REQUEST)
}

/// What came of asking the kernel.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelAnswer {
    /// Its answer, as JSON text.
    Answer(String),
    /// No answer in time.
    Timeout,
    /// Too many measurements wait for kernels on this instance.
    Busy,
}

/// Who answers a viewer's measurements of a model.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernel {
    /// No kernel polls: the mesh answers.
    None,
    /// A kernel that showed the model polls.
    Ready,
    /// The polling kernel showed another model (this one).
    OtherModel(String),
}

/// What a kernel's poll says of itself.
#[derive(Debug, Clone, Copy)]
pub struct KernelMark<'a> {
    /// The model it showed last, if any.
    pub shown: Option<&'a ModelId>,
    /// The name the kernel gives itself (the Python bridge: a random one per answerer).
    pub kernel: Option<&'a str>,
    /// Only renew its presence: a live mark it made itself keeps its model, as this poll may
    /// have been sent before the kernel showed a new model and marked it. Another kernel's mark
    /// (one that stopped polling without saying so) is replaced as without `renew`.
    pub renew: bool,
}

/// What a kernel's poll gets: requests, and the event id to poll after next.
#[derive(Debug, Clone)]
pub struct KernelWork {
    pub requests: Vec<Value>,
    pub last_event_id: Option<String>,
}

/// Whether a kernel mark names a kernel that polled lately (not one that stopped or is gone).
fn is_live(mark: &Value) -> bool {
    let polled = mark.get("polled_ms").and_then(Value::as_u64).unwrap_or(0);
    !mark.is_null() && now_ms().saturating_sub(polled) < KERNEL_GONE.as_millis() as u64
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Hub {
    /// Whether a kernel that polled lately can answer measurements of `model`: it must have
    /// shown that model (a kernel holds the CAD objects of what it showed only).
    pub async fn kernel_for(&self, viewer: &ViewerId, model: &ModelId) -> Result<Kernel, HubError> {
        let mark = self.store.kernel_mark(viewer).await?;
        let Some(mark) = mark.filter(is_live) else {
            return Ok(Kernel::None);
        };
        match mark.get("model_id").and_then(Value::as_str) {
            Some(shown) if shown == model.as_str() => Ok(Kernel::Ready),
            shown => Ok(Kernel::OtherModel(shown.unwrap_or("none").to_string())),
        }
    }

    /// A kernel's poll: the `tool_request`s after `after` (or from now on), waiting up to `wait`
    /// for one. Marks the kernel present (the status's `measureBackend`) for the model it showed.
    pub async fn kernel_requests(
        &self,
        viewer: &ViewerId,
        mark: KernelMark<'_>,
        after: Option<&str>,
        wait: Duration,
    ) -> Result<KernelWork, HubError> {
        if self.store.viewer(viewer).await?.is_none() {
            return Err(self.missing(viewer).await?);
        }
        self.mark_kernel(viewer, mark).await?;
        // Polled from `after`, or from now on: the id to poll after next is always answered,
        // so a request made between two polls is never missed.
        let mut last_event_id = match after {
            Some(after) => Some(after.to_string()),
            None => self.store.latest_event(viewer).await?,
        };
        let mut cursor = last_event_id
            .as_deref()
            .and_then(EventId::parse)
            .unwrap_or_default();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let events = match self.store.events_after(viewer, cursor).await? {
                Some(events) => events,
                None => {
                    // Past what the store keeps: from now on (what was missed timed out already).
                    last_event_id = self.store.latest_event(viewer).await?;
                    cursor = last_event_id
                        .as_deref()
                        .and_then(EventId::parse)
                        .unwrap_or_default();
                    Vec::new()
                }
            };
            let mut requests = Vec::new();
            for event in &events {
                if let Some(id) = event.event_id() {
                    cursor = cursor.max(id);
                    last_event_id = Some(event.id.clone());
                }
                if event.kind == EventKind::ToolRequest {
                    if let Ok(request) = serde_json::from_slice::<Value>(&event.data()) {
                        requests.push(request);
                    }
                }
            }
            if !requests.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(KernelWork {
                    requests,
                    last_event_id,
                });
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    async fn mark_kernel(&self, viewer: &ViewerId, mark: KernelMark<'_>) -> Result<(), HubError> {
        let kept = match mark.renew {
            true => self.store.kernel_mark(viewer).await?.filter(|live| {
                is_live(live) && live.get("kernel").and_then(Value::as_str) == mark.kernel
            }),
            false => None,
        };
        let shown = match kept {
            Some(live) => live.get("model_id").cloned().unwrap_or_default(),
            None => mark.shown.map_or(Value::Null, |id| id.as_str().into()),
        };
        let mark = json!({ "polled_ms": now_ms(), "model_id": shown, "kernel": mark.kernel });
        self.store.set_kernel_mark(viewer, Some(&mark)).await
    }

    /// The kernel no longer answers (it said so): pages are answered from the mesh at once.
    pub async fn drop_kernel(&self, viewer: &ViewerId) -> Result<(), HubError> {
        match self.store.viewer(viewer).await? {
            // `null`, as the status has shown a stopped kernel since measurements began.
            Some(_) => self.store.set_kernel_mark(viewer, Some(&Value::Null)).await,
            None => Ok(()),
        }
    }

    /// Hands `request` (`{tool, ids, picks, model_id}`) to the viewer's kernel and waits up to
    /// `wait` for its answer; at most [`KERNEL_ASKS`] wait at once.
    pub async fn hand_to_kernel(
        &self,
        viewer: &ViewerId,
        mut request: JsonObject,
        wait: Duration,
    ) -> Result<KernelAnswer, HubError> {
        let Ok(_room) = self.kernel_asks.clone().try_acquire_owned() else {
            return Ok(KernelAnswer::Busy);
        };
        let id = format!("{TOOL_REQUEST}{}", uuid::Uuid::new_v4().simple());
        self.store.open_request(&id, viewer).await?;
        request.insert("request_id".into(), json!(id));
        let event = EventData::simple(EventKind::ToolRequest, viewer, Value::Object(request));
        let answer = match self.store.append_event(viewer, &event).await {
            Ok(()) => self.store.await_answer(&id, wait).await,
            Err(err) => Err(err),
        };
        self.store.close_request(&id).await?;
        Ok(answer?.map_or(KernelAnswer::Timeout, KernelAnswer::Answer))
    }

    /// A kernel's answer to `request`; `false` when no such request of this viewer waits (it
    /// was answered, timed out, or is another viewer's).
    pub async fn answer_kernel(
        &self,
        viewer: &ViewerId,
        request: &str,
        answer: &str,
    ) -> Result<bool, HubError> {
        if !is_tool_request(request)
            || self.store.request_viewer(request).await?.as_ref() != Some(viewer)
        {
            return Ok(false);
        }
        self.store.answer_request(request, answer).await?;
        Ok(true)
    }
}
