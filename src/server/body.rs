//! Request bodies. Each is checked for its content type and size before it is read, read whole
//! without blocking a worker, and refused with a precise error: 415, 413 naming the limit, 400
//! for broken JSON, 422 for JSON of the wrong shape.
//!
//! Memory is taken as bytes arrive, never for a declared length alone, and bodies being read or
//! parsed at once share a budget ([`BodyBudgets`]): models (which need the token where there is
//! one) twice `--body-limit`, the small bodies any page may send (status, config, screenshots)
//! a few of their limits, so pages cannot crowd out uploads. Beyond it a request waits a little,
//! then gets 503. A body that stops arriving for `--body-timeout-secs` gets 408, and so does one
//! still arriving after twenty times that.

use std::sync::Arc;
use std::time::Duration;

use rocket::data::{ByteUnit, Data, FromData, Outcome};
use rocket::request::Request;
use rocket::tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::guards::remember_failure;
use crate::error::ApiError;
use crate::hub::JsonObject;
use crate::wire::ErrorCode;
use crate::Settings;

/// How long a request waits for room in its budget before it gets 503.
const BUDGET_WAIT: Duration = Duration::from_secs(10);
/// The first allocation for a body, and the most it grows by at once.
const FIRST_READ: usize = 64 * 1024;
const MAX_GROWTH: usize = 16 << 20;

/// The budgets of bodies in flight: models, and the small bodies pages may send.
pub struct BodyBudgets {
    models: BodyBudget,
    small: BodyBudget,
}

impl BodyBudgets {
    pub fn new(settings: &Settings) -> Self {
        let models = (settings.body_limit.as_u64() as usize).saturating_mul(2);
        let small = image_body_limit(settings.screenshot_limit)
            .saturating_mul(4)
            .saturating_add((settings.settings_limit.as_u64() as usize).saturating_mul(16));
        BodyBudgets {
            models: BodyBudget::new(models, "twice --body-limit"),
            small: BodyBudget::new(small, "4 screenshots and 16 settings objects"),
        }
    }
}

/// Bytes of request bodies held at once, while they are read and parsed.
struct BodyBudget {
    semaphore: Arc<Semaphore>,
    bytes: usize,
    what: &'static str,
}

impl BodyBudget {
    /// Room for `bytes` of bodies at once.
    fn new(bytes: usize, what: &'static str) -> Self {
        let bytes = bytes.min(Semaphore::MAX_PERMITS);
        BodyBudget {
            semaphore: Arc::new(Semaphore::new(bytes)),
            bytes,
            what,
        }
    }

    /// Takes room for `bytes` more, waiting up to [`BUDGET_WAIT`].
    async fn take(
        &self,
        bytes: usize,
        held: &mut Option<OwnedSemaphorePermit>,
    ) -> Result<(), ApiError> {
        let wanted = u32::try_from(bytes).unwrap_or(u32::MAX);
        let permit = tokio::time::timeout(
            BUDGET_WAIT,
            self.semaphore.clone().acquire_many_owned(wanted),
        )
        .await;
        match permit {
            Ok(Ok(permit)) => {
                match held {
                    Some(held) => held.merge(permit),
                    None => *held = Some(permit),
                }
                Ok(())
            }
            _ => Err(ApiError::new(
                ErrorCode::Busy,
                format!(
                    "the server is reading {} bytes of other bodies, its limit ({}); try again",
                    self.bytes, self.what
                ),
            )),
        }
    }
}

/// A body as read, with its share of its budget, given back when it is dropped.
pub struct Body {
    pub bytes: Vec<u8>,
    _room: Option<OwnedSemaphorePermit>,
}

/// A JSON body up to the server's body limit, unparsed (models are parsed on a blocking thread
/// by their route).
pub struct JsonBytes(pub Body);

/// A screenshot upload: a PNG of at most `--screenshot-limit` in base64, unparsed.
pub struct ScreenshotBytes(pub Body);

/// A thumbnail upload: an image of at most `--thumbnail-limit` in base64, unparsed.
pub struct ThumbnailBytes(pub Body);

/// A settings object (a config change, a status report) of at most `--settings-limit`, parsed.
pub struct JsonObjectBody(pub JsonObject);

/// A body limit, the flag that sets it (named when a body is over it), and whether the body is
/// a model's (else a small one any page may send).
struct Limit {
    bytes: ByteUnit,
    flag: &'static str,
    model: bool,
}

/// The largest upload of an image of at most `image` (a screenshot, a thumbnail): its base64,
/// and room for the data URL and the ids around it.
fn image_body_limit(image: ByteUnit) -> usize {
    (image.as_u64() as usize).div_ceil(3) * 4 + 4096
}

fn settings<'r>(request: &'r Request<'_>) -> &'r Settings {
    request
        .rocket()
        .state::<Settings>()
        .expect("the server manages its Settings")
}

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonBytes {
    type Error = ApiError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let limit = Limit {
            bytes: settings(request).body_limit,
            flag: "--body-limit",
            model: true,
        };
        guard(request, data, limit, |body| Ok(JsonBytes(body))).await
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for ScreenshotBytes {
    type Error = ApiError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let limit = image_limit(settings(request).screenshot_limit, "--screenshot-limit");
        guard(request, data, limit, |body| Ok(ScreenshotBytes(body))).await
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for ThumbnailBytes {
    type Error = ApiError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let limit = image_limit(settings(request).thumbnail_limit, "--thumbnail-limit");
        guard(request, data, limit, |body| Ok(ThumbnailBytes(body))).await
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonObjectBody {
    type Error = ApiError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let limit = Limit {
            bytes: settings(request).settings_limit,
            flag: "--settings-limit",
            model: false,
        };
        guard(request, data, limit, |body| {
            parse_object(&body.bytes).map(JsonObjectBody)
        })
        .await
    }
}

/// The limit of an image upload (a screenshot, a thumbnail) of at most `image` bytes.
fn image_limit(image: ByteUnit, flag: &'static str) -> Limit {
    Limit {
        bytes: ByteUnit::Byte(image_body_limit(image) as u64),
        flag,
        model: false,
    }
}

/// What every body guard does: read within `limit`, then `make` the guard's value; a failure is
/// the guard's error.
async fn guard<'r, T>(
    request: &'r Request<'_>,
    data: Data<'r>,
    limit: Limit,
    make: impl FnOnce(Body) -> Result<T, ApiError>,
) -> Outcome<'r, T, ApiError> {
    match read(request, data, limit).await.and_then(make) {
        Ok(value) => Outcome::Success(value),
        Err(error) => data_fail(request, error),
    }
}

/// Fails a data guard with `error`, which the catcher then sends.
fn data_fail<'r, T>(request: &'r Request<'_>, error: ApiError) -> Outcome<'r, T, ApiError> {
    Outcome::Error((remember_failure(request, &error), error))
}

/// Reads a whole JSON body of at most `limit` bytes.
async fn read(request: &Request<'_>, data: Data<'_>, limit: Limit) -> Result<Body, ApiError> {
    if let Some(content_type) = request.content_type() {
        let json = content_type.is_json() || content_type.sub().as_str().ends_with("+json");
        if !json {
            drain(data).await;
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "the body must be JSON (Content-Type: application/json), not {content_type}"
                ),
            ));
        }
    }
    let Limit {
        bytes: limit,
        flag,
        model,
    } = limit;
    let too_large = || {
        ApiError::too_large(format!(
            "the body is larger than this server's limit of {limit} (start it with {flag} to change it)"
        ))
    };
    let declared = request
        .headers()
        .get_one("Content-Length")
        .and_then(|len| len.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit.as_u64()) {
        drain(data).await;
        return Err(too_large());
    }
    // Grow with what arrives, doubling (a declared length reserves nothing up front), within the
    // budget; one byte past the limit tells a body that is too large.
    let max = limit.as_u64() as usize;
    let budgets = request
        .rocket()
        .state::<BodyBudgets>()
        .expect("the server manages its BodyBudgets");
    let budget = if model {
        &budgets.models
    } else {
        &budgets.small
    };
    let idle = settings(request).body_timeout();
    let deadline = tokio::time::Instant::now() + idle * 20;
    let mut room = None;
    let mut bytes: Vec<u8> = Vec::new();
    // Room past the limit for draining a refused body (`bytes` never holds more than max + 1).
    let mut stream = data.open((max + 1 + DRAIN_MAX).into());
    loop {
        if bytes.len() == bytes.capacity() {
            let growth = bytes
                .capacity()
                .clamp(FIRST_READ, MAX_GROWTH)
                .min(max + 1 - bytes.len());
            if let Err(busy) = budget.take(growth, &mut room).await {
                drop(bytes);
                drain_stream(stream).await;
                return Err(busy);
            }
            bytes.reserve_exact(growth);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(ApiError::new(
                ErrorCode::BodyTimeout,
                format!(
                    "the body took longer than {} s (twenty times --body-timeout-secs)",
                    (idle * 20).as_secs()
                ),
            ));
        }
        let read = tokio::time::timeout(idle, stream.read_buf(&mut bytes))
            .await
            .map_err(|_| {
                ApiError::new(ErrorCode::BodyTimeout,
                    format!(
                        "the body stopped arriving ({} bytes in, none for {} s: --body-timeout-secs)",
                        bytes.len(),
                        idle.as_secs()
                    ),
                )
            })?
            .map_err(|err| ApiError::bad_request(format!("could not read the body: {err}")))?;
        if read == 0 {
            break;
        }
        if bytes.len() > max {
            drop(bytes);
            drain_stream(stream).await;
            return Err(too_large());
        }
    }
    if bytes.is_empty() {
        return Err(ApiError::malformed_json("the body is empty; expected JSON"));
    }
    Ok(Body { bytes, _room: room })
}

/// The most of a refused body read and dropped before the answer, and for how long.
const DRAIN_MAX: usize = 16 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(1);

/// Reads and drops a body no one reads (a refused one, one sent where none is taken), so that
/// a client still sending it reads the answer rather than a reset connection. (Rocket grants
/// `Expect: 100-continue` before any route runs, so such a client sends its body too.)
pub async fn drain(data: Data<'_>) {
    drain_stream(data.open(DRAIN_MAX.into())).await;
}

/// Reads and drops what is left of a body (up to [`DRAIN_MAX`] bytes, for at most
/// [`DRAIN_TIME`]). Nothing is kept.
async fn drain_stream(mut stream: rocket::data::DataStream<'_>) {
    let mut sink = vec![0u8; 64 * 1024];
    let mut left = DRAIN_MAX;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// Parses a JSON object, telling syntax errors (400) from other values (422).
pub fn parse_object(bytes: &[u8]) -> Result<JsonObject, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| ApiError::malformed_json(format!("body is not valid JSON: {err}")))?;
    match value {
        serde_json::Value::Object(object) => Ok(object),
        other => Err(ApiError::invalid(
            format!("expected a JSON object, got {}", json_kind(&other)),
            "$",
        )),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A body a route does not take, read and dropped (see [`drain`]); the route answers the same
/// with or without one.
pub struct UnusedBody;

#[rocket::async_trait]
impl<'r> FromData<'r> for UnusedBody {
    type Error = ApiError;

    async fn from_data(_: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        drain(data).await;
        Outcome::Success(UnusedBody)
    }
}
