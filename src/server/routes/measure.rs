//! The measurement tools' backend: a page in measure mode posts what the user picked
//! (`POST /api/viewer/<id>/measure`, `{"tool", "ids", "model_id"?}`) and hands the answer, a
//! three-cad-viewer `tool_response`, to its renderer. Answered from the stored mesh
//! ([`crate::measure`]), so every viewer measures without a kernel; or, while a kernel that holds
//! the CAD objects polls `GET /api/viewer/<id>/tool-requests`, by that kernel with exact values
//! (see [`crate::hub::kernel`]), the mesh standing in when it does not answer in time.
//! `GET /api/viewer/<id>/selection` reads what the page reported as picked.

use std::time::Duration;

use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::kernel::{Kernel, KernelAnswer, KernelMark};
use crate::hub::Hub;
use crate::ids::{InvalidId, KernelName, ModelId, ViewerId};
use crate::measure::{self, measure as answer_tool, MeasureError, Pick, Tool};
use crate::server::body::JsonObjectBody;
use crate::server::body::UnusedBody;
use crate::server::guards::{Authorized, Caller};
use crate::server::openapi::{ErrorBody, Event, PickSchema, ToolName, ToolResponse};
use crate::server::work::ModelWork;
use crate::wire::ErrorCode;

/// What is picked in a viewer's pages.
#[derive(Serialize, ToSchema)]
pub struct Selection {
    viewer_id: ViewerId,
    model_id: Option<ModelId>,
    #[schema(value_type = Vec<PickSchema>)]
    picks: Vec<Pick>,
}

/// What the user picked in the viewer's pages with the measure tools, as the pages reported it
/// (`selectedShapeIDs`), read into parts, faces, edges and vertices: `{"viewer_id", "model_id",
/// "picks": [{"id", "path", "kind", "index"}]}`. The notebook bridges' `selection()`.
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/selection",
    tag = "tools",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "The picks", body = Selection),
        (status = 404, description = "`viewer_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
    ),
)]
#[rocket::get("/api/viewer/<id>/selection")]
pub async fn selection(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<Selection>> {
    let status = hub.status(&id?).await?;
    let picks: Vec<Pick> = status
        .status
        .get(crate::hub::PICKS)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(Pick::parse)
        .collect();
    Ok(Json(Selection {
        viewer_id: status.viewer_id,
        model_id: status.model_id,
        picks,
    }))
}

/// What a page asks: the active tool, the renderer's names of the picks, and the model it shows
/// (the viewer's current one when left out).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureRequest {
    #[schema(value_type = ToolName)]
    tool: Tool,
    /// The renderer's names of the picks: a part's path, or `<path>/faces/faces_3`,
    /// `<path>/edges/edges_0`, `<path>/vertices/vertices1`.
    ids: Vec<String>,
    /// The model the page shows; `null` or left out: the viewer's current one.
    #[serde(default)]
    #[schema(value_type = Option<ModelId>)]
    model_id: Option<Value>,
}

/// How long a page's measurement waits for the kernel that answers exactly.
const KERNEL_WAIT: Duration = Duration::from_secs(5);

/// Like the page's status reports, needs no token: viewer ids are capabilities.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/measure",
    operation_id = "measure",
    tag = "tools",
    params(("id" = ViewerId, Path)),
    request_body(content = MeasureRequest),
    responses(
        (status = 200, description = "three-cad-viewer's `tool_response`", body = ToolResponse),
        (status = 404, description = "`viewer_not_found`, `no_model` (none named, none on screen), `model_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`, `model_evicted`", body = ErrorBody),
        (status = 422, description = "`invalid` at the bad field or pick (`$.ids[1]`); `not_measurable`: the picks cannot be measured with that tool", body = ErrorBody),
    ),
)]
#[rocket::post("/api/viewer/<id>/measure", data = "<body>")]
pub async fn post(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    body: JsonObjectBody,
    hub: &State<Hub>,
    work: &State<ModelWork>,
) -> ApiResult<Json<Value>> {
    let id = id?;
    let request: MeasureRequest = serde_path_to_error::deserialize(Value::Object(body.0))
        .map_err(|err| from_serde("$", err))?;
    let picks = request
        .ids
        .iter()
        .enumerate()
        .map(|(i, name)| {
            Pick::parse(name).ok_or_else(|| {
                ApiError::invalid(
                    format!("{name:?} is not a part's path or the renderer's name of a face, edge or vertex"),
                    format!("$.ids[{i}]"),
                )
            })
        })
        .collect::<ApiResult<Vec<Pick>>>()?;
    let model_id = super::model_on_screen(hub, &id, request.model_id, "measure").await?;
    let tool = request.tool;
    // A kernel holding the CAD objects answers exactly; the mesh answers when it cannot.
    let mut note = None;
    if picks.len() == tool.picks() {
        match hub.kernel_for(&id, &model_id).await? {
            Kernel::Ready => match ask_kernel(hub, &id, tool, &picks, &model_id).await? {
                Ok(values) => return Ok(Json(measure::finish(tool, &picks, values, "exact"))),
                Err(why) => note = Some(why),
            },
            Kernel::OtherModel(shown) => {
                note = Some(format!(
                    "the kernel answering this viewer showed model {shown}, not {model_id}: measured on the mesh"
                ))
            }
            Kernel::None => {}
        }
    }
    let model = hub.model(&model_id).await?;
    // The tree form and the picked parts: a measurement reads no other mesh.
    let job = move || {
        answer_tool(
            model.tree_text(),
            &|hash| model.part_text(hash),
            tool,
            &picks,
        )
    };
    let answer = work.run("measurement", job).await?;
    let answer = answer.map(|mut answer| {
        if let Some(note) = note {
            answer["note"] = json!(note);
        }
        Json(answer)
    });
    answer.map_err(|err| match err {
        MeasureError::Pick { index, message } => {
            ApiError::invalid(message, format!("$.ids[{index}]"))
        }
        MeasureError::NotMeasurable(message) => ApiError::new(ErrorCode::NotMeasurable, message),
        MeasureError::Model(message) => ApiError::internal(message),
    })
}

/// Asks the viewer's kernel; `Ok(Err(why))` when it gives no usable answer in time.
async fn ask_kernel(
    hub: &Hub,
    viewer: &ViewerId,
    tool: Tool,
    picks: &[Pick],
    model_id: &ModelId,
) -> ApiResult<Result<serde_json::Map<String, Value>, String>> {
    let ids: Vec<String> = picks.iter().map(Pick::id).collect();
    // The picks read here, so kernels need not know the renderer's names.
    let request = json!({ "tool": tool, "ids": ids, "picks": picks, "model_id": model_id });
    let Value::Object(request) = request else {
        unreachable!("an object")
    };
    let text = match hub.hand_to_kernel(viewer, request, KERNEL_WAIT).await? {
        KernelAnswer::Answer(text) => text,
        KernelAnswer::Timeout => {
            let wait = KERNEL_WAIT.as_secs();
            return Ok(Err(format!(
                "the kernel did not answer in {wait} s: measured on the mesh"
            )));
        }
        KernelAnswer::Busy => {
            let why = "too many measurements wait for kernels: measured on the mesh";
            return Ok(Err(why.into()));
        }
    };
    // Checked when the kernel posted it (`answer_tool_request`): only its tool is left to see.
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(error) = answer.get("error").and_then(Value::as_str) {
        return Ok(Err(format!(
            "the kernel could not measure this ({error}): measured on the mesh"
        )));
    }
    if answer["tool_type"] != json!(tool) {
        return Ok(Err(format!(
            "the kernel answered {} for a {} question: measured on the mesh",
            answer["tool_type"],
            tool.short_name()
        )));
    }
    match answer {
        Value::Object(mut answer) => match answer.remove("values") {
            Some(Value::Object(values)) => Ok(Ok(values)),
            _ => Ok(Err(
                "the kernel's answer had no values: measured on the mesh".into(),
            )),
        },
        _ => Ok(Err(
            "the kernel's answer was not understood: measured on the mesh".into(),
        )),
    }
}

/// A kernel's poll for the viewer's measurements (the Python bridge's
/// `Viewer(exact_measurements=True)`): `{"requests": [{request_id, tool, ids, picks, model_id}],
/// "last_event_id"}`, waiting up to `wait` seconds (at most 25) for one; pass `last_event_id` back
/// as `after`, and the model the kernel showed as `model`. While a kernel polls, pages'
/// measurements of that model go to it first. A kernel names itself as `kernel`, and its
/// background poll passes `renew=1`: it keeps the model of a live mark the same kernel made, as
/// such a poll may have left before the kernel showed a new model and marked it (with a poll of
/// its own, without `renew`).
#[utoipa::path(
    get,
    path = "/api/viewer/{id}/tool-requests",
    tag = "tools",
    params(
        ("id" = ViewerId, Path),
        ("model" = Option<ModelId>, Query, description = "The model the kernel showed"),
        ("after" = Option<String>, Query, description = "`last_event_id` of the previous poll"),
        ("wait" = Option<f64>, Query, minimum = 0, description = "Seconds to wait for a request (default 20, at most 25)"),
        ("renew" = Option<bool>, Query, description = "Only renew the kernel's presence: a live mark this kernel made keeps its model (also 1/0, yes/no, on/off)"),
        ("kernel" = Option<KernelName>, Query, description = "The name the kernel gives itself, the same in all its polls"),
    ),
    responses(
        (status = 200, description = "The waiting measurements (`tool_request` events), maybe none", body = ToolRequests),
        (status = 404, description = "`viewer_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
        (status = 422, description = "`invalid`: `?model`, `?wait`, `?renew` or `?kernel`", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::get("/api/viewer/<id>/tool-requests?<poll..>")]
pub async fn tool_requests(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    poll: KernelPoll<'_>,
    hub: &State<Hub>,
) -> ApiResult<Json<ToolRequests>> {
    let wait =
        super::query_seconds(super::single(&poll.wait, "wait")?, "wait", 25.0)?.unwrap_or(20.0);
    let shown = super::query_model(&poll.model, "model")?;
    let after = super::single(&poll.after, "after")?;
    let renew = super::query_flag(&poll.renew, "renew")?.unwrap_or(false);
    let kernel = super::single(&poll.kernel, "kernel")?
        .map(KernelName::new)
        .transpose()
        .map_err(|err| ApiError::invalid(err.to_string(), "?kernel"))?;
    let mark = KernelMark {
        shown: shown.as_ref(),
        kernel: kernel.as_ref().map(KernelName::as_str),
        renew,
    };
    let work = hub
        .kernel_requests(&id?, mark, after, Duration::from_secs_f64(wait))
        .await?;
    Ok(Json(ToolRequests {
        requests: work.requests,
        last_event_id: work.last_event_id,
    }))
}

/// A kernel's poll as written (each value checked in [`tool_requests`]).
#[derive(Debug, rocket::FromForm)]
pub struct KernelPoll<'r> {
    model: Vec<&'r str>,
    after: Vec<&'r str>,
    wait: Vec<&'r str>,
    renew: Vec<&'r str>,
    kernel: Vec<&'r str>,
}

/// The measurements waiting for a kernel.
#[derive(Serialize, ToSchema)]
pub struct ToolRequests {
    /// `tool_request` events' data.
    #[schema(value_type = Vec<Event>)]
    requests: Vec<Value>,
    /// Pass it back as `?after=`.
    last_event_id: Option<String>,
}

/// A kernel's answer handed over.
#[derive(Serialize, ToSchema)]
pub struct Delivered {
    delivered: bool,
}

/// The kernel no longer answers.
#[derive(Serialize, ToSchema)]
pub struct Stopped {
    stopped: bool,
}

/// A kernel's answer to one request: the values of a `tool_response` with `tool_type`, or
/// `{"error": "why"}`. 404 `no_request` when that request no longer waits.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/tool-requests/{request}",
    tag = "tools",
    params(
        ("id" = ViewerId, Path),
        ("request" = String, Path, description = "The `request_id` of the `tool_request`"),
    ),
    request_body(content = Object, description = "`{\"tool_type\", ...values}` (distance, angle, point1, point2, center, ...) or `{\"error\": \"why\"}`"),
    responses(
        (status = 200, description = "Handed to the page", body = Delivered),
        (status = 404, description = "`no_request`: no such measurement waits (it timed out)", body = ErrorBody),
        (status = 422, description = "`invalid` at the bad value (`$.tool_type`, `$.distance`, ...)", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/viewer/<id>/tool-requests/<request>", data = "<body>")]
pub async fn answer_tool_request(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    request: &str,
    body: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Delivered>> {
    let id = id?;
    let answer = Value::Object(body.0);
    // Checked here, once: the page's side takes what is handed over as it is.
    let handed = match answer.get("error") {
        Some(error) => {
            let why: String = error
                .as_str()
                .unwrap_or("no reason given")
                .chars()
                .take(500)
                .collect();
            json!({ "error": why })
        }
        None => {
            let tool: Tool =
                serde_json::from_value(answer.get("tool_type").cloned().unwrap_or(Value::Null))
                    .map_err(|_| {
                        ApiError::invalid("tool_type names the tool answered", "$.tool_type")
                    })?;
            let values = measure::exact_values(tool, &answer)
                .map_err(|(path, message)| ApiError::invalid(message, path))?;
            json!({ "tool_type": tool, "values": values })
        }
    };
    if !hub.answer_kernel(&id, request, &handed.to_string()).await? {
        return Err(ApiError::new(ErrorCode::NoRequest,
            format!("no measurement {request:?} of viewer {id} waits for an answer (it timed out after {} s)", KERNEL_WAIT.as_secs()),
        ));
    }
    Ok(Json(Delivered { delivered: true }))
}

/// The kernel stops answering: pages are measured on the mesh at once.
#[utoipa::path(
    delete,
    path = "/api/viewer/{id}/tool-requests",
    tag = "tools",
    params(("id" = ViewerId, Path)),
    responses((status = 200, description = "Stopped (also for a viewer that is gone)", body = Stopped)),
    security(("token" = [])),
)]
#[rocket::delete("/api/viewer/<id>/tool-requests", data = "<_body>")]
pub async fn stop_tool_requests(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    _body: UnusedBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Stopped>> {
    hub.drop_kernel(&id?).await?;
    Ok(Json(Stopped { stopped: true }))
}
