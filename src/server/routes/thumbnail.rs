//! Thumbnails: the last frame a viewer's page drew, small, for the `/viewers` page. A page posts
//! one after each drawing (`POST /api/viewer/<id>/thumbnail`); one is kept per viewer, at most
//! `--thumbnail-limit`, and goes with the viewer.

use std::io::Cursor;

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::{Hub, ImageKind, Thumbnail};
use crate::ids::{InvalidId, ViewerId};
use crate::server::body::ThumbnailBytes;
use crate::server::guards::Caller;
use crate::server::openapi::ErrorBody;
use crate::server::routes::screenshot::image_data;
use crate::Settings;

/// What a page posts: `{"data": "data:image/webp;base64,..."}` (PNG and JPEG too).
#[derive(Deserialize, ToSchema)]
#[schema(as = ThumbnailUpload)]
pub struct Upload<'a> {
    /// `data:image/webp;base64,...` (or PNG, JPEG), or plain base64 of one.
    #[serde(borrow)]
    #[schema(value_type = String)]
    data: std::borrow::Cow<'a, str>,
}

/// A thumbnail kept.
#[derive(Serialize, ToSchema)]
pub struct ThumbnailSaved {
    viewer_id: ViewerId,
    bytes: usize,
    /// `image/webp`, `image/jpeg` or `image/png`.
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A page's last frame, small, for the `/viewers` page.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/thumbnail",
    operation_id = "post_thumbnail",
    tag = "images",
    params(("id" = ViewerId, Path)),
    request_body(content = Upload),
    responses(
        (status = 201, description = "Kept (one per viewer)", body = ThumbnailSaved),
        (status = 404, description = "`viewer_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
        (status = 413, description = "`too_large`: the image is over --thumbnail-limit", body = ErrorBody),
        (status = 422, description = "`invalid`: `$.data` is not a WebP, JPEG or PNG", body = ErrorBody),
    ),
)]
#[rocket::post("/api/viewer/<id>/thumbnail", data = "<body>")]
pub async fn post(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    body: ThumbnailBytes,
    hub: &State<Hub>,
    settings: &State<Settings>,
) -> ApiResult<(Status, Json<ThumbnailSaved>)> {
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
    let answer = ThumbnailSaved {
        viewer_id: id,
        bytes,
        kind: kind.mime(),
    };
    Ok((Status::Created, Json(answer)))
}

/// The last frame a page of the viewer drew.
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/thumbnail",
    operation_id = "get_thumbnail",
    tag = "images",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "The image", content((Vec<u8> = "image/webp"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))),
        (status = 404, description = "`viewer_not_found`, `no_thumbnail`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
    ),
)]
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
