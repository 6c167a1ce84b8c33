//! `GET /api/viewer/<id>/events`: the Server-Sent Events stream of one viewer.
//!
//! The hub renders each event's frame once; this route only writes those shared bytes, plus a
//! `retry` hint, keep-alive comments and nothing else. The stream ends when the viewer is deleted
//! or the server shuts down.

use std::sync::Arc;

use bytes::Bytes;
use rocket::futures::stream::{BoxStream, StreamExt};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::stream::{stream, ByteStream};
use rocket::response::{self, Responder, Response};
use rocket::tokio::time::{interval_at, Instant};
use rocket::{Shutdown, State};

use crate::error::ApiResult;
use crate::hub::{Hub, SubscribeOutcome, Subscription};
use crate::ids::{InvalidId, ViewerId};
use crate::server::guards::{Caller, LastEventId};
use crate::Settings;

/// Milliseconds EventSource waits before reconnecting.
const RETRY_MS: u32 = 1000;

/// Largest write of one stream. Rocket copies a body through a buffer of this size, so a frame
/// with an inlined model goes out in a few writes instead of dozens of 4 KiB ones; the buffer is
/// only touched as far as frames fill it, so idle streams stay small.
const MAX_WRITE: usize = 32 * 1024;

#[rocket::get("/api/viewer/<id>/events")]
pub async fn events(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    last_event_id: LastEventId,
    hub: &State<Arc<dyn Hub>>,
    settings: &State<Settings>,
    shutdown: Shutdown,
) -> ApiResult<EventStream> {
    let id = id?;
    match hub.subscribe(&id, last_event_id.0.as_deref()).await? {
        SubscribeOutcome::Subscribed(subscription) => Ok(EventStream::Open(frames(
            subscription,
            settings.heartbeat(),
            shutdown,
        ))),
        SubscribeOutcome::Deleted => Ok(EventStream::Deleted),
    }
}

fn frames(
    subscription: Subscription,
    heartbeat: std::time::Duration,
    mut shutdown: Shutdown,
) -> BoxStream<'static, Bytes> {
    stream! {
        yield Bytes::from(format!("retry: {RETRY_MS}\n: connected\n\n"));
        for event in subscription.backlog {
            yield event.frame.clone();
        }
        let mut live = subscription.live;
        let mut ticks = interval_at(Instant::now() + heartbeat, heartbeat);
        loop {
            let frame = rocket::tokio::select! {
                next = live.next() => match next {
                    Some(event) => event.frame.clone(),
                    None => break,
                },
                _ = ticks.tick() => Bytes::from_static(b": keep-alive\n\n"),
                _ = &mut shutdown => break,
            };
            yield frame;
        }
    }
    .boxed()
}

/// An open event stream, or 204 for a deleted viewer (which makes EventSource stop retrying).
pub enum EventStream {
    Open(BoxStream<'static, Bytes>),
    Deleted,
}

impl<'r> Responder<'r, 'r> for EventStream {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'r> {
        match self {
            EventStream::Deleted => Response::build().status(Status::NoContent).ok(),
            EventStream::Open(frames) => {
                Response::build_from(ByteStream(frames).respond_to(request)?)
                    .header(ContentType::new("text", "event-stream"))
                    .header(Header::new("Cache-Control", "no-cache, no-transform"))
                    .header(Header::new("X-Accel-Buffering", "no"))
                    .max_chunk_size(MAX_WRITE)
                    .ok()
            }
        }
    }
}
