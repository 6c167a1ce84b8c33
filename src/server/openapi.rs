//! The API described as an OpenAPI 3.1 document (`GET /api/openapi.json`, `ocp-notebook
//! openapi`), generated from the code so that it cannot drift from it:
//!
//! - every operation comes from the `#[utoipa::path]` beside its handler, and
//!   `tests/openapi.rs` checks that the document's operations are exactly the routes Rocket
//!   mounts;
//! - response bodies are the handlers' own types (`#[derive(ToSchema)]`);
//! - the error body's codes and the event types are [`wire`](crate::wire)'s tables, the config
//!   object is [`model::config`](crate::model::config)'s rules;
//! - the answers every operation can give (a refused Host or Origin, a missing token, a busy
//!   or unreachable store) are added to each operation here, once.
//!
//! The model body is described at the level a client needs (its three forms and their top-level
//! keys); the full check of the geometry stays in code, and the document says so.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use super::routes;
use crate::animation::ACTIONS;
use crate::ids::{ID_PATTERN, ID_RULE};
use crate::measure::Tool;
use crate::model::config;
use crate::wire::{ErrorCode, EventKind};

/// The document, made once, as served.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::to_string_pretty(&document_value()).expect("a JSON value serializes")
    })
}

/// The document as JSON.
pub fn document_value() -> Value {
    let mut document =
        serde_json::to_value(ApiDoc::openapi()).expect("the generated document serializes");
    let schemas = &mut document["components"]["schemas"];
    for (name, schema) in written_schemas() {
        schemas[name] = schema;
    }
    document["components"]["securitySchemes"] = json!({
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "X-OCP-Token",
            "description": "The server's token, where it has one (a server bound beyond \
                            127.0.0.1 makes one and prints it in its URL). Also taken as \
                            `Authorization: Bearer <token>` or `?token=`.",
        }
    });
    add_common_answers(&mut document);
    binary_images(&mut document);
    document
}

/// Images are described as binary strings (the handlers' `Vec<u8>` would read as integers).
fn binary_images(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key.starts_with("image/") {
                    *inner = json!({ "schema": { "type": "string", "format": "binary" } });
                } else {
                    binary_images(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(binary_images),
        _ => {}
    }
}

/// Answers any operation may give, added where the operation does not list them itself: the
/// guards' (Host, Origin, token), the body readers' (for operations that take a body), the id
/// check's (for paths with ids) and the store's.
fn add_common_answers(document: &mut Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for (path, operations) in paths.iter_mut() {
        let Some(operations) = operations.as_object_mut() else {
            continue;
        };
        for (method, operation) in operations.iter_mut() {
            let needs_token = operation.get("security").is_some();
            let takes_body = operation.get("requestBody").is_some();
            // Query parameters are read once, and reads take no body.
            let has_query = operation["parameters"]
                .as_array()
                .is_some_and(|params| params.iter().any(|p| p["in"] == "query"));
            let refused_as_bad_request = match (has_query, method == "get") {
                (true, true) => Some("a query parameter given twice, or a GET with a body"),
                (true, false) => Some("a query parameter given twice"),
                (false, true) => Some("a GET with a body"),
                (false, false) => None,
            };
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            let mut add = |status: &str, codes: &[ErrorCode], why: &str| {
                responses
                    .entry(status)
                    .or_insert_with(|| error_response(codes, why));
            };
            use ErrorCode::*;
            if needs_token {
                add(
                    "401",
                    &[TokenRequired],
                    "The server has a token and the request carries none.",
                );
                add(
                    "403",
                    &[HostNotAllowed, OriginNotAllowed, BadToken],
                    "The Host or Origin is not allowed, or the token is wrong.",
                );
            } else {
                add(
                    "403",
                    &[HostNotAllowed, OriginNotAllowed],
                    "The Host or Origin is not allowed.",
                );
            }
            if takes_body {
                add(
                    "400",
                    &[MalformedJson, InvalidId],
                    "The body is not JSON, or an id in the path breaks the id rule.",
                );
                add("408", &[BodyTimeout], "The body did not arrive in time.");
                add(
                    "413",
                    &[TooLarge],
                    "The body is over its limit (the message names the flag).",
                );
                add("415", &[UnsupportedMediaType], "The body is not JSON.");
                add(
                    "422",
                    &[Invalid],
                    "The body is JSON of the wrong shape (`path` says where).",
                );
            }
            if path.contains("{id}") {
                add("400", &[InvalidId], "An id in the path breaks the id rule.");
            }
            add(
                "503",
                &[StoreUnavailable, Busy],
                "The shared store is out of reach, or the server is at a limit of work in \
                 flight; try again.",
            );
            if let Some(why) = refused_as_bad_request {
                match responses.get_mut("400") {
                    Some(listed) => {
                        let text = listed["description"].as_str().unwrap_or_default();
                        listed["description"] = json!(format!("{text} `bad_request`: {why}."));
                    }
                    None => {
                        let answer = error_response(&[BadRequest], &format!("{why}."));
                        responses.insert("400".into(), answer);
                    }
                }
            }
        }
    }
}

/// An error answer with these codes.
fn error_response(codes: &[ErrorCode], why: &str) -> Value {
    let names: Vec<String> = codes.iter().map(|c| format!("`{}`", c.as_str())).collect();
    json!({
        "description": format!("{why} Codes: {}.", names.join(", ")),
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
    })
}

fn error_body_schema() -> Value {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let meanings: Map<String, Value> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), json!(c.meaning())))
        .collect();
    json!({
        "type": "object",
        "description": "Every error answer: a stable `code`, a message for people, and where \
                        in the request the problem is.",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string", "enum": codes, "x-meanings": meanings },
                    "message": { "type": "string" },
                    "path": {
                        "type": "string",
                        "description": "A JSON path in the body (`$.data.shapes.parts[2]`), or \
                                        `?name` for a query parameter.",
                    },
                },
            },
        },
    })
}

fn event_schema() -> Value {
    let kinds: Vec<Value> = EventKind::ALL
        .iter()
        .map(|kind| {
            json!({
                "title": format!("{} event", kind.as_str()),
                "description": kind.meaning(),
                "type": "object",
                "required": ["type", "viewer_id"],
                "properties": {
                    "type": { "const": kind.as_str() },
                    "viewer_id": { "$ref": "#/components/schemas/ViewerId" },
                },
            })
        })
        .collect();
    json!({
        "description": "The data of one server-sent event, a JSON object whose `type` says what \
                        happened. Events carry an `id:` for `Last-Event-ID` and no `event:` \
                        line; other keys may be added.",
        "oneOf": kinds,
    })
}

fn pick_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "path", "kind", "index"],
        "properties": {
            "id": { "type": "string", "description": "The renderer's name of the pick" },
            "path": { "type": "string", "description": "The part's path in the tree" },
            "kind": { "type": "string", "enum": ["solid", "face", "edge", "vertex"] },
            "index": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Its index among the part's faces, edges or vertices; null for a solid",
            },
        },
    })
}

fn tool_response_schema() -> Value {
    let point =
        json!({ "type": "array", "items": { "type": "number" }, "minItems": 3, "maxItems": 3 });
    json!({
        "type": "object",
        "description": "three-cad-viewer's `tool_response`, with the values the tool measured.",
        "required": ["type", "subtype", "tool_type"],
        "properties": {
            "type": { "const": "backend_response" },
            "subtype": { "const": "tool_response" },
            "tool_type": { "type": "string", "enum": &Tool::NAMES[..3] },
            "source": { "type": "string", "enum": ["mesh", "exact"] },
            "info": { "type": "string" },
            "center_info": { "type": "string" },
            "note": { "type": "string", "description": "Why a kernel did not answer, when it did not" },
            "distance": { "type": "number" },
            "angle": { "type": "number", "description": "Degrees" },
            "point1": point,
            "point2": point,
            "center": point,
        },
    })
}

fn animation_schema() -> Value {
    let track = json!({
        "description": "`[path, action, times, values]` or the same as an object. `action` is \
                        `t` (values [x, y, z]), `q` (quaternions [x, y, z, w]), `tx`, `ty`, `tz` \
                        (distances) or `rx`, `ry`, `rz` (degrees); `times` rise from 0, one per \
                        value; `path` is a part's path in the model.",
        "oneOf": [
            {
                "type": "array",
                "prefixItems": [
                    { "type": "string" },
                    { "type": "string", "enum": ACTIONS },
                    { "type": "array", "items": { "type": "number" } },
                    { "type": "array", "items": {} },
                ],
                "items": {},
                "minItems": 4,
                "maxItems": 4,
            },
            {
                "type": "object",
                "required": ["path", "action", "times", "values"],
                "additionalProperties": false,
                "properties": {
                    "path": { "type": "string" },
                    "action": { "type": "string", "enum": ACTIONS },
                    "times": { "type": "array", "items": { "type": "number", "minimum": 0 }, "minItems": 1 },
                    "values": { "type": "array", "items": {}, "minItems": 1 },
                },
            },
        ],
    });
    json!({
        "type": "object",
        "description": "Animation tracks in three-cad-viewer's format, checked against the \
                        model's tree.",
        "required": ["tracks"],
        "properties": {
            "tracks": { "type": "array", "items": track, "minItems": 1 },
            "duration": { "type": ["number", "null"], "exclusiveMinimum": 0, "description": "Seconds; default: the last key's time" },
            "speed": { "type": "number", "exclusiveMinimum": 0, "default": 1 },
            "repeat": { "type": "boolean", "default": true },
            "autoplay": { "type": "boolean", "default": true },
            "model_id": { "$ref": "#/components/schemas/ModelId", "description": "In a request: the model the tracks are for (default: the one on screen)" },
        },
        "additionalProperties": false,
    })
}

fn stored_message_schema() -> Value {
    json!({
        "type": "object",
        "description": "A stored model as ocp_vscode's message, with the geometry (`data`) byte \
                        for byte as it was posted.",
        "required": ["type", "model_id", "viewer_id", "config", "data"],
        "properties": {
            "type": { "const": "data" },
            "model_id": { "$ref": "#/components/schemas/ModelId" },
            "viewer_id": { "$ref": "#/components/schemas/ViewerId" },
            "config": { "$ref": "#/components/schemas/Config" },
            "data": { "$ref": "#/components/schemas/ShapesTree" },
        },
    })
}

fn tree_form_schema() -> Value {
    json!({
        "type": "object",
        "description": "A stored model's message with each mesh of 1 KiB or more replaced by \
                        `{\"part\": \"<hash>\"}`: names, places, colours and small meshes, and \
                        the size of each part (`GET /api/part/{hash}` serves one).",
        "required": ["type", "model_id", "viewer_id", "config", "parts", "data"],
        "properties": {
            "type": { "const": "data" },
            "model_id": { "$ref": "#/components/schemas/ModelId" },
            "viewer_id": { "$ref": "#/components/schemas/ViewerId" },
            "config": { "$ref": "#/components/schemas/Config" },
            "parts": {
                "type": "object",
                "description": "Each part once: its hash and its size in bytes.",
                "additionalProperties": { "type": "integer", "minimum": 0 },
            },
            "data": { "$ref": "#/components/schemas/ShapesTree" },
        },
    })
}

fn model_upload_schema() -> Value {
    json!({
        "description": "A model in three-cad-viewer's shapes format (protocol version 3), in one \
                        of three forms. Arrays are JSON arrays or `{\"shape\": [...], \"dtype\", \
                        \"buffer\"}` base64 little-endian buffers; meshes may be shared through \
                        `instances` and `{\"ref\": n}`. The server checks the whole tree \
                        (nesting, ids, array lengths and types, buffers, references, \
                        --max-parts and --max-depth) and answers 422 at the JSON path of the \
                        first problem; this schema names the top-level keys only.",
        "type": "object",
        "anyOf": [
            {
                "title": "ocp_notebook's form",
                "type": "object",
                "required": ["shapes"],
                "properties": {
                    "viewer_id": { "$ref": "#/components/schemas/ViewerId" },
                    "shapes": { "$ref": "#/components/schemas/ShapesTree" },
                    "config": { "$ref": "#/components/schemas/Config" },
                },
            },
            {
                "title": "ocp_vscode's message",
                "type": "object",
                "required": ["data"],
                "properties": {
                    "type": { "const": "data" },
                    "data": { "$ref": "#/components/schemas/ShapesTree" },
                    "config": { "$ref": "#/components/schemas/Config" },
                    "count": {},
                },
            },
            {
                "title": "a bare tree",
                "type": "object",
                "required": ["parts"],
                "properties": { "parts": { "type": "array", "items": {} } },
            },
            {
                "title": "a bare instanced form",
                "type": "object",
                "required": ["instances", "shapes"],
                "properties": {
                    "instances": { "type": "array", "items": {} },
                    "shapes": { "$ref": "#/components/schemas/ShapesTree" },
                },
            },
        ],
    })
}

/// Schemas whose JSON this module writes, each named once with its JSON: a type that handlers'
/// annotations can refer to (its `PartialSchema` is a stand-in), and the schema the document
/// gets under that name.
macro_rules! schema_written_here {
    ($($(#[$doc:meta])* $name:ident = $title:literal => $schema:expr;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    utoipa::openapi::ObjectBuilder::new().into()
                }
            }

            impl ToSchema for $name {
                fn name() -> std::borrow::Cow<'static, str> {
                    $title.into()
                }
            }
        )*

        /// Every schema written here, by name.
        fn written_schemas() -> Vec<(&'static str, Value)> {
            vec![$(($title, $schema)),*]
        }
    };
}

schema_written_here! {
    /// A config object, by [`config::json_schema`].
    Config = "Config" => config::json_schema();
    /// A model upload's body.
    ModelUpload = "ModelUpload" => model_upload_schema();
    /// A stored model, as served.
    StoredMessage = "StoredMessage" => stored_message_schema();
    /// A stored model's tree form.
    TreeForm = "TreeForm" => tree_form_schema();
    /// Parts by hash.
    PartMap = "PartMap" => json!({
        "type": "object",
        "description": "Meshes by the SHA-256 of their bytes (64 lowercase hex digits), each as \
                        it was posted.",
        "additionalProperties": { "type": "object" },
    });
    /// The error body every refusal carries.
    ErrorBody = "ErrorBody" => error_body_schema();
    /// One server-sent event's data.
    Event = "Event" => event_schema();
    /// A shapes tree or its instanced form (checked in code, see `ModelUpload`).
    ShapesTree = "ShapesTree" => json!({
        "type": "object",
        "description": "A shapes tree (`{\"parts\": [...], ...}`) or its instanced form \
                        (`{\"instances\": [...], \"shapes\": {...}}`).",
    });
    /// A pick read from the renderer's name for it.
    PickSchema = "Pick" => pick_schema();
    /// A measurement tool's name.
    ToolName = "ToolName" => json!({ "type": "string", "enum": Tool::NAMES });
    /// three-cad-viewer's answer to a measurement.
    ToolResponse = "ToolResponse" => tool_response_schema();
    /// Animation tracks for the model on screen.
    AnimationSchema = "Animation" => animation_schema();
    /// A page's theme.
    ThemeName = "Theme" => json!({ "type": "string", "enum": config::THEMES });
    /// A part's hash.
    PartHashSchema = "PartHash" => json!({
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "A part's name: the SHA-256 of its bytes, 64 lowercase hex digits.",
    });
    /// Which kept version to show.
    ShowRequest = "ShowRequest" => json!({
        "type": "object",
        "required": ["model_id"],
        "properties": { "model_id": { "$ref": "#/components/schemas/ModelId" } },
    });
}

impl PartialSchema for crate::ids::ViewerId {
    fn schema() -> RefOr<Schema> {
        id_schema("A viewer id")
    }
}

impl ToSchema for crate::ids::ViewerId {}

impl PartialSchema for crate::ids::ModelId {
    fn schema() -> RefOr<Schema> {
        id_schema("A model id (the server makes them: 32 hex digits)")
    }
}

impl ToSchema for crate::ids::ModelId {}

impl PartialSchema for crate::ids::KernelName {
    fn schema() -> RefOr<Schema> {
        id_schema("The name a kernel gives itself, the same in all its polls")
    }
}

impl ToSchema for crate::ids::KernelName {}

fn id_schema(what: &str) -> RefOr<Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(ID_PATTERN))
        .min_length(Some(1))
        .max_length(Some(64))
        .description(Some(format!("{what}: {ID_RULE}.")))
        .into()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ocp_notebook",
        description = "CAD models in notebooks and browser tabs: push a model, watch its viewer's \
                       events, read what its pages report. Every error is a JSON body \
                       `{\"error\": {\"code\", \"message\", \"path\"?}}`; a path that exists \
                       with another method answers 405 with `Allow`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        routes::pages::index,
        routes::pages::viewer,
        routes::pages::viewers,
        routes::pages::scene,
        routes::pages::scene_script,
        routes::assets::get,
        routes::docs::document,
        routes::docs::page,
        routes::model::post_model,
        routes::model::get_model,
        routes::parts::tree,
        routes::parts::parts,
        routes::parts::part,
        routes::events::events,
        routes::events::shared_events,
        routes::viewer::post_status,
        routes::viewer::get_status,
        routes::viewer::post_config,
        routes::viewer::clear,
        routes::viewer::delete,
        routes::viewer::request_screenshot,
        routes::viewer::list,
        routes::history::history,
        routes::history::diff,
        routes::history::show,
        routes::measure::post,
        routes::measure::selection,
        routes::measure::tool_requests,
        routes::measure::answer_tool_request,
        routes::measure::stop_tool_requests,
        routes::animation::post,
        routes::animation::delete,
        routes::config::get,
        routes::config::post,
        routes::screenshot::upload,
        routes::screenshot::get,
        routes::thumbnail::post,
        routes::thumbnail::get,
        routes::health::health,
    ),
    components(schemas(crate::ids::ViewerId, crate::ids::ModelId, crate::ids::KernelName)),
    tags(
        (name = "pages", description = "HTML pages and the files they load"),
        (name = "models", description = "Pushing models and reading them back"),
        (name = "events", description = "Server-sent events to pages"),
        (name = "viewers", description = "One viewer: status, settings, clearing, screenshots"),
        (name = "tools", description = "Measuring, picking and animating"),
        (name = "config", description = "Server-wide viewer defaults"),
        (name = "images", description = "Screenshots and thumbnails pages upload"),
        (name = "server", description = "Health and this document"),
    ),
)]
struct ApiDoc;
