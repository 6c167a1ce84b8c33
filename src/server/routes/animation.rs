//! Animations for the model on screen: `POST /api/viewer/<id>/animation` with tracks in
//! three-cad-viewer's format ([`crate::animation`]), checked against the model's tree, kept with
//! the viewer and sent to its pages as an `animation` event; `DELETE` stops it.

use std::collections::HashSet;

use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

use crate::animation::Animation;
use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::Hub;
use crate::ids::{InvalidId, ViewerId};
use crate::model::skeleton::{Limits, Skeleton, Unread};
use crate::model::ModelError;
use crate::model::Upload;
use crate::server::body::JsonObjectBody;
use crate::server::guards::Authorized;
use crate::server::work::ModelWork;

/// `{"tracks", "duration"?, "speed"?, "repeat"?, "autoplay"?, "model_id"?}`; the model defaults
/// to the one on screen.
#[rocket::post("/api/viewer/<id>/animation", data = "<body>")]
pub async fn post(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    body: JsonObjectBody,
    hub: &State<Hub>,
    work: &State<ModelWork>,
) -> ApiResult<Json<Value>> {
    let id = id?;
    let mut body = body.0;
    let model_id = super::model_on_screen(hub, &id, body.remove("model_id"), "animate").await?;
    let animation: Animation = serde_path_to_error::deserialize(Value::Object(body))
        .map_err(|err| from_serde("$", err))?;
    // Tracks for a model no longer on screen are refused before they are read.
    hub.check_on_screen(&id, &model_id).await?;
    let model = hub.model(&model_id).await?;
    let job = move || {
        let internal = |err: ModelError| ApiError::internal(err.to_string());
        let geometry = Upload::stored_geometry(&model.body).map_err(internal)?;
        let skeleton: Skeleton<Unread> =
            Skeleton::read(&geometry, "$", &Limits::stored()).map_err(internal)?;
        let paths: HashSet<&str> = skeleton.paths().into_iter().collect();
        animation
            .checked(&paths)
            .map_err(|err| ApiError::invalid(err.message, err.path))
    };
    let animation = work.run("animation", job).await??;
    let animation = serde_json::to_value(&animation).expect("an animation serializes");
    hub.animate(&id, &model_id, Some(animation.clone())).await?;
    Ok(Json(
        json!({ "viewer_id": id, "model_id": model_id, "animation": animation }),
    ))
}

/// Stops the viewer's animation: its parts go back where the model puts them.
#[rocket::delete("/api/viewer/<id>/animation")]
pub async fn delete(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    hub: &State<Hub>,
) -> ApiResult<Json<Value>> {
    let id = id?;
    let model_id = super::model_on_screen(hub, &id, None, "animate").await?;
    hub.animate(&id, &model_id, None).await?;
    Ok(Json(
        json!({ "viewer_id": id, "model_id": model_id, "animation": null }),
    ))
}
