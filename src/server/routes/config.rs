//! `GET|POST /api/config`: the server-wide viewer defaults (theme, axes, grid, ortho, ...), which
//! every viewer's effective config starts from.

use rocket::serde::json::Json;
use rocket::State;

use crate::error::ApiResult;
use crate::hub::{Hub, JsonObject};
use crate::model::config;
use crate::server::body::JsonObjectBody;
use crate::server::guards::{Authorized, Caller};
use crate::server::openapi::{Config, ErrorBody};

/// The server-wide viewer defaults.
#[utoipa::path(
    get,
    path = "/api/config",
    operation_id = "get_config",
    tag = "config",
    responses((status = 200, description = "The defaults", body = Config)),
)]
#[rocket::get("/api/config")]
pub async fn get(_caller: Caller, hub: &State<Hub>) -> ApiResult<Json<JsonObject>> {
    Ok(Json(hub.defaults().await?))
}

/// Merges the posted keys into the defaults; answers with all of them. A known key with a value
/// the page does not take is refused (422 at its path) and nothing is merged.
#[utoipa::path(
    post,
    path = "/api/config",
    operation_id = "post_config",
    tag = "config",
    request_body(content = Config, description = "The keys to change; `null` leaves one to the page's default"),
    responses(
        (status = 200, description = "All the defaults after the change", body = Config),
        (status = 422, description = "`invalid`: not an object, or a known key with a value it does not take (at `$.key`)", body = ErrorBody),
    ),
    security(("token" = [])),
)]
#[rocket::post("/api/config", data = "<delta>")]
pub async fn post(
    _auth: Authorized,
    delta: JsonObjectBody,
    hub: &State<Hub>,
) -> ApiResult<Json<JsonObject>> {
    config::check(&delta.0)?;
    Ok(Json(hub.merge_defaults(delta.0).await?))
}
