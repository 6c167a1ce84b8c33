//! Screenshots: pages upload PNGs (`POST /api/screenshot`), clients fetch them
//! (`GET /api/screenshot/<id>`).

use std::io::Cursor;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::{Hub, ImageKind};
use crate::ids::ViewerId;
use crate::server::body::ScreenshotBytes;
use crate::server::guards::Caller;
use crate::server::openapi::ErrorBody;

/// What a page uploads: the PNG as a data URL (`viewer.getImage()` gives one) or plain base64,
/// borrowed from the body unless it holds escapes, so the upload is held once and its PNG once.
#[derive(Deserialize, ToSchema)]
pub struct Upload<'a> {
    #[schema(value_type = crate::ids::ViewerId)]
    viewer_id: String,
    /// The `request_id` of the `screenshot_request` this answers, if any.
    request_id: Option<String>,
    /// `data:image/png;base64,...` or plain base64 of a PNG.
    #[serde(borrow)]
    #[schema(value_type = String)]
    data: std::borrow::Cow<'a, str>,
}

/// A screenshot kept (for an hour; the newest 32).
#[derive(Serialize, ToSchema)]
pub struct Saved {
    screenshot_id: String,
    viewer_id: ViewerId,
    /// Where it is served (`GET /api/screenshot/{id}`).
    url: String,
    bytes: usize,
}

/// Stores a page's PNG and hands it to the request it answers, if any.
#[utoipa::path(
    post,
    path = "/api/screenshot",
    operation_id = "post_screenshot",
    tag = "images",
    request_body(content = Upload),
    responses(
        (status = 201, description = "Kept", body = Saved),
        (status = 422, description = "`invalid`: `$.viewer_id`, or `$.data` is not a PNG", body = ErrorBody),
    ),
)]
#[rocket::post("/api/screenshot", data = "<body>")]
pub async fn upload(
    _caller: Caller,
    body: ScreenshotBytes,
    hub: &State<Hub>,
) -> ApiResult<(Status, Json<Saved>)> {
    let (viewer, request_id, png) =
        rocket::tokio::task::spawn_blocking(move || decode(&body.0.bytes))
            .await
            .map_err(|err| {
                ApiError::internal(format!("the screenshot could not be read: {err}"))
            })??;
    let screenshot = hub
        .store_screenshot(&viewer, request_id.as_deref(), png)
        .await?;
    let answer = Saved {
        url: format!("/api/screenshot/{}", screenshot.id),
        bytes: screenshot.png.len(),
        screenshot_id: screenshot.id,
        viewer_id: screenshot.viewer_id,
    };
    Ok((Status::Created, Json(answer)))
}

fn decode(body: &[u8]) -> ApiResult<(ViewerId, Option<String>, Bytes)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let upload: Upload =
        serde_path_to_error::deserialize(&mut de).map_err(|err| from_serde("$", err))?;
    let viewer = ViewerId::new(upload.viewer_id)
        .map_err(|e| ApiError::invalid(e.to_string(), "$.viewer_id"))?;
    let (png, _) = image_data(&upload.data, &[ImageKind::Png], "$.data")?;
    Ok((viewer, upload.request_id, Bytes::from(png)))
}

/// The image of a data URL (`data:image/png;base64,...`) or of plain base64, checked to be of one
/// of `kinds` by its first bytes; errors name `path`.
pub(crate) fn image_data(
    text: &str,
    kinds: &[ImageKind],
    path: &str,
) -> ApiResult<(Vec<u8>, ImageKind)> {
    let names = kinds
        .iter()
        .map(|kind| kind.mime())
        .collect::<Vec<_>>()
        .join(", ");
    let (declared, encoded) = match text.split_once(',') {
        Some((header, data)) if header.starts_with("data:") => {
            let mime = header
                .strip_prefix("data:")
                .and_then(|rest| rest.strip_suffix(";base64"));
            match kinds.iter().copied().find(|kind| Some(kind.mime()) == mime) {
                Some(kind) => (Some(kind), data),
                None => {
                    return Err(ApiError::invalid(
                        format!("expected a base64 data URL of {names}, got {header:?}"),
                        path,
                    ))
                }
            }
        }
        _ => (None, text),
    };
    let image = BASE64
        .decode(encoded.trim())
        .map_err(|err| ApiError::invalid(format!("the image is not valid base64: {err}"), path))?;
    match (ImageKind::sniff(&image), declared) {
        (Some(kind), Some(declared)) if kind != declared => Err(ApiError::invalid(
            format!(
                "the data URL says {}, but the data is {}",
                declared.mime(),
                kind.mime()
            ),
            path,
        )),
        (Some(kind), _) if kinds.contains(&kind) => Ok((image, kind)),
        _ => Err(ApiError::invalid(
            format!("the data is not an image of {names}"),
            path,
        )),
    }
}

/// A kept screenshot.
#[utoipa::path(
    get,
    path = "/api/screenshot/{id}",
    operation_id = "get_screenshot",
    tag = "images",
    params(("id" = crate::ids::ModelId, Path, description = "The `screenshot_id`")),
    responses(
        (status = 200, description = "The PNG", content_type = "image/png", body = Vec<u8>),
        (status = 400, description = "`invalid_id`", body = ErrorBody),
        (status = 404, description = "`screenshot_not_found`: none by that id (they are kept for an hour)", body = ErrorBody),
    ),
)]
#[rocket::get("/api/screenshot/<id>")]
pub async fn get(_caller: Caller, id: &str, hub: &State<Hub>) -> ApiResult<Png> {
    // Screenshot ids follow the id rule too.
    crate::ids::ModelId::new(id)?;
    Ok(Png(hub.screenshot(id).await?.png))
}

/// A PNG image response.
pub struct Png(pub Bytes);

impl<'r> Responder<'r, 'static> for Png {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .header(ContentType::PNG)
            .sized_body(self.0.len(), Cursor::new(self.0))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(data: &str) -> Vec<u8> {
        json!({ "viewer_id": "v", "data": data })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn data_urls_and_plain_base64_decode_to_png() {
        let png = BASE64.encode(b"\x89PNG\r\n\x1a\nrest");
        for data in [format!("data:image/png;base64,{png}"), png.clone()] {
            let (viewer, request, bytes) = decode(&body(&data)).unwrap();
            assert_eq!(viewer.as_str(), "v");
            assert!(request.is_none());
            assert_eq!(ImageKind::sniff(&bytes), Some(ImageKind::Png));
        }
    }

    #[test]
    fn bad_screenshots_are_refused_with_their_path() {
        for data in ["data:image/jpeg;base64,AAAA", "%%%", "aGVsbG8="] {
            let err = decode(&body(data)).unwrap_err();
            assert_eq!(err.path.as_deref(), Some("$.data"), "{data}");
        }
        let err = decode(br#"{"viewer_id": 3, "data": ""}"#).unwrap_err();
        assert_eq!(err.path.as_deref(), Some("$.viewer_id"));
    }
}
