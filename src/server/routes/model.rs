//! `POST /api/model` and `GET /api/model/<id>`: storing models and serving them back.

use std::sync::Arc;

use crate::assets::{self, Compression};
use bytes::Bytes;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, StoredModel};
use crate::ids::{InvalidId, ModelId, ViewerId};
use crate::model::{parse_upload, StoredJson};
use crate::server::body::JsonBytes;
use crate::server::guards::{Authorized, BaseUrl, Caller, Conditional};
use crate::server::openapi::{ErrorBody, ModelUpload, StoredMessage};
use crate::Settings;

/// Models up to this size are compressed on the first request that accepts gzip; larger ones
/// are served plain at first and compressed in the background for later requests, so the first
/// page to fetch a big model over loopback does not wait for the compressor.
const GZIP_INLINE_LIMIT: usize = 1 << 20;

/// What a push answers.
#[derive(Serialize, ToSchema)]
pub struct ModelStored {
    model_id: ModelId,
    viewer_id: ViewerId,
    /// Where the model is served (`GET /api/model/{id}`).
    url: String,
    /// The viewer's page.
    viewer_url: String,
    /// The stored message's size.
    bytes: usize,
    /// Leaf parts, shared meshes (0 for a plain tree) and triangles.
    parts: usize,
    instances: usize,
    triangles: usize,
}

/// Stores a model for a viewer (`viewer_id` in the body, else `?viewer=`, else `default`) and
/// announces it to the viewer's pages.
#[utoipa::path(
    post,
    path = "/api/model",
    tag = "models",
    params(("viewer" = Option<ViewerId>, Query, description = "The viewer, when the body names none (default: `default`)")),
    request_body(content = ModelUpload, description = "The model, in one of three forms"),
    responses(
        (status = 201, description = "Stored and announced to the viewer's pages", body = ModelStored),
        (status = 400, description = "`malformed_json`; `invalid_id` or `bad_request` for `?viewer`", body = ErrorBody),
        (status = 413, description = "`too_large` (--body-limit, or the viewer's settings after the merge over --settings-limit); `over_memory_budget`: the model alone is over --model-memory", body = ErrorBody),
        (status = 422, description = "`invalid`: the model is wrong at `path`", body = ErrorBody),
        (status = 429, description = "`too_many_viewers`", body = ErrorBody),
        (status = 503, description = "`model_memory_full`: models other viewers show hold --model-memory; `store_unavailable`; `busy`", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/model?<viewer>", data = "<body>")]
pub async fn post_model(
    _auth: Authorized,
    viewer: Vec<&str>,
    body: JsonBytes,
    hub: &State<Hub>,
    settings: &State<Settings>,
    base: BaseUrl,
) -> ApiResult<(Status, Json<ModelStored>)> {
    let query_viewer = super::single(&viewer, "viewer")?
        .map(ViewerId::new)
        .transpose()?;
    let limits = settings.model_limits();
    let model = rocket::tokio::task::spawn_blocking(move || -> ApiResult<StoredModel> {
        let JsonBytes(body) = body;
        let upload = parse_upload(body.bytes, &limits)?;
        let viewer_id = upload
            .viewer_id
            .clone()
            .or(query_viewer)
            .unwrap_or_else(ViewerId::default_viewer);
        let id = ModelId::random();
        let parted = upload.parted()?;
        Ok(StoredModel::new(
            id,
            viewer_id,
            parted,
            upload.config,
            upload.summary,
        ))
    })
    .await
    .map_err(|err| ApiError::internal(format!("the upload could not be processed: {err}")))??;
    let model = hub.publish_model(model).await?;
    tracing::info!(model = %model.id, viewer = %model.viewer_id, bytes = model.body.len(), "model stored");
    let answer = ModelStored {
        url: format!("{}/api/model/{}", base.0, model.id),
        viewer_url: format!("{}/viewer/{}", base.0, model.viewer_id),
        model_id: model.id.clone(),
        viewer_id: model.viewer_id.clone(),
        bytes: model.body.len(),
        parts: model.summary.leaves,
        instances: model.summary.instances,
        triangles: model.summary.triangles,
    };
    Ok((Status::Created, Json(answer)))
}

/// A stored model as JSON: ocp_vscode's message with the geometry as it was posted.
#[utoipa::path(
    get,
    path = "/api/model/{id}",
    tag = "models",
    params(("id" = ModelId, Path)),
    responses(
        (status = 200, description = "The stored model (ETag: its id; gzip when accepted; immutable)", body = StoredMessage),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "`model_not_found`", body = ErrorBody),
        (status = 410, description = "`model_evicted`: evicted under --model-memory, or its viewer deleted", body = ErrorBody),
    ),
)]
#[rocket::get("/api/model/<id>")]
pub async fn get_model(
    _caller: Caller,
    id: Result<ModelId, InvalidId>,
    hub: &State<Hub>,
    conditional: Conditional,
) -> ApiResult<ModelResponse> {
    let model = hub.model(&id?).await?;
    let gzip = if conditional.gzip {
        gzipped(&model).await
    } else {
        None
    };
    let etag = match gzip {
        Some(_) => format!("\"{}.gz\"", model.id),
        None => format!("\"{}\"", model.id),
    };
    let not_modified = conditional.has(&etag);
    Ok(ModelResponse {
        not_modified,
        etag,
        gzip: gzip.is_some(),
        body: gzip.map_or_else(|| model.body.clone(), StoredJson::from),
    })
}

/// The gzip form of a model, if it is ready or cheap to make now; see [`GZIP_INLINE_LIMIT`].
async fn gzipped(model: &Arc<StoredModel>) -> Option<Bytes> {
    if let Some(ready) = model.gzip.get() {
        return Some(ready.clone());
    }
    let compress = {
        let model = model.clone();
        move || {
            let _ = model.gzip.get_or_init(|| gzip(&model.body));
        }
    };
    if model.body.len() <= GZIP_INLINE_LIMIT {
        rocket::tokio::task::spawn_blocking(compress).await.ok()?;
        model.gzip.get().cloned()
    } else {
        rocket::tokio::task::spawn_blocking(compress);
        None
    }
}

fn gzip(json: &StoredJson) -> Bytes {
    let parts = json.parts().iter().map(|part| &part[..]);
    Bytes::from(assets::gzip(parts, Compression::fast()))
}

/// A model's bytes with caching headers; models never change, so their ids are their ETags.
/// Parts (named by their hash) and tree forms never change either.
pub struct ModelResponse {
    not_modified: bool,
    etag: String,
    body: StoredJson,
    gzip: bool,
}

impl ModelResponse {
    /// `body`, never compressed, tagged `etag` (304 when `conditional` has it).
    pub fn immutable(etag: String, body: StoredJson, conditional: &Conditional) -> Self {
        ModelResponse {
            not_modified: conditional.has(&etag),
            etag,
            body,
            gzip: false,
        }
    }
}

impl<'r> Responder<'r, 'static> for ModelResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .header(ContentType::JSON)
            .header(Header::new("ETag", self.etag))
            .header(Header::new("Vary", "Accept-Encoding"))
            .header(Header::new(
                "Cache-Control",
                "private, max-age=31536000, immutable",
            ));
        if self.not_modified {
            return response.status(Status::NotModified).ok();
        }
        if self.gzip {
            response.header(Header::new("Content-Encoding", "gzip"));
        }
        response
            .sized_body(self.body.len(), self.body.reader())
            .max_chunk_size(256 * 1024)
            .ok()
    }
}
