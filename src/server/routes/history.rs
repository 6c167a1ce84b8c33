//! A viewer's versions: the list (`GET /api/viewer/<id>/history`), what changed between two
//! (`GET /api/viewer/<id>/diff`), and showing a kept one again (`POST /api/viewer/<id>/show`).

use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, ModelInfo, ModelTree};
use crate::ids::{InvalidId, ModelId, ViewerId};
use crate::model::diff::{compare, Changes};
use crate::server::body::JsonObjectBody;
use crate::server::guards::{Authorized, Caller};
use crate::server::openapi::{ErrorBody, ShowRequest};
use crate::server::work::ModelWork;

/// One kept version of a viewer.
#[derive(Serialize, ToSchema)]
pub struct Version {
    model_id: ModelId,
    /// When it was pushed.
    #[schema(format = DateTime)]
    created: String,
    /// Leaf parts and triangles.
    parts: usize,
    triangles: usize,
    /// Its size as served (`GET /api/model/{id}`).
    bytes: usize,
    /// What it added to the server's memory when it came: its tree, and the parts no kept
    /// model had (0 parts for a push of the same model).
    new_bytes: usize,
}

impl From<&ModelInfo> for Version {
    fn from(info: &ModelInfo) -> Self {
        Version {
            model_id: info.id.clone(),
            created: crate::hub::rfc3339(info.created),
            parts: info.summary.leaves,
            triangles: info.summary.triangles,
            bytes: info.bytes,
            new_bytes: info.new_bytes,
        }
    }
}

/// A viewer's kept versions.
#[derive(Serialize, ToSchema)]
pub struct HistoryList {
    viewer_id: ViewerId,
    /// The version on screen (none after a clear).
    model_id: Option<ModelId>,
    /// Oldest first.
    versions: Vec<Version>,
    /// How many versions a viewer keeps (--history).
    limit: usize,
}

/// What changed between two versions.
#[derive(Serialize, ToSchema)]
pub struct Diff {
    viewer_id: ViewerId,
    /// None: `to` is the first version kept, and every part is added.
    from: Option<ModelId>,
    to: ModelId,
    #[serde(flatten)]
    changes: Changes,
}

/// A version shown again.
#[derive(Serialize, ToSchema)]
pub struct Shown {
    viewer_id: ViewerId,
    model_id: ModelId,
}

/// The viewer's kept versions, oldest first: each push is one, and stepping through them needs
/// no kernel.
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/history",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "The versions", body = HistoryList),
        (status = 404, description = "`viewer_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/viewer/<id>/history")]
pub async fn history(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<HistoryList>> {
    let id = id?;
    let history = hub.history(&id).await?;
    Ok(Json(HistoryList {
        viewer_id: id,
        model_id: history.shown,
        versions: history.versions.iter().map(Version::from).collect(),
        limit: hub.limits().history,
    }))
}

/// What changed from one version to another, part by part (default: from the version before
/// the one on screen to the one on screen).
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/diff",
    tag = "viewers",
    params(
        ("id" = ViewerId, Path),
        ("from" = Option<ModelId>, Query, description = "The earlier version (default: the one kept before `to`)"),
        ("to" = Option<ModelId>, Query, description = "The later version (default: the one on screen)"),
    ),
    responses(
        (status = 200, description = "Part paths by what happened to them", body = Diff),
        (status = 404, description = "`viewer_not_found`; `no_model`: nothing on screen and no `to`; `version_not_kept`: `from` or `to` is not one of the viewer's kept versions", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`; `model_evicted`", body = ErrorBody),
        (status = 422, description = "`invalid`: `?from` or `?to` is not a model id", body = ErrorBody),
    ),
)]
#[rocket::get("/api/viewer/<id>/diff?<from>&<to>")]
pub async fn diff(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    from: Vec<&str>,
    to: Vec<&str>,
    hub: &State<Hub>,
    work: &State<ModelWork>,
) -> ApiResult<Json<Diff>> {
    let id = id?;
    let (from, to) = (
        super::query_model(&from, "from")?,
        super::query_model(&to, "to")?,
    );
    // The slot first: the trees are read within it, so requests waiting for one hold nothing.
    let slot = work.take("diff").await?;
    let (from, to) = hub.diff_trees(&id, from, to).await?;
    let (from_id, to_id) = (from.as_ref().map(|t| t.info.id.clone()), to.info.id.clone());
    let job = move || {
        let before = from.as_ref().map(tree_text).transpose()?;
        compare(before, tree_text(&to)?).map_err(|err| ApiError::internal(err.to_string()))
    };
    let changes = slot.run("diff", job).await??;
    Ok(Json(Diff {
        viewer_id: id,
        from: from_id,
        to: to_id,
        changes,
    }))
}

/// A stored tree form's text (the store wrote it from a `str`).
fn tree_text(tree: &ModelTree) -> ApiResult<&str> {
    std::str::from_utf8(&tree.tree.text).map_err(|err| ApiError::internal(err.to_string()))
}

/// Shows a kept version again on every page of the viewer, as a push of it would.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/show",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    request_body(content = ShowRequest, description = "A version in the history"),
    responses(
        (status = 200, description = "Shown", body = Shown),
        (status = 404, description = "`viewer_not_found`; `version_not_kept`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
        (status = 422, description = "`invalid`: no `model_id`, or not a model id", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/viewer/<id>/show", data = "<body>")]
pub async fn show(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    body: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Shown>> {
    let id = id?;
    let model = super::named_model(body.0.get("model_id").cloned())?
        .ok_or_else(|| ApiError::invalid("which version? `model_id` is missing", "$.model_id"))?;
    hub.show_version(&id, &model).await?;
    Ok(Json(Shown {
        viewer_id: id,
        model_id: model,
    }))
}
