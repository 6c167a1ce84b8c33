//! Animations for the model on screen: `POST /api/viewer/<id>/animation` with tracks in
//! three-cad-viewer's format ([`crate::animation`]), checked against the model's tree, kept with
//! the viewer and sent to its pages as an `animation` event; `DELETE` stops it.

use std::collections::HashSet;

use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::animation::Animation;
use crate::error::{from_serde, ApiError, ApiResult};
use crate::hub::Hub;
use crate::ids::{InvalidId, ModelId, ViewerId};
use crate::model::skeleton::{Limits, Skeleton, Unread};
use crate::model::ModelError;
use crate::server::body::JsonObjectBody;
use crate::server::body::UnusedBody;
use crate::server::guards::Authorized;
use crate::server::openapi::{AnimationSchema, ErrorBody};
use crate::server::work::ModelWork;

/// The animation a viewer plays (`null`: none).
#[derive(Serialize, ToSchema)]
pub struct Playing {
    viewer_id: ViewerId,
    model_id: ModelId,
    /// The tracks as checked, with the duration filled in.
    #[schema(value_type = Option<AnimationSchema>)]
    animation: Option<Value>,
}

/// `{"tracks", "duration"?, "speed"?, "repeat"?, "autoplay"?, "model_id"?}`; the model defaults
/// to the one on screen.
#[utoipa::path(
    post,
    path = "/api/viewer/{id}/animation",
    operation_id = "post_animation",
    tag = "tools",
    params(("id" = ViewerId, Path)),
    request_body(content = AnimationSchema),
    responses(
        (status = 200, description = "Playing on the viewer's pages (`animation`)", body = Playing),
        (status = 404, description = "`viewer_not_found`, `no_model`, `model_not_found`", body = ErrorBody),
        (status = 409, description = "`model_changed`: the viewer shows another model than `model_id`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`, `model_evicted`", body = ErrorBody),
        (status = 422, description = "`invalid` at the bad track (`$.tracks[0].path`: not a path of the model)", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/viewer/<id>/animation", data = "<body>")]
pub async fn post(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    body: JsonObjectBody,
    hub: &State<Hub>,
    work: &State<ModelWork>,
) -> ApiResult<Json<Playing>> {
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
        // The tree form holds every path; its parts are meshes alone.
        let tree = std::str::from_utf8(&model.tree.text)
            .map_err(|err| ModelError::malformed(err.to_string()))
            .map_err(internal)?;
        let skeleton: Skeleton<Unread> =
            Skeleton::read(tree, "$", &Limits::stored()).map_err(internal)?;
        let paths: HashSet<&str> = skeleton.paths().into_iter().collect();
        animation
            .checked(&paths)
            .map_err(|err| ApiError::invalid(err.message, err.path))
    };
    let animation = work.run("animation", job).await??;
    let animation = serde_json::to_value(&animation).expect("an animation serializes");
    hub.animate(&id, &model_id, Some(animation.clone())).await?;
    Ok(Json(Playing {
        viewer_id: id,
        model_id,
        animation: Some(animation),
    }))
}

/// Stops the viewer's animation: its parts go back where the model puts them.
#[utoipa::path(
    delete,
    path = "/api/viewer/{id}/animation",
    operation_id = "delete_animation",
    tag = "tools",
    params(("id" = ViewerId, Path)),
    responses(
        (status = 200, description = "Stopped", body = Playing),
        (status = 404, description = "`viewer_not_found`, `no_model`", body = ErrorBody),
        (status = 409, description = "`model_changed`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::delete("/api/viewer/<id>/animation", data = "<_body>")]
pub async fn delete(
    _auth: Authorized,
    id: Result<ViewerId, InvalidId>,
    _body: UnusedBody,
    hub: &State<Hub>,
) -> ApiResult<Json<Playing>> {
    let id = id?;
    let model_id = super::model_on_screen(hub, &id, None, "animate").await?;
    hub.animate(&id, &model_id, None).await?;
    Ok(Json(Playing {
        viewer_id: id,
        model_id,
        animation: None,
    }))
}
