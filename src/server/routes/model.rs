//! `POST /api/model` and `GET /api/model/<id>`: storing models and serving them back.

use std::sync::Arc;

use crate::assets::{self, Compression};
use bytes::Bytes;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, StoredModel};
use crate::ids::{InvalidId, ModelId, ViewerId};
use crate::model::{parse_upload, StoredJson};
use crate::server::body::JsonBytes;
use crate::server::guards::{Authorized, BaseUrl, Caller, Conditional};
use crate::Settings;

/// Models up to this size are compressed on the first request that accepts gzip; larger ones
/// are served plain at first and compressed in the background for later requests, so the first
/// page to fetch a big model over loopback does not wait for the compressor.
const GZIP_INLINE_LIMIT: usize = 1 << 20;

/// Stores a model for a viewer (`viewer_id` in the body, else `?viewer=`, else `default`) and
/// announces it to the viewer's pages.
#[rocket::post("/api/model?<viewer>", data = "<body>")]
pub async fn post_model(
    _auth: Authorized,
    viewer: Option<&str>,
    body: JsonBytes,
    hub: &State<Hub>,
    settings: &State<Settings>,
    base: BaseUrl,
) -> ApiResult<(Status, Json<Value>)> {
    let query_viewer = viewer.map(ViewerId::new).transpose()?;
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
        let body = upload.stored_body(&id, &viewer_id);
        Ok(StoredModel::new(
            id,
            viewer_id,
            body,
            upload.config,
            upload.summary,
        ))
    })
    .await
    .map_err(|err| ApiError::internal(format!("the upload could not be processed: {err}")))??;
    let model = hub.publish_model(model).await?;
    tracing::info!(model = %model.id, viewer = %model.viewer_id, bytes = model.body.len(), "model stored");
    let answer = json!({
        "model_id": model.id,
        "viewer_id": model.viewer_id,
        "url": format!("{}/api/model/{}", base.0, model.id),
        "viewer_url": format!("{}/viewer/{}", base.0, model.viewer_id),
        "bytes": model.body.len(),
        "parts": model.summary.leaves,
        "instances": model.summary.instances,
        "triangles": model.summary.triangles,
    });
    Ok((Status::Created, Json(answer)))
}

/// A stored model as JSON: ocp_vscode's message with the geometry as it was posted.
#[rocket::get("/api/model/<id>")]
pub async fn get_model(
    _caller: Caller,
    id: Result<ModelId, InvalidId>,
    hub: &State<Hub>,
    conditional: Conditional,
) -> ApiResult<ModelBody> {
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
    Ok(ModelBody {
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
pub struct ModelBody {
    not_modified: bool,
    etag: String,
    body: StoredJson,
    gzip: bool,
}

impl<'r> Responder<'r, 'static> for ModelBody {
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
