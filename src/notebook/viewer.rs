//! [`Viewer`]: one live viewer on one id, shown inline in a notebook cell and fed from any later
//! cell. Every call is one HTTP request to the server; nothing is cached between cells except
//! the scene that [`Viewer::add`] builds up.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::client::Client;
use super::frame::{encode, frame_url, iframe_html, FrameOptions};
use super::model::IntoModel;
use super::server::{connect, Launch};
use super::{Error, ErrorCode, Result};
use crate::ids::ViewerId;
use crate::model::builder::{Group, Item};

/// A live 3D viewer in a notebook.
///
/// Inside the evcxr kernel, [`Viewer::new`] shows the viewer inline in the cell that makes it;
/// a cell whose value is the viewer shows it again.
pub struct Viewer {
    id: ViewerId,
    client: Client,
    frame: FrameOptions,
    url: String,
    /// The assembly [`Viewer::add`] and [`Viewer::remove`] edit, sent whole after each change.
    scene: Mutex<Group>,
    /// Whether pushes answer with the scene embedded ([`ViewerBuilder::embed`]).
    embed: bool,
}

/// Options for a [`Viewer`]: its id, its frame and where its server is.
#[derive(Debug, Clone, Default)]
pub struct ViewerBuilder {
    id: Option<String>,
    frame: FrameOptions,
    launch: Launch,
    display: Option<bool>,
    embed: bool,
}

impl ViewerBuilder {
    /// A fixed id instead of a fresh one (e.g. to show the same viewer in two notebooks).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Height of the frame in CSS pixels (default 480).
    pub fn height(mut self, pixels: u32) -> Self {
        self.frame.height = pixels;
        self
    }

    /// CSS width of the frame (default `100%`).
    pub fn width(mut self, css: impl Into<String>) -> Self {
        self.frame.width = css.into();
        self
    }

    /// `light`, `dark` or `browser`.
    pub fn theme(mut self, theme: impl Into<String>) -> Self {
        self.frame.theme = Some(theme.into());
        self
    }

    pub fn tree_width(mut self, pixels: u32) -> Self {
        self.frame.tree_width = Some(pixels);
        self
    }

    /// Whether the tree floats over the view.
    pub fn glass(mut self, glass: bool) -> Self {
        self.frame.glass = Some(glass);
        self
    }

    /// Whether the toolbar and tree are shown.
    pub fn tools(mut self, tools: bool) -> Self {
        self.frame.tools = Some(tools);
        self
    }

    /// Use the server at `url` (otherwise `OCP_NOTEBOOK_URL`, or one started for the kernel).
    pub fn server(mut self, url: impl Into<String>) -> Self {
        self.launch = Launch::Url(url.into());
        self
    }

    /// How to reach or start the server.
    pub fn launch(mut self, launch: Launch) -> Self {
        self.launch = launch;
        self
    }

    /// Whether making the viewer shows it in the cell (default: when running inside evcxr).
    pub fn display(mut self, display: bool) -> Self {
        self.display = Some(display);
        self
    }

    /// Whether each push also puts the scene itself in its cell's output (see
    /// [`Viewer::embed`]), so that the saved notebook shows the model with no server.
    pub fn embed(mut self, embed: bool) -> Self {
        self.embed = embed;
        self
    }

    /// Connects (starting a server if need be), registers the viewer and, in a notebook, shows it.
    pub fn build(self) -> Result<Viewer> {
        let id = match self.id {
            Some(id) => ViewerId::new(id).map_err(|err| Error::Server {
                status: 400,
                code: ErrorCode::InvalidId.to_string(),
                message: err.to_string(),
                path: None,
            })?,
            None => ViewerId::new(fresh_id()).expect("fresh ids are valid"),
        };
        let client = connect(&self.launch)?;
        // Registers the viewer, so that it is listed and its status readable before any model.
        client.post_json(&format!("/api/viewer/{id}/config"), b"{}")?;
        let path = self.frame.page_path(id.as_str());
        let url = frame_url(client.base(), &path, |name| std::env::var(name).ok());
        let viewer = Viewer {
            scene: Mutex::new(Group::new("scene")),
            id,
            client,
            frame: self.frame,
            url,
            embed: self.embed,
        };
        if self.display.unwrap_or_else(in_evcxr) {
            viewer.display();
        }
        Ok(viewer)
    }
}

/// `v-` and 12 hex digits: unique enough for one server, short enough to read.
fn fresh_id() -> String {
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    format!("v-{}", &uuid[..12])
}

/// evcxr sets this in the process that runs the cells.
fn in_evcxr() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

impl Viewer {
    /// A viewer on a fresh id, on the server of this kernel (found or started); shown inline
    /// when running in evcxr.
    pub fn new() -> Result<Viewer> {
        Viewer::builder().build()
    }

    pub fn builder() -> ViewerBuilder {
        ViewerBuilder::default()
    }

    /// The viewer's id. (Owned, like every value the notebook API returns, so that a cell can
    /// keep it in a variable: evcxr cannot keep borrowed values between cells.)
    pub fn id(&self) -> String {
        self.id.to_string()
    }

    /// The page's URL as the notebook's browser reaches it (see [`super::frame`]).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The server's own base URL (as the kernel reaches it).
    pub fn server_url(&self) -> String {
        self.client.base().to_string()
    }

    /// Replaces what the viewer shows with `model`. A part, group or mesh starts the scene that
    /// [`Viewer::add`] and [`Viewer::remove`] edit, shown as that scene (so its paths in the
    /// viewer's tree are always `/scene/` and the path [`Viewer::scene`] lists, what picks and
    /// animation tracks name); JSON and messages go as they are and leave the scene empty
    /// (`add` then starts from nothing).
    pub fn show(&self, model: impl IntoModel) -> Result<Shown> {
        let mut scene = Group::new("scene");
        let shown = match model.scene_item() {
            Some(item) => {
                scene.push(item);
                scene.make_names_unique();
                self.upload(&scene)?
            }
            None => self.upload(model)?,
        };
        *self.scene.lock().unwrap_or_else(|e| e.into_inner()) = scene;
        Ok(shown)
    }

    /// Adds a part or group to this viewer's scene and shows the scene.
    pub fn add(&self, item: impl Into<Item>) -> Result<Shown> {
        let mut scene = self.scene.lock().unwrap_or_else(|e| e.into_inner());
        let before = scene.clone();
        scene.push(item);
        // Names are fixed once shown, so removing a part never renames its siblings.
        scene.make_names_unique();
        let shown = self.upload(&*scene);
        if shown.is_err() {
            *scene = before;
        }
        shown
    }

    /// Removes the part or group at `path` (names from the scene's root, e.g. `"bolt"` or
    /// `"frame/left"`) and shows what is left.
    pub fn remove(&self, path: &str) -> Result<Shown> {
        let mut scene = self.scene.lock().unwrap_or_else(|e| e.into_inner());
        let removed = remove_path(&mut scene, path).ok_or_else(|| Error::NotInScene {
            path: path.to_string(),
            names: names(&scene),
        })?;
        let shown = self.upload(&*scene);
        if shown.is_err() {
            scene.push(removed);
        }
        shown
    }

    /// The scene [`Viewer::add`] built, as it stands.
    pub fn scene(&self) -> Group {
        self.scene.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Empties the viewer (its pages show the splash again) and the scene.
    pub fn clear(&self) -> Result<()> {
        *self.scene.lock().unwrap_or_else(|e| e.into_inner()) = Group::new("scene");
        self.request(|c, id| c.post_json(&format!("/api/viewer/{id}/clear"), b""))?;
        Ok(())
    }

    /// Changes settings live, without re-sending the model: any of ocp_vscode's config keys,
    /// e.g. `json!({"axes": true, "theme": "dark"})`. Answers the viewer's effective settings.
    pub fn config(&self, settings: Value) -> Result<Config> {
        let body = serde_json::to_vec(&settings)?;
        let answer =
            self.request(|c, id| c.post_json(&format!("/api/viewer/{id}/config"), &body))?;
        Ok(Config(
            answer["config"].as_object().cloned().unwrap_or_default(),
        ))
    }

    /// What the viewer's pages last reported: camera, tree visibility, picks.
    pub fn status(&self) -> Result<Status> {
        let answer = self.request(|c, id| c.get_json(&format!("/api/viewer/{id}/status")))?;
        serde_json::from_value(answer).map_err(|err| Error::Protocol(err.to_string()))
    }

    /// A PNG of what the viewer's page shows. A page must be open (in the notebook or a tab);
    /// the server waits for one to answer as long as its `--screenshot-timeout-secs`.
    pub fn screenshot(&self) -> Result<Screenshot> {
        let png = self.request(|c, id| {
            c.post_for_bytes(
                &format!("/api/viewer/{id}/screenshot"),
                Duration::from_secs(70),
            )
        })?;
        Ok(Screenshot { png })
    }

    /// Shows the viewer in the current cell's output (evcxr's display protocol), beside the
    /// other viewers the cell showed (see [`super::grid`]).
    pub fn display(&self) {
        super::cell::show_viewer(self);
    }

    /// The cell HTML of this viewer's frame.
    pub(super) fn frame_html(&self) -> String {
        iframe_html(&self.url, self.id.as_str(), &self.frame)
    }

    /// Called by evcxr for a cell whose value is the viewer.
    pub fn evcxr_display(&self) {
        self.display();
    }

    fn upload(&self, model: impl IntoModel) -> Result<Shown> {
        let body = model.into_model()?;
        let answer =
            self.request(|c, id| c.post_json(&format!("/api/model?viewer={id}"), &body.0))?;
        let mut shown: Shown =
            serde_json::from_value(answer).map_err(|err| Error::Protocol(err.to_string()))?;
        if self.embed {
            // The push is done either way: a scene that cannot be fetched leaves the text line.
            match self.embed() {
                Ok(scene) => shown.scene = Some(scene),
                Err(err) => eprintln!("the scene was not kept in the notebook: {err}"),
            }
        }
        Ok(shown)
    }

    /// The viewer's model and settings as one HTML file that opens offline, in any browser,
    /// with no server: the renderer, the page and the model in one file (see `ocp-notebook
    /// export`). Answers where it was written and its size.
    pub fn save_html(&self, path: impl AsRef<std::path::Path>) -> Result<SavedScene> {
        self.write_scene(path.as_ref(), "")
    }

    /// [`Viewer::save_html`], the file also carrying the viewer's kept versions: it steps
    /// through them offline (the history control, and the compare view).
    pub fn save_html_with_history(&self, path: impl AsRef<std::path::Path>) -> Result<SavedScene> {
        self.write_scene(path.as_ref(), "?history=1")
    }

    fn write_scene(&self, path: &std::path::Path, query: &str) -> Result<SavedScene> {
        let html = self.request(|c, id| c.get_bytes(&format!("/viewer/{id}/scene.html{query}")))?;
        std::fs::write(path, &html).map_err(|err| Error::Io {
            path: path.display().to_string(),
            reason: err.to_string(),
        })?;
        Ok(SavedScene {
            path: path.to_path_buf(),
            bytes: html.len(),
        })
    }

    /// The scene as it stands, for this cell's output: the model itself, drawn inside the
    /// output with no server where the notebook is trusted (reopened where it was saved, after
    /// "Trust Notebook", converted with `jupyter nbconvert --to html`), and, when a page is
    /// open, a PNG of its last frame, which shows everywhere else (a notebook someone sent you,
    /// `--sanitize-html`, a Markdown export, GitHub).
    pub fn embed(&self) -> Result<EmbeddedScene> {
        let path = format!(
            "/scene.js?width={}&height={}",
            encode(&self.frame.width),
            self.frame.height
        );
        let script = self.request(|c, id| c.get_bytes(&format!("/viewer/{id}{path}")))?;
        let open = self.status().map(|s| s.subscribers > 0).unwrap_or(false);
        let png = match open {
            true => self.screenshot().ok().map(|shot| shot.png),
            false => None,
        };
        Ok(EmbeddedScene {
            text: format!(
                "ocp_notebook scene of viewer {} ({:.1} KB{}) kept in the notebook: trust the \
                 notebook to see the model here, with no server",
                self.id,
                script.len() as f64 / 1000.0,
                if png.is_some() {
                    ""
                } else {
                    ", with no image of it (no page was open)"
                },
            ),
            script: String::from_utf8_lossy(&script).into_owned(),
            png,
        })
    }

    /// Runs a request, naming this viewer in "not found" answers.
    pub(super) fn request<T>(
        &self,
        call: impl FnOnce(&Client, &ViewerId) -> Result<T>,
    ) -> Result<T> {
        call(&self.client, &self.id).map_err(|err| match err.code() {
            Some(ErrorCode::ViewerNotFound | ErrorCode::ViewerDeleted) => {
                Error::ViewerClosed(self.id.to_string())
            }
            Some(ErrorCode::NoPageAnswered) => Error::NoPage(self.id.to_string()),
            _ => err,
        })
    }
}

impl fmt::Display for Viewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ocp_notebook viewer {} at {} (live while its server runs)",
            self.id, self.url
        )
    }
}

impl fmt::Debug for Viewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Viewer")
            .field("id", &self.id.as_str())
            .field("url", &self.url)
            .finish()
    }
}

/// Removes the item at `path`, a path of the unique names the scene is stored under (what the
/// viewer's tree shows: `posts/post_2` for the second of three parts named `post`).
fn remove_path(group: &mut Group, path: &str) -> Option<Item> {
    let path = path.trim_matches('/');
    let (first, rest) = match path.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let index = group.child_names().iter().position(|name| name == first)?;
    match (rest, &mut group.children[index]) {
        (None, _) => Some(group.children.remove(index)),
        (Some(rest), Item::Group(inner)) => remove_path(inner, rest),
        (Some(_), Item::Part(_)) => None,
    }
}

/// The scene's paths (unique names, as stored), for an error message.
fn names(group: &Group) -> String {
    fn walk(group: &Group, prefix: &str, out: &mut Vec<String>) {
        for (item, name) in group.children.iter().zip(group.child_names()) {
            let path = format!("{prefix}{name}");
            if let Item::Group(inner) = item {
                walk(inner, &format!("{path}/"), out);
            }
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(group, "", &mut out);
    match out.is_empty() {
        true => "nothing that add(), or show() of a part or group, put there".into(),
        false => out.join(", "),
    }
}

/// What the server stored for one `show`/`add`/`remove`; a cell showing it prints one line
/// (which stays readable in a saved notebook) and, for a viewer built with
/// [`ViewerBuilder::embed`], holds the scene itself.
#[derive(Clone, Deserialize)]
pub struct Shown {
    pub viewer_id: String,
    pub model_id: String,
    pub parts: usize,
    pub instances: usize,
    pub triangles: usize,
    pub bytes: usize,
    /// The scene, for viewers that embed it.
    #[serde(skip)]
    pub scene: Option<EmbeddedScene>,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "viewer {}: model {} with {} part{}, {} triangles ({:.1} KB)",
            self.viewer_id,
            self.model_id,
            self.parts,
            if self.parts == 1 { "" } else { "s" },
            self.triangles,
            self.bytes as f64 / 1000.0
        )
    }
}

/// The same line as `Display`: evcxr shows a cell's value with `Debug` when the cell moved a
/// variable into it (`viewer.add(group)?`), and the notebook should read the same either way.
impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Shown {
    pub fn evcxr_display(&self) {
        if let Some(scene) = &self.scene {
            scene.evcxr_display();
        }
        evcxr_runtime::mime_type("text/plain").text(self.to_string());
    }
}

/// A viewer's scene kept in a cell's output: see [`Viewer::embed`].
#[derive(Clone)]
pub struct EmbeddedScene {
    /// The script that draws the scene in the output (see the server's `scene.js`).
    script: String,
    png: Option<Vec<u8>>,
    text: String,
}

impl EmbeddedScene {
    /// The PNG of the page's last frame, if a page was open.
    pub fn png(&self) -> Option<&[u8]> {
        self.png.as_deref()
    }

    /// No HTML: a sanitizer (an untrusted notebook, `nbconvert --sanitize-html`) would strip it
    /// down to its caption. The script runs where outputs are trusted; elsewhere the PNG shows.
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("application/javascript").text(&self.script);
        if let Some(png) = &self.png {
            use base64::Engine as _;
            evcxr_runtime::mime_type("image/png")
                .text(base64::engine::general_purpose::STANDARD.encode(png));
        }
        evcxr_runtime::mime_type("text/plain").text(&self.text);
    }
}

impl fmt::Display for EmbeddedScene {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for EmbeddedScene {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where [`Viewer::save_html`] wrote a scene.
#[derive(Debug, Clone)]
pub struct SavedScene {
    pub path: std::path::PathBuf,
    pub bytes: usize,
}

impl fmt::Display for SavedScene {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} ({:.1} KB): opens offline in any browser",
            self.path.display(),
            self.bytes as f64 / 1000.0
        )
    }
}

impl SavedScene {
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(self.to_string());
    }
}

/// A viewer's effective settings (ocp_vscode's config keys), as [`Viewer::config`] answers;
/// a map of [`Value`]s, shown in a cell as JSON.
#[derive(Clone, Default, PartialEq, Deserialize)]
pub struct Config(pub Map<String, Value>);

impl Config {
    /// The setting `key`, e.g. `config.get("axes")`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(self.to_string());
    }
}

impl std::ops::Deref for Config {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.0).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// As `Display`: evcxr shows a moved variable with `Debug` (see [`Shown`]).
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What the viewer's pages reported, as `GET /api/viewer/<id>/status` answers. Read the
/// camera with [`Status::camera_position`] and [`Status::camera_target`], the last pick with
/// [`Status::last_pick`], anything else from [`Status::status`].
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub viewer_id: String,
    /// Pages following the viewer now.
    pub subscribers: usize,
    pub model_id: Option<String>,
    /// The viewer's effective settings.
    pub config: Config,
    /// The latest value of each key the pages reported: `position`, `quaternion`, `target`,
    /// `zoom`, `states` (tree visibility), `lastPick`, UI toggles.
    pub status: Map<String, Value>,
}

impl Status {
    /// The camera's position, if a page reported one.
    pub fn camera_position(&self) -> Option<[f64; 3]> {
        self.triple("position")
    }

    /// The point the camera looks at.
    pub fn camera_target(&self) -> Option<[f64; 3]> {
        self.triple("target")
    }

    /// The last part picked in the page (`{path, name, boundingBox, ...}`).
    pub fn last_pick(&self) -> Option<Value> {
        self.status.get("lastPick").cloned()
    }

    fn triple(&self, key: &str) -> Option<[f64; 3]> {
        let values = self.status.get(key)?.as_array()?;
        match values.as_slice() {
            [x, y, z] => Some([x.as_f64()?, y.as_f64()?, z.as_f64()?]),
            _ => None,
        }
    }

    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(self.to_string());
    }
}

/// What a person looks for: pages, model, camera and last pick, then the names of the other
/// keys (all in [`Status::status`]).
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pages = match self.subscribers {
            1 => "1 page open".to_string(),
            n => format!("{n} pages open"),
        };
        let model = self.model_id.as_deref().unwrap_or("none");
        writeln!(f, "viewer {}: {pages}, model {model}", self.viewer_id)?;
        if self.status.is_empty() {
            return write!(
                f,
                "no page has reported yet: open the viewer (run the cell that shows it, or its URL)"
            );
        }
        let value = |key: &str| self.status.get(key).map(Value::to_string);
        if let Some(position) = value("position") {
            write!(f, "camera position {position}")?;
            if let Some(target) = value("target") {
                write!(f, ", target {target}")?;
            }
            if let Some(zoom) = value("zoom") {
                write!(f, ", zoom {zoom}")?;
            }
            writeln!(f)?;
        }
        if let Some(pick) = value("lastPick") {
            writeln!(f, "last pick {pick}")?;
        }
        let shown = ["position", "target", "zoom", "lastPick"];
        let others: Vec<&str> = self
            .status
            .keys()
            .map(String::as_str)
            .filter(|key| !shown.contains(key))
            .collect();
        write!(f, "also reported: {}", others.join(", "))
    }
}

/// A PNG of a viewer. A cell showing it shows the image, which a saved notebook keeps.
#[derive(Clone)]
pub struct Screenshot {
    png: Vec<u8>,
}

impl Screenshot {
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    pub fn save(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        std::fs::write(path, &self.png)
    }

    pub fn evcxr_display(&self) {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.png);
        evcxr_runtime::mime_type("image/png").text(encoded);
    }
}

impl fmt::Debug for Screenshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Screenshot({} bytes of PNG)", self.png.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builder::{Mesh, Part};

    fn scene() -> Group {
        Group::new("scene")
            .with(Part::new("base", Mesh::cuboid(1.0, 1.0, 1.0)))
            .with(Group::new("frame").with(Part::new("left", Mesh::cuboid(1.0, 1.0, 1.0))))
    }

    #[test]
    fn parts_are_removed_by_path() {
        let mut group = scene();
        assert!(remove_path(&mut group, "frame/left").is_some());
        assert_eq!(names(&group), "base, frame");
        assert!(remove_path(&mut group, "/base").is_some());
        assert!(remove_path(&mut group, "base").is_none());
        assert!(remove_path(&mut group, "frame/left/deeper").is_none());
    }

    #[test]
    fn fresh_ids_are_valid_and_differ() {
        let (a, b) = (fresh_id(), fresh_id());
        assert_ne!(a, b);
        assert!(ViewerId::new(a).is_ok());
    }
}
