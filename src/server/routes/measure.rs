//! The measurement tools' backend: a page in measure mode posts what the user picked
//! (`POST /api/viewer/<id>/measure`, `{"tool", "ids", "model_id"?}`) and hands the answer, a
//! three-cad-viewer `tool_response`, to its renderer. Answered from the stored mesh
//! ([`crate::measure`]), so every viewer measures without a kernel.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::Hub;
use crate::ids::{InvalidId, ModelId, ViewerId};
use crate::measure::{measure as answer_tool, MeasureError, Pick, Tool};
use crate::server::body::JsonObjectBody;
use crate::server::guards::Caller;
use crate::server::work::ModelWork;

/// What the user picked in the viewer's pages with the measure tools, as the pages reported it
/// (`selectedShapeIDs`), read into parts, faces, edges and vertices: `{"viewer_id", "model_id",
/// "picks": [{"id", "path", "kind", "index"}]}`. The notebook bridges' `selection()`.
#[rocket::get("/api/viewer/<id>/selection")]
pub async fn selection(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<Value>> {
    let status = hub.status(&id?).await?;
    let picks: Vec<Pick> = status
        .status
        .get("selectedShapeIDs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(Pick::parse)
        .collect();
    Ok(Json(json!({
        "viewer_id": status.viewer_id,
        "model_id": status.model_id,
        "picks": picks,
    })))
}

/// What a page asks: the active tool, the renderer's names of the picks, and the model it shows
/// (the viewer's current one when left out).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasureRequest {
    tool: Tool,
    ids: Vec<String>,
    #[serde(default)]
    model_id: Option<String>,
}

/// Like the page's status reports, needs no token: viewer ids are capabilities.
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
    let model_id = match request.model_id {
        Some(model) => {
            ModelId::new(model).map_err(|err| ApiError::invalid(err.to_string(), "$.model_id"))?
        }
        None => hub.status(&id).await?.model_id.ok_or_else(|| {
            ApiError::new(
                Status::NotFound,
                "no_model",
                format!("viewer {id} shows no model to measure"),
            )
        })?,
    };
    let _slot = work.take("measurement").await?;
    let model = hub.model(&model_id).await?;
    let tool = request.tool;
    let answer = rocket::tokio::task::spawn_blocking(move || {
        answer_tool(&model.body.to_vec(), tool, &picks)
    })
    .await
    .map_err(|err| ApiError::internal(format!("the measurement failed: {err}")))?;
    answer.map(Json).map_err(|err| match err {
        MeasureError::Pick { index, message } => {
            ApiError::invalid(message, format!("$.ids[{index}]"))
        }
        MeasureError::NotMeasurable(message) => {
            ApiError::new(Status::UnprocessableEntity, "not_measurable", message)
        }
        MeasureError::Model(message) => ApiError::internal(message),
    })
}
