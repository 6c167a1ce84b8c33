//! Server-Sent Events: `GET /api/viewer/<id>/events` streams one viewer; `GET /api/events?viewer=a&viewer=b`
//! streams several over one connection.
//!
//! The hub renders each event's frame once; the single-viewer route writes those shared bytes,
//! plus a `retry` hint, keep-alive comments and nothing else. The stream ends when the viewer is
//! deleted or the server shuts down.
//!
//! The shared stream exists because browsers open at most six HTTP/1.1 connections per host: a
//! notebook with a dozen viewer iframes cannot give each its own stream. One stream carries them
//! all (every event's data names its `viewer_id`), and its event id lists the last id of every
//! viewer (`a:17,b:42`), so a reconnect resumes each viewer exactly where it was.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use rocket::futures::stream::{BoxStream, StreamExt};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::stream::{stream, ByteStream};
use rocket::response::{self, Responder, Response};
use rocket::tokio::time::{interval_at, Instant};
use rocket::{Shutdown, State};

use crate::error::{ApiError, ApiResult};
use crate::hub::{Event, EventData, EventId, EventKind, Hub, SubscribeOutcome, Subscription};
use crate::ids::{InvalidId, ViewerId};
use crate::server::guards::{Caller, LastEventId};
use crate::server::openapi::ErrorBody;
use crate::wire::ErrorCode;
use crate::Settings;

/// Milliseconds EventSource waits before reconnecting.
const RETRY_MS: u32 = 1000;

/// Largest write of one stream. Rocket copies a body through a buffer of this size, so a frame
/// with an inlined model goes out in a few writes instead of dozens of 4 KiB ones; the buffer is
/// only touched as far as frames fill it, so idle streams stay small.
const MAX_WRITE: usize = 32 * 1024;

/// The event streams open on this server, within `--max-pages`.
pub struct OpenStreams {
    count: AtomicUsize,
    max: usize,
}

impl OpenStreams {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(OpenStreams {
            count: AtomicUsize::new(0),
            max,
        })
    }

    /// A place for one more stream, held until the stream ends.
    fn claim(self: &Arc<Self>) -> ApiResult<StreamSlot> {
        let taken = self
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(StreamSlot(self.clone())),
            Err(_) => Err(ApiError::new(ErrorCode::TooManyPages,
                format!(
                    "this server holds its limit of {} open event streams (--max-pages); close pages or raise --max-pages",
                    self.max
                ),
            )),
        }
    }
}

/// One open stream, counted until dropped.
struct StreamSlot(Arc<OpenStreams>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The viewer's events, as server-sent events: each event's data is an `Event` (see the
/// schemas), `{"type", "viewer_id", ...}`. A new page first gets the viewer's current state.
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/events",
    tag = "events",
    params(
        ("id" = ViewerId, Path),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received: the stream resumes after it (or sends `resync`)"),
        ("last_event_id" = Option<String>, Query, description = "The same, for clients that cannot set headers"),
    ),
    responses(
        (status = 200, description = "The event stream: `id:` and `data:` lines, the data an `Event`; `: keep-alive` comments", content_type = "text/event-stream", body = String),
        (status = 204, description = "The viewer was deleted: EventSource stops reconnecting"),
        (status = 429, description = "`too_many_pages` (--max-pages), `too_many_viewers`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/viewer/<id>/events")]
pub async fn events(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    last_event_id: LastEventId,
    hub: &State<Hub>,
    settings: &State<Settings>,
    streams: &State<Arc<OpenStreams>>,
    shutdown: Shutdown,
) -> ApiResult<EventsResponse> {
    let id = id?;
    let slot = streams.claim()?;
    match hub.subscribe(&id, last_event_id.0.as_deref()).await? {
        SubscribeOutcome::Subscribed(subscription) => {
            let source = events_of(subscription)
                .map(|event| event.frame.clone())
                .boxed();
            Ok(EventsResponse::Open(with_keep_alive(
                source,
                settings.heartbeat(),
                shutdown,
                slot,
            )))
        }
        SubscribeOutcome::Deleted => Ok(EventsResponse::Deleted),
    }
}

/// Most viewers one shared stream may carry.
pub const MAX_SHARED_VIEWERS: usize = 64;

/// Several viewers' events over one connection. `Last-Event-ID` (or `?last_event_id=`) is the
/// composite id of the last event received.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "events",
    params(
        ("viewer" = Vec<crate::ids::ViewerId>, Query, description = "1 to 64 viewers, `?viewer=a&viewer=b`"),
        ("Last-Event-ID" = Option<String>, Header, description = "The composite id of the last event received (`a:17,b:42`)"),
        ("last_event_id" = Option<String>, Query, description = "The same, for clients that cannot set headers"),
    ),
    responses(
        (status = 200, description = "The viewers' events over one stream, each event's data an `Event`", content_type = "text/event-stream", body = String),
        (status = 400, description = "`invalid_id`; `bad_request`: not 1 to 64 viewers", body = ErrorBody),
        (status = 429, description = "`too_many_pages`, `too_many_viewers`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/events?<viewer>")]
pub async fn shared_events(
    _caller: Caller,
    viewer: Vec<String>,
    last_event_id: LastEventId,
    hub: &State<Hub>,
    settings: &State<Settings>,
    streams: &State<Arc<OpenStreams>>,
    shutdown: Shutdown,
) -> ApiResult<EventsResponse> {
    let mut viewers: Vec<ViewerId> = Vec::new();
    for id in viewer {
        let id = ViewerId::new(id)?;
        if !viewers.contains(&id) {
            viewers.push(id);
        }
    }
    if viewers.is_empty() || viewers.len() > MAX_SHARED_VIEWERS {
        return Err(ApiError::bad_request(format!(
            "name 1 to {MAX_SHARED_VIEWERS} viewers: /api/events?viewer=a&viewer=b"
        )));
    }
    let slot = streams.claim()?;
    let mut latest = parse_composite_id(last_event_id.0.as_deref().unwrap_or(""));
    latest.retain(|id, _| viewers.contains(id));
    let mut sources = Vec::new();
    for id in viewers {
        let tagged = match hub
            .subscribe(&id, latest.get(&id).map(String::as_str))
            .await?
        {
            SubscribeOutcome::Subscribed(subscription) => events_of(subscription),
            SubscribeOutcome::Deleted => {
                let closed = EventData::simple(EventKind::Closed, &id, serde_json::json!({}));
                rocket::futures::stream::iter([Arc::new(closed.with_id(String::new()))]).boxed()
            }
        };
        sources.push(tagged.map(move |event| (id.clone(), event)));
    }
    let source = rocket::futures::stream::select_all(sources)
        .map(move |(viewer, event)| {
            if !event.id.is_empty() {
                latest.insert(viewer, event.id.clone());
            }
            reframe(&latest, &event.frame)
        })
        .boxed();
    Ok(EventsResponse::Open(with_keep_alive(
        source,
        settings.heartbeat(),
        shutdown,
        slot,
    )))
}

/// A subscription's events: the backlog, then live ones.
fn events_of(subscription: Subscription) -> BoxStream<'static, Arc<Event>> {
    rocket::futures::stream::iter(subscription.backlog)
        .chain(subscription.live)
        .boxed()
}

/// `a:17,b:42` -> {a: "17", b: "42"}; anything malformed is ignored (that viewer starts afresh).
/// Ids are echoed in the stream's `id:` lines, so only ids a store could have given pass.
fn parse_composite_id(text: &str) -> BTreeMap<ViewerId, String> {
    text.split(',')
        .take(MAX_SHARED_VIEWERS)
        .filter_map(|pair| {
            let (viewer, id) = pair.trim().split_once(':')?;
            let id = id.trim();
            let plain = id.bytes().all(|b| b.is_ascii_digit() || b == b'-');
            (plain && EventId::parse(id).is_some()).then_some(())?;
            Some((ViewerId::new(viewer).ok()?, id.to_string()))
        })
        .collect()
}

/// The event's frame with the composite id in place of its own.
fn reframe(latest: &BTreeMap<ViewerId, String>, frame: &Bytes) -> Bytes {
    let composite: Vec<String> = latest
        .iter()
        .map(|(viewer, id)| format!("{viewer}:{id}"))
        .collect();
    let body = match frame.strip_prefix(b"id: ") {
        Some(rest) => rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(&frame[..], |end| &rest[end + 1..]),
        None => &frame[..],
    };
    let mut out = Vec::with_capacity(body.len() + 8 + composite.len() * 24);
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(composite.join(",").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// Frames `source` as an event stream: a `retry` hint first, keep-alive comments while idle,
/// the end at shutdown. The stream holds its `slot` while it lives.
fn with_keep_alive(
    mut source: BoxStream<'static, Bytes>,
    heartbeat: std::time::Duration,
    mut shutdown: Shutdown,
    slot: StreamSlot,
) -> BoxStream<'static, Bytes> {
    stream! {
        let _slot = slot;
        yield Bytes::from(format!("retry: {RETRY_MS}\n: connected\n\n"));
        let mut ticks = interval_at(Instant::now() + heartbeat, heartbeat);
        loop {
            let frame = rocket::tokio::select! {
                next = source.next() => match next {
                    Some(frame) => frame,
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
pub enum EventsResponse {
    Open(BoxStream<'static, Bytes>),
    Deleted,
}

impl<'r> Responder<'r, 'r> for EventsResponse {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'r> {
        match self {
            EventsResponse::Deleted => Response::build().status(Status::NoContent).ok(),
            EventsResponse::Open(frames) => {
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
