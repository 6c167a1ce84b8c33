//! One viewer's API: what its pages report (status), live settings, clearing, deleting,
//! screenshots on request, and the list of all viewers.

use std::time::Duration;

use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::hub::{Hub, JsonObject, ViewerStatus, ViewerSummary};
use crate::ids::{InvalidId, ViewerId};
use crate::model::config;
use crate::server::body::JsonObjectBody;
use crate::server::body::UnusedBody;
use crate::server::guards::{Authorized, Caller};
use crate::server::openapi::{Config, ErrorBody};
use crate::server::routes::screenshot::Png;
use crate::Settings;

/// A viewer's effective settings after a change.
#[derive(Serialize, ToSchema)]
pub struct ViewerConfig {
    viewer_id: ViewerId,
    /// The viewer's effective config: the server's defaults, then its own settings.
    #[schema(value_type = Config)]
    config: JsonObject,
}

/// A viewer cleared.
#[derive(Serialize, ToSchema)]
pub struct Cleared {
    viewer_id: ViewerId,
    cleared: bool,
}

/// A viewer deleted.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    viewer_id: ViewerId,
    deleted: bool,
}

/// Every live viewer.
#[derive(Serialize, ToSchema)]
pub struct ViewerList {
    /// The most recently active first.
    viewers: Vec<ViewerSummary>,
}

/// A page reports camera, visibility and selection changes; they are merged into the status.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/status",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    request_body(
        content = Object,
        description = "Changed keys, `{key: value}` or `{key: {\"old\", \"new\"}}` as the renderer reports them",
    ),
    responses(
        (status = 200, description = "The merged status", body = ViewerStatus),
        (status = 404, description = "`viewer_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`: a report does not bring a viewer back", body = ErrorBody),
    ),
)]
#[rocket::post("/api/viewer/<id>/status", data = "<report>")]
pub async fn post_status(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    report: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<ViewerStatus>> {
    Ok(Json(hub.merge_status(&id?, report.0).await?))
}

/// The merged status, as a notebook reads it.
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/status",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "The merged status", body = ViewerStatus),
        (status = 404, description = "`viewer_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/viewer/<id>/status")]
pub async fn get_status(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<ViewerStatus>> {
    Ok(Json(hub.status(&id?).await?))
}

/// Changes settings of a live viewer without re-sending its model (`config_update`). A known
/// key with a value the page does not take is refused (422 at its path); other keys pass.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/config",
    operation_id = "post_viewer_config",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    request_body(content = Config, description = "The keys to change; `null` leaves one to the page's default"),
    responses(
        (status = 200, description = "The viewer's effective config", body = ViewerConfig),
        (status = 422, description = "`invalid`: not an object, or a known key with a value it does not take (at `$.key`)", body = ErrorBody),
        (status = 429, description = "`too_many_viewers`", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/viewer/<id>/config", data = "<delta>")]
pub async fn post_config(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    delta: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<ViewerConfig>> {
    let id = id?;
    config::check(&delta.0)?;
    let config = hub.update_config(&id, delta.0).await?;
    Ok(Json(ViewerConfig {
        viewer_id: id,
        config,
    }))
}

/// Drops the viewer's model from its pages (`clear`); makes the viewer if it is new.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/clear",
    operation_id = "clear_viewer",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "Cleared", body = Cleared),
        (status = 429, description = "`too_many_viewers`", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/viewer/<id>/clear", data = "<_body>")]
pub async fn clear(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    _body: UnusedBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Cleared>> {
    let id = id?;
    hub.clear(&id).await?;
    Ok(Json(Cleared {
        viewer_id: id,
        cleared: true,
    }))
}

/// Ends a viewer: its pages get `closed`, its models go.
#[utoipa::path(
    delete,
    path = "/api/viewer/{id}",
    operation_id = "delete_viewer",
    tag = "viewers",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "`viewer_not_found` (also for one deleted before)", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::delete("/api/viewer/<id>", data = "<_body>")]
pub async fn delete(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    _body: UnusedBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Deleted>> {
    let id = id?;
    hub.delete_viewer(&id).await?;
    Ok(Json(Deleted {
        viewer_id: id,
        deleted: true,
    }))
}

/// Asks the viewer's pages for a PNG and answers with it; 504 when no page answers in time.
/// `?timeout=<seconds>` shortens or lengthens the wait (at most a minute).
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/screenshot",
    tag = "viewers",
    params(
        ("id" = ViewerId, Path),
        ("timeout" = Option<f64>, Query, minimum = 0, description = "Seconds to wait for a page (at most 60; 0 or none: --screenshot-timeout-secs)"),
    ),
    responses(
        (status = 200, description = "The PNG a page drew", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "`screenshot_not_found`: the answer vanished", body = ErrorBody),
        (status = 422, description = "`invalid`: `?timeout` is not a number of seconds", body = ErrorBody),
        (status = 504, description = "`no_page_answered`: no page shows the viewer, or none answered in time", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/viewer/<id>/screenshot?<timeout>", data = "<_body>")]
pub async fn request_screenshot(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    _body: UnusedBody,
    timeout: Vec<&str>,
    hub: &State<Hub>,
    settings: &State<Settings>,
) -> ApiResult<Png> {
    let timeout = super::single(&timeout, "timeout")?;
    let wait = super::query_seconds(timeout, "timeout", 60.0)?
        .filter(|seconds| *seconds > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or_else(|| settings.screenshot_timeout());
    let screenshot = hub.request_screenshot(&id?, wait).await?;
    Ok(Png(screenshot.png))
}

/// Every live viewer with its pages, model and activity, the most recently active first.
#[utoipa::path(
    get,
    path = "/api/viewers",
    operation_id = "list_viewers",
    tag = "viewers",
    responses((status = 200, description = "Every live viewer", body = ViewerList)),
    security(("token" = [])),
)]
#[rocket::get("/api/viewers")]
pub async fn list(_auth: Authorized, hub: &State<Hub>) -> ApiResult<Json<ViewerList>> {
    let viewers = hub.viewers().await?;
    Ok(Json(ViewerList { viewers }))
}
