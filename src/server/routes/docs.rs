//! The API described: `GET /api/openapi.json` (the document, see [`crate::server::openapi`])
//! and `GET /api/docs` (Swagger UI over it, embedded in the binary like the renderer: 2 MB that
//! cost no time until someone opens the page, which works offline).

use rocket::http::ContentType;
use rocket::State;
use rocket_dyn_templates::{context, Template};

use super::pages::{asset_href, Page};
use crate::assets;
use crate::server::guards::Caller;
use crate::server::openapi;
use crate::Settings;

/// The OpenAPI 3.1 document of this server's API.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "server",
    operation_id = "openapi",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
#[rocket::get("/api/openapi.json")]
pub fn document(_caller: Caller) -> (ContentType, &'static str) {
    (ContentType::JSON, openapi::document())
}

/// The API docs page: every operation, with "Try it out" against this server.
#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "api_docs",
    tag = "server",
    params(("token" = Option<String>, Query, description = "The server's token, handed to \"Try it out\"")),
    responses((status = 200, description = "The page", content_type = "text/html", body = String)),
)]
#[rocket::get("/api/docs")]
pub fn page(_caller: Caller, settings: &State<Settings>) -> Page {
    let template = Template::render(
        "api-docs.html",
        context! {
            root: "../",
            swagger_css: asset_href("swagger-ui.css"),
            swagger_js: asset_href("swagger-ui.js"),
            docs_js: asset_href("api-docs.js"),
            licenses: asset_href(assets::LICENSES),
            version: env!("CARGO_PKG_VERSION"),
        },
    );
    Page::new(template, settings)
}
