//! One viewer's API: what its pages report (status), live settings, clearing, deleting,
//! screenshots on request, and the list of all viewers.

use std::time::Duration;

use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::hub::{Hub, ViewerStatus, ViewerSummary};
use crate::ids::{InvalidId, ViewerId};
use crate::server::body::JsonObjectBody;
use crate::server::guards::{Authorized, Caller};
use crate::server::routes::screenshot::Png;
use crate::Settings;

/// A page reports camera, visibility and selection changes; they are merged into the status.
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
#[rocket::get("/api/viewer/<id>/status")]
pub async fn get_status(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<ViewerStatus>> {
    Ok(Json(hub.status(&id?).await?))
}

/// Changes settings of a live viewer without re-sending its model (`config_update`).
#[rocket::post("/api/viewer/<id>/config", data = "<delta>")]
pub async fn post_config(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    delta: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Value>> {
    let id = id?;
    let config = hub.update_config(&id, delta.0).await?;
    Ok(Json(json!({ "viewer_id": id, "config": config })))
}

#[rocket::post("/api/viewer/<id>/clear")]
pub async fn clear(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<Value>> {
    let id = id?;
    hub.clear(&id).await?;
    Ok(Json(json!({ "viewer_id": id, "cleared": true })))
}

#[rocket::delete("/api/viewer/<id>")]
pub async fn delete(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<Value>> {
    let id = id?;
    hub.delete_viewer(&id).await?;
    Ok(Json(json!({ "viewer_id": id, "deleted": true })))
}

/// Asks the viewer's pages for a PNG and answers with it; 504 when no page answers in time.
/// `?timeout=<seconds>` shortens or lengthens the wait (at most a minute).
#[rocket::post("/api/viewer/<id>/screenshot?<timeout>")]
pub async fn request_screenshot(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    timeout: Option<f64>,
    hub: &State<Hub>,
    settings: &State<Settings>,
) -> ApiResult<Png> {
    let wait = timeout
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_secs_f64(t.min(60.0)))
        .unwrap_or_else(|| settings.screenshot_timeout());
    let screenshot = hub.request_screenshot(&id?, wait).await?;
    Ok(Png(screenshot.png))
}

/// Every live viewer with its pages, model and activity, the most recently active first.
#[rocket::get("/api/viewers")]
pub async fn list(_auth: Authorized, hub: &State<Hub>) -> ApiResult<Json<Value>> {
    let viewers: Vec<ViewerSummary> = hub.viewers().await?;
    Ok(Json(json!({ "viewers": viewers })))
}
