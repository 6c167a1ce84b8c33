//! The HTML pages. Until the viewer page lands these are plain placeholders that say which
//! viewer they are for and where its API is.

use rocket::response::content::RawHtml;

use crate::error::ApiResult;
use crate::ids::{InvalidId, ViewerId};
use crate::server::guards::Caller;

#[rocket::get("/")]
pub fn index(_caller: Caller) -> RawHtml<String> {
    placeholder(&ViewerId::default_viewer())
}

#[rocket::get("/viewer/<id>")]
pub fn viewer(_caller: Caller, id: Result<ViewerId, InvalidId>) -> ApiResult<RawHtml<String>> {
    Ok(placeholder(&id?))
}

/// A viewer id is `[A-Za-z0-9_-]` only, so it needs no escaping in HTML or URLs.
fn placeholder(id: &ViewerId) -> RawHtml<String> {
    RawHtml(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
         <title>ocp_notebook: {id}</title></head><body>\
         <p>ocp_notebook viewer <code>{id}</code>: events at \
         <a href=\"api/viewer/{id}/events\">api/viewer/{id}/events</a>.</p></body></html>"
    ))
}
