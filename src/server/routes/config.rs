//! `GET|POST /api/config`: the server-wide viewer defaults (theme, axes, grid, ortho, ...), which
//! every viewer's effective config starts from.

use rocket::serde::json::Json;
use rocket::State;

use crate::error::ApiResult;
use crate::hub::{Hub, JsonObject};
use crate::server::body::JsonObjectBody;
use crate::server::guards::{Authorized, Caller};

#[rocket::get("/api/config")]
pub async fn get(_caller: Caller, hub: &State<Hub>) -> ApiResult<Json<JsonObject>> {
    Ok(Json(hub.defaults().await?))
}

/// Merges the posted keys into the defaults; answers with all of them.
#[rocket::post("/api/config", data = "<delta>")]
pub async fn post(
    _auth: Authorized,
    delta: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<JsonObject>> {
    Ok(Json(hub.merge_defaults(delta.0).await?))
}
