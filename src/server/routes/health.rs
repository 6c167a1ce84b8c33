//! `GET /health`: is the server up, what does it hold, and what are its limits (so a client can
//! check a big upload against the body limit before sending it).

use std::time::Instant;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::hub::{Hub, StoreCounts};
use crate::server::guards::{Caller, Policy};
use crate::wire::ErrorCode;
use crate::Settings;

/// When the server started.
pub struct StartedAt(pub Instant);

/// The server's state. Counts are `null` when the store cannot be reached.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `store_unavailable` (with 503).
    status: &'static str,
    store_error: Option<String>,
    version: &'static str,
    uptime_seconds: f64,
    viewers: Option<usize>,
    subscribers: Option<usize>,
    models: Option<usize>,
    model_bytes: Option<usize>,
    screenshots: Option<usize>,
    /// `memory` or `redis`.
    store: &'static str,
    token_required: bool,
    limits: Limits,
}

/// Every bound of the server, by name (each is a flag).
#[derive(Serialize, ToSchema)]
pub struct Limits {
    body_bytes: u64,
    model_memory_bytes: usize,
    inline_bytes: u64,
    /// Versions kept per viewer (--history).
    history: usize,
    event_history: usize,
    settings_bytes: u64,
    screenshot_bytes: u64,
    thumbnail_bytes: u64,
    max_viewers: usize,
    max_pages: usize,
    max_parts: usize,
    max_depth: usize,
    body_timeout_secs: u64,
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "server",
    responses(
        (status = 200, description = "Up", body = Health),
        (status = 503, description = "The shared store is out of reach: `status` says `store_unavailable`, counts are null", body = Health),
    ),
)]
#[rocket::get("/health")]
pub async fn health(
    _caller: Caller,
    hub: &State<Hub>,
    settings: &State<Settings>,
    policy: &State<Policy>,
    started: &State<StartedAt>,
) -> (Status, Json<Health>) {
    // A shared store that cannot be reached: say so (and 503, for load balancers' checks), with
    // the limits but no counts, which would be made up.
    let (status, stats, store_error) = match hub.stats().await {
        Ok(stats) => (Status::Ok, Some(stats), None),
        Err(err) => (Status::ServiceUnavailable, None, Some(err.to_string())),
    };
    let count = |read: fn(&StoreCounts) -> usize| stats.as_ref().map(read);
    let body = Health {
        status: if store_error.is_none() {
            "ok"
        } else {
            ErrorCode::StoreUnavailable.as_str()
        },
        store_error,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: started.0.elapsed().as_secs_f64(),
        viewers: count(|s| s.viewers),
        subscribers: count(|s| s.subscribers),
        models: count(|s| s.models),
        model_bytes: count(|s| s.model_bytes),
        screenshots: count(|s| s.screenshots),
        store: hub.store_name(),
        token_required: policy.token_required(),
        limits: Limits {
            body_bytes: settings.body_limit.as_u64(),
            model_memory_bytes: hub.limits().model_budget,
            inline_bytes: settings.inline_limit.as_u64(),
            history: hub.limits().history,
            event_history: settings.event_history,
            settings_bytes: settings.settings_limit.as_u64(),
            screenshot_bytes: settings.screenshot_limit.as_u64(),
            thumbnail_bytes: settings.thumbnail_limit.as_u64(),
            max_viewers: settings.max_viewers,
            max_pages: settings.max_pages,
            max_parts: settings.max_parts,
            max_depth: settings.max_depth,
            body_timeout_secs: settings.body_timeout_secs,
        },
    };
    (status, Json(body))
}
