//! The routes, one module per resource. Every handler takes a [`Caller`](super::guards::Caller)
//! or [`Authorized`](super::guards::Authorized) guard, so no request skips the access checks.

pub mod animation;
pub mod assets;
pub mod config;
pub mod docs;
pub mod events;
pub mod health;
pub mod history;
pub mod measure;
pub mod model;
pub mod pages;
pub mod parts;
pub mod screenshot;
pub mod thumbnail;
pub mod viewer;

use rocket::Route;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::hub::Hub;
use crate::ids::{ModelId, ViewerId};
use crate::wire::ErrorCode;

/// Every route of the server.
pub fn all() -> Vec<Route> {
    rocket::routes![
        pages::index,
        assets::get,
        docs::document,
        docs::page,
        pages::viewer,
        pages::viewers,
        pages::scene,
        pages::scene_script,
        model::post_model,
        model::get_model,
        parts::tree,
        parts::parts,
        parts::part,
        events::events,
        events::shared_events,
        viewer::post_status,
        viewer::get_status,
        viewer::post_config,
        viewer::clear,
        viewer::delete,
        viewer::request_screenshot,
        viewer::list,
        history::history,
        history::diff,
        history::show,
        measure::post,
        measure::selection,
        measure::tool_requests,
        measure::answer_tool_request,
        measure::stop_tool_requests,
        animation::post,
        animation::delete,
        config::get,
        config::post,
        screenshot::upload,
        screenshot::get,
        thumbnail::post,
        thumbnail::get,
        health::health,
        super::cors::preflight,
    ]
}

/// The model a tool works on: the one named in the request (`$.model_id`), else the one the
/// viewer shows; 404 `no_model` when it shows none (`verb` says what could not be done).
async fn model_on_screen(
    hub: &Hub,
    id: &ViewerId,
    named: Option<Value>,
    verb: &str,
) -> ApiResult<ModelId> {
    match named_model(named)? {
        Some(model) => Ok(model),
        None => hub.status(id).await?.model_id.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoModel,
                format!("viewer {id} shows no model to {verb}"),
            )
        }),
    }
}

/// A query parameter in seconds (`?timeout=2.5`): absent is `None`; a value that is not a finite
/// number from 0 is refused at `?name`; above `max` it is `max`.
fn query_seconds(raw: Option<&str>, name: &str, max: f64) -> ApiResult<Option<f64>> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(Some(seconds.min(max))),
        _ => Err(ApiError::invalid(
            format!("`{name}={raw}` is not a number of seconds from 0 to {max}"),
            format!("?{name}"),
        )),
    }
}

/// A model id given as the query parameter `name`, if given (once); else 422 at `?name`.
fn query_model(values: &[&str], name: &str) -> ApiResult<Option<ModelId>> {
    single(values, name)?
        .map(|value| {
            ModelId::new(value)
                .map_err(|err| ApiError::invalid(err.to_string(), format!("?{name}")))
        })
        .transpose()
}

/// A yes/no query parameter `name` (once), if given; else 422 at `?name`.
fn query_flag(values: &[&str], name: &str) -> ApiResult<Option<bool>> {
    single(values, name)?
        .map(|raw| {
            flag(raw).ok_or_else(|| {
                ApiError::invalid(
                    format!("`{name}={raw}` is not a yes or no (true/false, 1/0, yes/no, on/off)"),
                    format!("?{name}"),
                )
            })
        })
        .transpose()
}

/// A model id given in a body as `$.model_id`, if any; else 422 there.
fn named_model(named: Option<Value>) -> ApiResult<Option<ModelId>> {
    match named {
        Some(Value::String(model)) => ModelId::new(model)
            .map(Some)
            .map_err(|err| ApiError::invalid(err.to_string(), "$.model_id")),
        Some(_) => Err(ApiError::invalid("a model id is a string", "$.model_id")),
        None => Ok(None),
    }
}

/// A yes/no query value as people write one: true/false, 1/0, yes/no, on/off.
fn flag(value: &str) -> Option<bool> {
    match value {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The one value of a query parameter (`?viewer=a`), if given: given twice it is refused at
/// `?name` rather than silently dropped.
fn single<'a>(values: &[&'a str], name: &str) -> ApiResult<Option<&'a str>> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(
            ApiError::bad_request(format!("`{name}` is given more than once"))
                .at(format!("?{name}")),
        ),
    }
}
