//! Request bodies. Each is checked for its content type and size before it is read, read whole
//! without blocking a worker, and refused with a precise error: 415, 413 naming the limit, 400
//! for broken JSON, 422 for JSON of the wrong shape.

use rocket::data::{ByteUnit, Data, FromData, Outcome};
use rocket::http::Status;
use rocket::request::Request;
use rocket::tokio::io::AsyncReadExt;

use super::guards::remember_failure;
use crate::error::ApiError;
use crate::hub::JsonObject;
use crate::Settings;

/// Limit for the small JSON bodies (config, status).
const SMALL_BODY_LIMIT: ByteUnit = ByteUnit::Mebibyte(1);

/// A JSON body up to the server's body limit, unparsed (models and screenshots are parsed on a
/// blocking thread by their routes).
pub struct JsonBytes(pub Vec<u8>);

/// A small JSON object (configs, status reports), parsed.
pub struct JsonObjectBody(pub JsonObject);

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonBytes {
    type Error = ApiError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let limit = request
            .rocket()
            .state::<Settings>()
            .map_or(ByteUnit::Mebibyte(256), |s| s.body_limit);
        match read(request, data, limit).await {
            Ok(bytes) => Outcome::Success(JsonBytes(bytes)),
            Err(error) => data_fail(request, error),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromData<'r> for JsonObjectBody {
    type Error = ApiError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r, Self> {
        let parsed = read(request, data, SMALL_BODY_LIMIT)
            .await
            .and_then(|bytes| parse_object(&bytes));
        match parsed {
            Ok(object) => Outcome::Success(JsonObjectBody(object)),
            Err(error) => data_fail(request, error),
        }
    }
}

/// Fails a data guard with `error`, which the catcher then sends.
fn data_fail<'r, T>(request: &'r Request<'_>, error: ApiError) -> Outcome<'r, T, ApiError> {
    Outcome::Error((remember_failure(request, &error), error))
}

/// Reads a whole JSON body of at most `limit` bytes.
async fn read(request: &Request<'_>, data: Data<'_>, limit: ByteUnit) -> Result<Vec<u8>, ApiError> {
    if let Some(content_type) = request.content_type() {
        let json = content_type.is_json() || content_type.sub().as_str().ends_with("+json");
        if !json {
            return Err(ApiError::new(
                Status::UnsupportedMediaType,
                "unsupported_media_type",
                format!(
                    "the body must be JSON (Content-Type: application/json), not {content_type}"
                ),
            ));
        }
    }
    let too_large = || {
        ApiError::too_large(format!(
            "the body is larger than this server's limit of {limit} (start it with --body-limit to change it)"
        ))
    };
    let declared = request
        .headers()
        .get_one("Content-Length")
        .and_then(|len| len.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit.as_u64()) {
        return Err(too_large());
    }
    // Read straight into one buffer of the declared size (no regrowing for a 40 MB model); one
    // byte past the limit tells a body that is too large.
    let max = limit.as_u64() as usize;
    let mut bytes = Vec::with_capacity(declared.map_or(64 * 1024, |len| len as usize));
    data.open((max + 1).into())
        .read_to_end(&mut bytes)
        .await
        .map_err(|err| ApiError::bad_request(format!("could not read the body: {err}")))?;
    if bytes.len() > max {
        return Err(too_large());
    }
    if bytes.is_empty() {
        return Err(ApiError::malformed_json("the body is empty; expected JSON"));
    }
    Ok(bytes)
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
