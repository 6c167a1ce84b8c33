//! The HTML pages: `/viewer/<id>` (a full-window viewer that fits any frame), `/` (the viewer
//! `default`), `/viewers` (live viewers with links) and `/viewer/<id>/scene.html` (the viewer's
//! model as a one-file scene that opens offline, see [`crate::scene`]). Templates are embedded in the binary and
//! rendered with HTML escaping; every URL a page uses is relative, so the pages work behind a
//! path prefix (jupyter-server-proxy).

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::State;
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

use crate::assets::{self, Asset};
use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, HubError};
use crate::ids::{InvalidId, ModelId, ViewerId};
use crate::model::config;
use crate::scene::{Scene, SceneHistory, SceneVersion, Shows};
use crate::server::guards::{Authorized, Caller};
use crate::server::openapi::{ErrorBody, ThemeName};
use crate::server::work::ModelWork;
use crate::wire::ErrorCode;
use crate::Settings;

/// The templates, registered from the binary (names end in `.html`, which turns escaping on).
pub const TEMPLATES: [(&str, &str); 3] = [
    (
        "api-docs.html",
        include_str!("../../../templates/api-docs.html.j2"),
    ),
    (
        "viewer.html",
        include_str!("../../../templates/viewer.html.j2"),
    ),
    (
        "viewers.html",
        include_str!("../../../templates/viewers.html.j2"),
    ),
];

/// Display settings a page URL may carry, e.g. `/viewer/a?theme=dark&tree_width=300&height=500`,
/// as written. Unknown keys are ignored (embedders add cache busters); known ones must be valid,
/// and given once.
#[derive(Debug, rocket::FromForm, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery<'r> {
    #[param(value_type = Option<ThemeName>)]
    theme: Vec<&'r str>,
    /// The tree's width in pixels.
    #[param(value_type = Option<u32>, minimum = 100, maximum = 2000)]
    tree_width: Vec<&'r str>,
    /// The tree over the scene (also 1/0, yes/no, on/off).
    #[param(value_type = Option<bool>)]
    glass: Vec<&'r str>,
    /// The toolbar (also 1/0, yes/no, on/off).
    #[param(value_type = Option<bool>)]
    tools: Vec<&'r str>,
    /// The viewer's height in pixels; without it the viewer fills the window.
    #[param(value_type = Option<u32>, minimum = 150, maximum = 10000)]
    height: Vec<&'r str>,
}

/// The checked display settings, handed to the page's script. They win over the model's config:
/// they are what the embedding page asked for.
#[derive(Debug, Default, Serialize)]
struct PageOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    theme: Option<&'static str>,
    #[serde(rename = "treeWidth", skip_serializing_if = "Option::is_none")]
    tree_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    glass: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<bool>,
    /// The viewer's height in CSS pixels; without it the viewer fills the window or frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
}

impl PageQuery<'_> {
    /// A bad option is a 400 naming it, not a page that silently ignores what was asked.
    fn check(&self) -> Result<PageOptions, ApiError> {
        Ok(PageOptions {
            theme: option("theme", super::single(&self.theme, "theme")?, |value| {
                config::THEMES.iter().copied().find(|theme| *theme == value)
            })?,
            tree_width: option(
                "tree_width",
                super::single(&self.tree_width, "tree_width")?,
                |v| number(v, 100, 2000),
            )?,
            glass: option("glass", super::single(&self.glass, "glass")?, super::flag)?,
            tools: option("tools", super::single(&self.tools, "tools")?, super::flag)?,
            height: option("height", super::single(&self.height, "height")?, |v| {
                number(v, 150, 10_000)
            })?,
        })
    }
}

fn option<T>(
    name: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    parse(value).map(Some).ok_or_else(|| {
        ApiError::bad_request(format!(
            "query option `{name}={value}` is not valid (theme=light|dark|browser, \
             tree_width=100..2000, glass=true|false, tools=true|false, height=150..10000)"
        ))
        .at(format!("?{name}"))
    })
}

fn number(value: &str, min: u32, max: u32) -> Option<u32> {
    digits(value)?
        .parse()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

/// `value` if it is a whole number as people write one: digits, no sign, no leading zero.
fn digits(value: &str) -> Option<&str> {
    let plain = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    plain.then_some(value)
}

/// The viewer page of the viewer `default`.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "index_page",
    tag = "pages",
    params(PageQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "`bad_request`: a display setting it does not take (`?theme`)", body = ErrorBody),
    ),
)]
#[rocket::get("/?<options..>")]
pub fn index(
    _caller: Caller,
    options: PageQuery<'_>,
    settings: &State<Settings>,
) -> ApiResult<Page> {
    let id = ViewerId::default_viewer();
    Ok(viewer_page(&id, "", options.check()?, settings))
}

/// A viewer's page: full window, fits any frame; display settings may come in the URL.
#[utoipa::path(
    get,
    path = "/viewer/{id}",
    operation_id = "viewer_page",
    tag = "pages",
    params(
        ("id" = ViewerId, Path),
        PageQuery,
    ),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "`invalid_id`; `bad_request`: a display setting it does not take (`?theme`)", body = ErrorBody),
    ),
)]
#[rocket::get("/viewer/<id>?<options..>")]
pub fn viewer(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    options: PageQuery<'_>,
    settings: &State<Settings>,
) -> ApiResult<Page> {
    Ok(viewer_page(&id?, "../", options.check()?, settings))
}

/// Every viewer, with links. Viewer ids are capabilities: this needs the token where
/// `GET /api/viewers` does.
#[utoipa::path(
    get,
    path = "/viewers",
    operation_id = "viewers_page",
    tag = "pages",
    responses((status = 200, description = "The page of viewers", content_type = "text/html", body = String)),
    security(("token" = [])),
)]
#[rocket::get("/viewers")]
pub async fn viewers(
    _auth: Authorized,
    hub: &State<Hub>,
    settings: &State<Settings>,
) -> ApiResult<Page> {
    let viewers = hub.viewers().await?;
    let template = Template::render(
        "viewers.html",
        context! {
            viewers,
            page_css: asset_href("page.css"),
            viewers_js: asset_href("viewers.js"),
            version: env!("CARGO_PKG_VERSION"),
        },
    );
    Ok(Page::new(template, settings))
}

/// The viewer's current model and settings as a one-file scene, as a download. Like the viewer's
/// page and its model, it needs no token: viewer ids are capabilities.
#[utoipa::path(
    get,
    path = "/viewer/{id}/scene.html",
    operation_id = "scene_file",
    tag = "pages",
    params(
        ("id" = ViewerId, Path),
        ("history" = Option<bool>, Query, description = "Carry the viewer's kept versions, to step through them offline (true/false, 1/0, yes/no, on/off); the scene opens on the version on screen, or the newest after a clear"),
    ),
    responses(
        (status = 200, description = "The scene, as a download", content_type = "text/html", body = String),
        (status = 404, description = "`viewer_not_found`, `no_model`, `model_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`, `model_evicted`", body = ErrorBody),
        (status = 422, description = "`invalid`: `?history` is not a yes or no", body = ErrorBody),
    ),
)]
#[rocket::get("/viewer/<id>/scene.html?<history>")]
pub async fn scene(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    history: Vec<&str>,
    hub: &State<Hub>,
    work: &State<ModelWork>,
) -> ApiResult<SceneFile> {
    let id = id?;
    let history = super::query_flag(&history, "history")?.unwrap_or(false);
    let html = scene_html(&id, hub, work, history).await?;
    Ok(SceneFile {
        html,
        file_name: format!("{id}.html"),
    })
}

/// The same scene as the script a notebook cell's output keeps (see [`crate::scene::cell_script`]):
/// what the notebook bridges' `embed()` puts beside the PNG of the viewer's last frame.
/// `width` is pixels (`640`, `640px`) or a share (`100%`), `height` pixels (150 to 10000);
/// `image` the end of the PNG's base64 (16 to 128 characters) when the PNG is the output just
/// before the script's, which the script then hides (see there).
#[utoipa::path(
    get,
    path = "/viewer/{id}/scene.js",
    tag = "pages",
    params(
        ("id" = ViewerId, Path),
        ("width" = Option<String>, Query, pattern = "^((10000|[1-9][0-9]{2,3})(px)?|([1-9][0-9]?|100)%)$", description = "Pixels (100 to 10000: `640`, `640px`) or a share (`1%` to `100%`); default `100%`"),
        ("height" = Option<u32>, Query, minimum = 150, maximum = 10000, description = "Pixels; default 480"),
        ("image" = Option<String>, Query, pattern = "^[A-Za-z0-9+/=]{16,128}$", description = "The end of the base64 of the PNG in the output before the script's, which it then hides"),
    ),
    responses(
        (status = 200, description = "The script", content_type = "text/javascript", body = String),
        (status = 400, description = "`invalid_id`; `bad_request`: `?width`, `?height` or `?image`", body = ErrorBody),
        (status = 404, description = "`viewer_not_found`, `no_model`, `model_not_found`", body = ErrorBody),
        (status = 410, description = "`viewer_deleted`, `model_evicted`", body = ErrorBody),
    ),
)]
#[rocket::get("/viewer/<id>/scene.js?<width>&<height>&<image>")]
pub async fn scene_script(
    _caller: Caller,
    id: Result<ViewerId, InvalidId>,
    width: Vec<&str>,
    height: Vec<&str>,
    image: Vec<&str>,
    hub: &State<Hub>,
    work: &State<ModelWork>,
) -> ApiResult<(ContentType, String)> {
    let id = id?;
    let (width, height, image) = (
        super::single(&width, "width")?,
        super::single(&height, "height")?,
        super::single(&image, "image")?,
    );
    let width = match width {
        None => "100%".to_string(),
        Some(width) => css_width(width).ok_or_else(|| {
            ApiError::bad_request(format!(
                "query option `width={width}` is not valid (a CSS width: 640, 640px or 100%)"
            ))
            .at("?width")
        })?,
    };
    let height = option("height", height, |v| number(v, 150, 10_000))?.unwrap_or(480);
    let image = match image {
        Some(tail) if !is_base64_tail(tail) => {
            return Err(ApiError::bad_request(format!(
                "query option `image={tail}` is not valid (the last 16 to 128 characters of the PNG's base64)"
            ))
            .at("?image"))
        }
        tail => tail,
    };
    let html = scene_html(&id, hub, work, false).await?;
    let script = crate::scene::cell_script(&html, &id, &width, height, image)
        .map_err(|err| ApiError::internal(err.to_string()))?;
    Ok((ContentType::JavaScript, script))
}

/// Base64 text of a fitting length.
fn is_base64_tail(tail: &str) -> bool {
    (16..=128).contains(&tail.len())
        && tail
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// `640`, `640px` or `1`-`100%`, as written (a bare number is pixels).
fn css_width(value: &str) -> Option<String> {
    let (number, unit) = match value.strip_suffix('%') {
        Some(number) => (number, "%"),
        None => (value.strip_suffix("px").unwrap_or(value), "px"),
    };
    let number: u32 = digits(number)?.parse().ok()?;
    let fits = match unit {
        "%" => (1..=100).contains(&number),
        _ => (100..=10_000).contains(&number),
    };
    fits.then(|| format!("{number}{unit}"))
}

/// The viewer's current model and settings as a one-file scene, with its kept versions when
/// `history`; 404 `no_model` before any model.
async fn scene_html(
    id: &ViewerId,
    hub: &Hub,
    work: &ModelWork,
    history: bool,
) -> ApiResult<String> {
    // The slot first: what the scene reads is gathered within it.
    let slot = work.take("scene").await?;
    let status = hub.status(id).await?;
    let history = match history {
        true => Some(scene_history(id, hub).await?),
        false => None,
    };
    let no_model = || {
        ApiError::new(
            ErrorCode::NoModel,
            format!("viewer {id} shows no model yet: push one first"),
        )
    };
    // Versions open on the one on screen; after a clear (or if it went meanwhile), the newest.
    // One model comes whole.
    let shows = match history {
        Some(mut history) => {
            let kept = |model: &str| history.versions.iter().any(|v| v.model_id == model);
            let on_screen = status.model_id.as_ref().map(ModelId::to_string);
            history.shown = on_screen
                .filter(|model| kept(model))
                .or_else(|| history.versions.last().map(|v| v.model_id.clone()));
            if history.shown.is_none() {
                return Err(no_model());
            }
            Content::Versions(history)
        }
        None => {
            let model = status.model_id.as_ref().ok_or_else(no_model)?;
            Content::Model(hub.model(model).await?)
        }
    };
    let title = id.to_string();
    let job = move || {
        Scene {
            title: &title,
            shows: match &shows {
                Content::Model(model) => Shows::Model(&model.body),
                Content::Versions(history) => Shows::Versions(history),
            },
            config: &status.config,
        }
        .render()
    };
    slot.run("scene", job)
        .await?
        .map_err(|err| ApiError::internal(err.to_string()))
}

/// What a scene file is made of, owned until it is written.
enum Content {
    Model(std::sync::Arc<crate::hub::StoredModel>),
    Versions(SceneHistory),
}

/// A scene file: downloaded (not shown in the server's origin), with the same policy the file
/// carries itself, so that even opened in place it reaches nothing outside.
pub struct SceneFile {
    html: String,
    file_name: String,
}

impl<'r> Responder<'r, 'static> for SceneFile {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        rocket::Response::build()
            .header(rocket::http::ContentType::HTML)
            .header(Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{}\"", self.file_name),
            ))
            .header(Header::new(
                "Content-Security-Policy",
                format!("{}; frame-ancestors 'none'", crate::scene::policy()),
            ))
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(self.html.len(), std::io::Cursor::new(self.html))
            .ok()
    }
}

fn viewer_page(id: &ViewerId, root: &str, options: PageOptions, settings: &Settings) -> Page {
    let template = Template::render(
        "viewer.html",
        context! {
            title: format!("ocp_notebook: {id}"),
            viewer_id: id,
            root,
            options: serde_json::to_string(&options).unwrap_or_default(),
            renderer_css: asset_href("three-cad-viewer.css"),
            page_css: asset_href("page.css"),
            main_js: asset_href("main.js"),
            worker_js: asset_href("events-worker.js"),
            decoder_js: asset_href("decode-worker.js"),
            licenses: asset_href(assets::LICENSES),
            version: env!("CARGO_PKG_VERSION"),
        },
    );
    Page::new(template, settings)
}

pub(super) fn asset_href(name: &str) -> String {
    Asset::find(name).map(Asset::href).unwrap_or_default()
}

/// A rendered page with its security headers: framable by the configured ancestors (notebooks),
/// scripts only from this server.
pub struct Page {
    template: Template,
    policy: String,
}

impl Page {
    pub(super) fn new(template: Template, settings: &Settings) -> Self {
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; connect-src 'self'; frame-ancestors {}",
            settings.frame_ancestors()
        );
        Page { template, policy }
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.template.respond_to(request)?;
        response.set_header(Header::new("Content-Security-Policy", self.policy));
        response.set_header(Header::new("Cache-Control", "no-cache"));
        Ok(response)
    }
}

/// The viewer's kept versions for a scene: each one's tree form, and every part once.
async fn scene_history(id: &ViewerId, hub: &Hub) -> ApiResult<SceneHistory> {
    let history = hub.history(id).await?;
    let mut versions = Vec::with_capacity(history.versions.len());
    let mut hashes = Vec::new();
    let mut known = std::collections::HashSet::new();
    for info in &history.versions {
        let form = match hub.model_tree(&info.id).await {
            Ok(form) => form,
            // Dropped since the list was read: the scene steps through the others.
            Err(HubError::ModelGone(_) | HubError::ModelNotFound(_)) => continue,
            Err(err) => return Err(err.into()),
        };
        hashes.extend(
            form.parts
                .iter()
                .map(|(hash, _)| *hash)
                .filter(|h| known.insert(*h)),
        );
        versions.push(SceneVersion {
            model_id: info.id.to_string(),
            created: Some(crate::hub::rfc3339(info.created)),
            label: None,
            parts: info.summary.leaves,
            triangles: info.summary.triangles,
            tree: form.tree.text,
        });
    }
    let bytes = hub.parts(&hashes).await?;
    let parts = hashes
        .into_iter()
        .zip(bytes)
        .filter_map(|(hash, bytes)| Some((hash, bytes?)))
        .collect();
    Ok(SceneHistory {
        versions,
        parts,
        shown: history.shown.map(|id| id.to_string()),
    })
}
