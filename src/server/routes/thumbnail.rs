//! Thumbnails: the last frame a viewer's page drew, small, for the `/viewers` page. A page posts
//! one after each drawing (`POST /api/viewer/<id>/thumbnail`); one is kept per viewer, at most
//! `--thumbnail-limit`, and goes with the viewer.

use std::io::Cursor;

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::State;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::{Hub, ImageKind, Thumbnail};
use crate::ids::{InvalidId, ViewerId};
use crate::server::body::ThumbnailBytes;
use crate::server::guards::Caller;
use crate::server::routes::screenshot::image_data;
use crate::Settings;

/// What a page posts: `{"data": "data:image/webp;base64,..."}` (PNG and JPEG too).
#[derive(Deserialize)]
struct Upload<'a> {
    #[serde(borrow)]
    data: std::borrow::Cow<'a, str>,
}

#[rocket::post("/api/viewer/<id>/thumbnail", data = "<body>")]
pub async fn post(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    body: ThumbnailBytes,
    hub: &State<Hub>,
    settings: &State<Settings>,
) -> ApiResult<(Status, Json<Value>)> {
    let id = id?;
    let mut de = serde_json::Deserializer::from_slice(&body.0.bytes);
    let upload: Upload =
        serde_path_to_error::deserialize(&mut de).map_err(|err| from_serde("$", err))?;
    let kinds = [ImageKind::Webp, ImageKind::Jpeg, ImageKind::Png];
    let (image, kind) = image_data(&upload.data, &kinds, "$.data")?;
    let limit = settings.thumbnail_limit.as_u64() as usize;
    if image.len() > limit {
        return Err(ApiError::too_large(format!(
            "a thumbnail of {} bytes is over the limit of {limit} bytes (--thumbnail-limit)",
            image.len()
        )));
    }
    let bytes = image.len();
    let thumbnail = Thumbnail {
        image: image.into(),
        kind,
    };
    hub.store_thumbnail(&id, thumbnail).await?;
    let answer = json!({ "viewer_id": id, "bytes": bytes, "type": kind.mime() });
    Ok((Status::Created, Json(answer)))
}

#[rocket::get("/api/viewer/<id>/thumbnail")]
pub async fn get(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Image> {
    Ok(Image(hub.thumbnail(&id?).await?))
}

/// A thumbnail as an image response, never cached for long: the next drawing replaces it.
pub struct Image(Thumbnail);

impl<'r> Responder<'r, 'static> for Image {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let image = self.0.image;
        Response::build()
            .raw_header("Content-Type", self.0.kind.mime())
            .header(Header::new("Cache-Control", "no-cache"))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .sized_body(image.len(), Cursor::new(image))
            .ok()
    }
}
