//! `GET /health`: is the server up, what does it hold, and what are its limits (so a client can
//! check a big upload against the body limit before sending it).

use std::sync::Arc;
use std::time::Instant;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

use crate::hub::Hub;
use crate::server::guards::{Caller, Policy};
use crate::Settings;

/// When the server started.
pub struct StartedAt(pub Instant);

#[rocket::get("/health")]
pub async fn health(
    _caller: Caller,
    hub: &State<Arc<dyn Hub>>,
    settings: &State<Settings>,
    policy: &State<Policy>,
    started: &State<StartedAt>,
) -> (Status, Json<Value>) {
    let stats = hub.stats().await;
    // A shared store that cannot be reached: say so (and 503, for load balancers' checks).
    let status = match stats.store_error {
        None => Status::Ok,
        Some(_) => Status::ServiceUnavailable,
    };
    let body = Json(json!({
        "status": if stats.store_error.is_none() { "ok" } else { "store_unavailable" },
        "store_error": stats.store_error,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": started.0.elapsed().as_secs_f64(),
        "viewers": stats.viewers,
        "subscribers": stats.subscribers,
        "models": stats.models,
        "model_bytes": stats.model_bytes,
        "screenshots": stats.screenshots,
        "store": stats.store,
        "token_required": policy.token_required(),
        "limits": {
            "body_bytes": settings.body_limit.as_u64(),
            "model_memory_bytes": stats.model_budget,
            "inline_bytes": settings.inline_limit.as_u64(),
            "event_history": settings.event_history,
        },
    }));
    (status, body)
}
