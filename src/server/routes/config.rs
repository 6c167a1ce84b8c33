//! `GET|POST /api/config`: the server-wide viewer defaults (theme, axes, grid, ortho, ...), which
//! every viewer's effective config starts from.

use std::sync::Arc;

use rocket::serde::json::Json;
use rocket::State;

use crate::hub::{Hub, JsonObject};
use crate::server::body::JsonObjectBody;
use crate::server::guards::{Authorized, Caller};

#[rocket::get("/api/config")]
pub async fn get(_caller: Caller, hub: &State<Arc<dyn Hub>>) -> Json<JsonObject> {
    Json(hub.defaults().await)
}

/// Merges the posted keys into the defaults; answers with all of them.
#[rocket::post("/api/config", data = "<delta>")]
pub async fn post(
    _auth: Authorized,
    delta: JsonObjectBody,
    hub: &State<Arc<dyn Hub>>,
) -> Json<JsonObject> {
    Json(hub.merge_defaults(delta.0).await)
}
