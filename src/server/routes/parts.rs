//! A stored model by content, for pages that show its versions one after another: its tree form
//! first (`/api/model/<id>/tree`, small), then the parts they lack
//! (`/api/model/<id>/parts?since=<a model they have>`, or one by one at `/api/part/<hash>`).
//! Everything here is immutable, so a browser's cache keeps it.

use std::collections::HashSet;

use bytes::Bytes;
use rocket::State;
use serde_json::json;

use super::model::ModelResponse;
use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, HubError};
use crate::ids::{InvalidId, InvalidPartHash, ModelId, PartHash};
use crate::model::stored::raw_field_frame;
use crate::model::StoredJson;
use crate::server::guards::{Caller, Conditional};
use crate::server::openapi::{ErrorBody, PartHashSchema, PartMap, TreeForm};
use crate::wire::ErrorCode;

/// A stored model's tree form: names, places, colours and small meshes, with each big mesh
/// replaced by `{"part": "<hash>"}`. A page fetches this first, then the parts it lacks.
#[utoipa::path(
    get,
    path = "/api/model/{id}/tree",
    tag = "models",
    params(("id" = ModelId, Path)),
    responses(
        (status = 200, description = "The tree form (immutable)", body = TreeForm),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "`model_not_found`", body = ErrorBody),
        (status = 410, description = "`model_evicted`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/model/<id>/tree")]
pub async fn tree(
    _caller: Caller,
    id: Result<ModelId, InvalidId>,
    hub: &State<Hub>,
    conditional: Conditional,
) -> ApiResult<ModelResponse> {
    let form = hub.model_tree(&id?).await?;
    let sizes: serde_json::Map<String, serde_json::Value> = form
        .parts
        .iter()
        .map(|(hash, size)| (hash.to_string(), json!(size)))
        .collect();
    let head = json!({
        "type": "data",
        "model_id": form.info.id,
        "viewer_id": form.info.viewer_id,
        "config": form.config,
        "parts": sizes,
    });
    let (open, close) = raw_field_frame(&head, "data");
    let body = StoredJson::new(vec![
        Bytes::from(open),
        form.tree.text.clone(),
        Bytes::from_static(close),
    ]);
    let etag = format!("\"{}.tree\"", form.info.id);
    Ok(ModelResponse::immutable(etag, body, &conditional))
}

/// The parts of a stored model that another one lacks, as one JSON object `{"<hash>": <mesh>}`:
/// what a page showing model `since` needs to show this one. Without `since`, all of them.
#[utoipa::path(
    get,
    path = "/api/model/{id}/parts",
    tag = "models",
    params(
        ("id" = ModelId, Path),
        ("since" = Option<ModelId>, Query, description = "A model the page has every part of: its parts are left out. One no longer kept leaves out nothing."),
    ),
    responses(
        (status = 200, description = "`{\"<hash>\": <mesh>}` (immutable)", body = PartMap),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 404, description = "`model_not_found`", body = ErrorBody),
        (status = 410, description = "`model_evicted`", body = ErrorBody),
        (status = 422, description = "`invalid`: `?since` is not a model id", body = ErrorBody),
    ),
)]
#[rocket::get("/api/model/<id>/parts?<since>")]
pub async fn parts(
    _caller: Caller,
    id: Result<ModelId, InvalidId>,
    since: Vec<&str>,
    hub: &State<Hub>,
    conditional: Conditional,
) -> ApiResult<ModelResponse> {
    let id = id?;
    let since = super::query_model(&since, "since")?;
    let wanted = hub.model_tree(&id).await?;
    let had: HashSet<PartHash> = match &since {
        Some(since) => match hub.model_tree(since).await {
            Ok(form) => form.parts.iter().map(|(hash, _)| *hash).collect(),
            Err(HubError::ModelGone(_) | HubError::ModelNotFound(_)) => HashSet::new(),
            Err(err) => return Err(err.into()),
        },
        None => HashSet::new(),
    };
    let hashes: Vec<PartHash> = wanted
        .parts
        .iter()
        .map(|(hash, _)| *hash)
        .filter(|hash| !had.contains(hash))
        .collect();
    let bytes = hub.parts(&hashes).await?;
    let mut segments = Vec::with_capacity(2 * hashes.len() + 1);
    for (i, (hash, bytes)) in hashes.iter().zip(bytes).enumerate() {
        // Dropped since the tree was read: the model went with it.
        let bytes = bytes.ok_or_else(|| HubError::ModelGone(id.clone()))?;
        let open = if i == 0 { "{" } else { "," };
        segments.push(Bytes::from(format!("{open}\"{hash}\":")));
        segments.push(bytes);
    }
    segments.push(Bytes::from_static(if hashes.is_empty() {
        b"{}"
    } else {
        b"}"
    }));
    let etag = match &since {
        Some(since) => format!("\"{id}.parts.{since}\""),
        None => format!("\"{id}.parts\""),
    };
    Ok(ModelResponse::immutable(
        etag,
        StoredJson::new(segments),
        &conditional,
    ))
}

/// One stored part: a mesh as it was posted, named by the SHA-256 of its bytes.
#[utoipa::path(
    get,
    path = "/api/part/{hash}",
    tag = "models",
    params(("hash" = PartHashSchema, Path)),
    responses(
        (status = 200, description = "The mesh (immutable)", body = Object),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        (status = 400, description = "`invalid_id`: not a hash", body = ErrorBody),
        (status = 404, description = "`part_not_found`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/part/<hash>")]
pub async fn part(
    _caller: Caller,
    hash: Result<PartHash, InvalidPartHash>,
    hub: &State<Hub>,
    conditional: Conditional,
) -> ApiResult<ModelResponse> {
    let hash = hash?;
    let bytes = hub.parts(&[hash]).await?.pop().flatten().ok_or_else(|| {
        ApiError::new(
            ErrorCode::PartNotFound,
            format!("no stored part {hash}: parts go with the last version that holds them"),
        )
    })?;
    let etag = format!("\"{hash}\"");
    Ok(ModelResponse::immutable(
        etag,
        StoredJson::from(bytes),
        &conditional,
    ))
}
