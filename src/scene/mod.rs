//! One-file scenes: a model in a single HTML file that opens from `file://` with no server and no
//! network, and shows it with the full viewer UI (tree, clipping, camera, themes).
//!
//! The file holds the renderer and the page's modules (gzipped together, base64, about a third
//! of their size, in the order they import each other), the model as stored (gzipped, base64), the viewer's settings and a small
//! loader (`web/src/scene-loader.js`) that unpacks them with the browser's
//! `DecompressionStream` and imports the modules from `blob:` URLs. Its Content-Security-Policy
//! allows nothing from outside the file. `GET /viewer/<id>/scene.html`, `ocp-notebook export`
//! and the notebook bridges' `save_html` all make it here.
//!
//! - `history`: the versions a scene may carry, to step through them offline.

mod history;

use std::sync::OnceLock;

pub use history::{SceneHistory, SceneVersion};

use base64::Engine as _;

use rocket_dyn_templates::minijinja::{self, value::Value as TemplateValue};
use serde_json::Value;

use crate::assets::{self, Asset, Compression, LICENSES};
use crate::ids::{ModelId, ViewerId};
use crate::model::config::initial_defaults;
use crate::model::{parse_upload, Limits, ModelError, StoredJson};

/// The modules a scene carries, in the order the loader links them: each imports only modules
/// before it.
const MODULES: [&str; 9] = [
    "three-cad-viewer.js",
    "decode.js",
    "options.js",
    "frames.js",
    "thumbnail.js",
    "host.js",
    "compare.js",
    "versions.js",
    "scene.js",
];

const TEMPLATE: &str = include_str!("../../templates/scene.html.j2");
const CELL_TEMPLATE: &str = include_str!("../../templates/scene-cell.js.j2");

/// What a scene shows and how.
pub struct Scene<'a> {
    /// The file's title, e.g. the viewer's id.
    pub title: &'a str,
    pub shows: Shows<'a>,
    /// The viewer's settings (ocp_vscode's config keys).
    pub config: &'a serde_json::Map<String, Value>,
}

/// The geometry a scene carries.
pub enum Shows<'a> {
    /// One model as the server stores it (any accepted form, checked).
    Model(&'a StoredJson),
    /// Versions to step through offline, every part once; the scene opens on the one the
    /// history names as shown (it carries no second copy of it).
    Versions(&'a SceneHistory),
}

impl Scene<'_> {
    /// The HTML file.
    pub fn render(&self) -> Result<String, SceneError> {
        let packed = |gzipped: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(gzipped);
        let (model, history) = match self.shows {
            Shows::Model(model) => {
                let segments = model.parts().iter().map(|part| &part[..]);
                (
                    Some(packed(assets::gzip(segments, Compression::default()))),
                    None,
                )
            }
            Shows::Versions(history) => {
                let document = history.document()?;
                let gzipped = assets::gzip([&document[..]], Compression::default());
                (None, Some(packed(gzipped)))
            }
        };
        let config = script_json(&Value::Object(self.config.clone()));
        let mut environment = minijinja::Environment::new();
        environment.add_template("scene.html", TEMPLATE)?;
        let html = environment
            .get_template("scene.html")?
            .render(minijinja::context! {
                version => env!("CARGO_PKG_VERSION"),
                policy => policy(),
                title => self.title,
                options => "{}",
                renderer_css => trusted(asset_text("three-cad-viewer.css")),
                page_css => trusted(asset_text("page.css")),
                code => trusted(code_bundle()),
                model => model.as_deref().map(trusted),
                history => history.as_deref().map(trusted),
                config => trusted(&config),
                loader => trusted(asset_text("scene-loader.js")),
                licenses => trusted(&license_comment()),
            })?;
        Ok(html)
    }
}

/// A scene as the script a notebook cell's output keeps (`application/javascript`, beside the
/// PNG of the viewer's last frame). Run where the notebook is trusted (JupyterLab, Notebook 7,
/// `jupyter nbconvert --to html`), it puts `scene_html` in the output in a sandboxed
/// `<iframe srcdoc>`, `width` wide (CSS) and `height` pixels high, with a caption under it.
/// Where outputs are not trusted the frontend shows the PNG instead and never runs it: no HTML
/// is in the output for a sanitizer to strip down to a caption. With `image_tail` (the end of
/// the PNG's base64), the PNG is the output just before the script's own (where a kernel can
/// show two outputs, so that `nbconvert --sanitize-html`, which keeps a script's output empty,
/// still shows the PNG), and the script hides that output, if it is that PNG.
pub fn cell_script(
    scene_html: &str,
    viewer_id: &ViewerId,
    width: &str,
    height: u32,
    image_tail: Option<&str>,
) -> Result<String, SceneError> {
    let json = |value: &str| trusted(&script_json(&Value::from(value)));
    let mut environment = minijinja::Environment::new();
    // No extension: no auto-escaping; every value put in a string is JSON made safe above.
    environment.add_template("scene-cell", CELL_TEMPLATE)?;
    let script = environment.get_template("scene-cell")?.render(minijinja::context! {
        version => env!("CARGO_PKG_VERSION"),
        viewer_id => viewer_id.as_str(),
        viewer_id_json => json(viewer_id.as_str()),
        title_json => json(&format!("ocp_notebook scene {viewer_id}")),
        width_json => json(width),
        height => height,
        image_tail => image_tail.map(json),
        scene_json => json(scene_html),
        caption_json => json(&format!(
            "ocp_notebook scene of viewer {viewer_id} · kept in the notebook: it shows without a server"
        )),
    })?;
    Ok(script)
}

/// A model file (any form `POST /api/model` accepts) as a scene titled `title`, with the
/// settings a fresh server would give it: `ocp-notebook export`.
pub fn export(body: Vec<u8>, limits: &Limits, title: &str) -> Result<String, SceneError> {
    let upload = parse_upload(body, limits)?;
    let model = upload.stored_body(&ModelId::random(), &ViewerId::default_viewer());
    let mut config = initial_defaults();
    config.extend(upload.config);
    Scene {
        title,
        shows: Shows::Model(&model),
        config: &config,
    }
    .render()
}

/// Model files as one scene that steps through them as versions, in order, and opens on the
/// last (`ocp-notebook export --history`); each named by its `(label, body)`.
pub fn export_versions(
    files: Vec<(String, Vec<u8>)>,
    limits: &Limits,
    title: &str,
) -> Result<String, SceneError> {
    let mut versions = Vec::with_capacity(files.len());
    let mut parts = Vec::new();
    let mut known = std::collections::HashSet::new();
    let mut last = None;
    for (label, body) in files {
        let named = |err: ModelError| SceneError::In(label.clone(), Box::new(err.into()));
        let upload = parse_upload(body, limits).map_err(named)?;
        let (tree, meshes) = upload.parted().map_err(named)?;
        parts.extend(meshes.into_iter().filter(|(hash, _)| known.insert(*hash)));
        versions.push(SceneVersion {
            model_id: ModelId::random().to_string(),
            created: None,
            label: Some(label),
            parts: upload.summary.leaves,
            triangles: upload.summary.triangles,
            tree: tree.text,
        });
        last = Some(upload);
    }
    let Some(last) = last else {
        return Err(ModelError::invalid("no model to export", "$").into());
    };
    let mut config = initial_defaults();
    config.extend(last.config);
    let history = SceneHistory {
        shown: versions.last().map(|version| version.model_id.clone()),
        versions,
        parts,
    };
    Scene {
        title,
        shows: Shows::Versions(&history),
        config: &config,
    }
    .render()
}

/// Why a scene could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("not a model the viewer accepts: {0}")]
    Model(#[from] ModelError),
    /// A template error: a bug, not bad input.
    #[error("the scene could not be written: {0}")]
    Template(#[from] minijinja::Error),
    /// One of several files.
    #[error("{0}: {1}")]
    In(String, Box<SceneError>),
}

/// Text the template must not escape: our own CSS and JavaScript, base64, and JSON made safe for
/// a `<script>` element by [`script_json`].
fn trusted(text: &str) -> TemplateValue {
    TemplateValue::from_safe_string(text.to_string())
}

/// The scene's Content-Security-Policy: its one inline script (the loader, by its hash), the
/// modules it makes from `blob:` URLs, inline styles and images, nothing from outside. No inline
/// event handlers: the renderer writes part names into the page as HTML, and a name must not run.
pub fn policy() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(asset_text("scene-loader.js").as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(hash);
        format!(
            "default-src 'none'; script-src 'sha256-{hash}' blob:; style-src 'unsafe-inline'; \
             img-src data: blob:"
        )
    })
}

fn asset_text(name: &str) -> &'static str {
    Asset::find(name)
        .and_then(|asset| std::str::from_utf8(asset.bytes).ok())
        .unwrap_or_default()
}

/// The embedded renderer's licenses (the scene carries its code), as text that cannot end the
/// HTML comment it stands in.
fn license_comment() -> String {
    asset_text(LICENSES).replace("--", "- -")
}

/// JSON that cannot end its `<script>` element or open a comment: `<`, `>` and `&` escaped.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The renderer and the page's modules as one gzipped, base64 JSON array of `[name, source]`
/// in [`MODULES`] order, made once per process: every scene carries the same.
fn code_bundle() -> &'static str {
    static BUNDLE: OnceLock<String> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let modules: Vec<(&str, &str)> = MODULES
            .iter()
            .map(|name| (*name, asset_text(name)))
            .collect();
        let json = serde_json::to_string(&modules).unwrap_or_default();
        let gzipped = assets::gzip([json.as_bytes()], Compression::best());
        base64::engine::general_purpose::STANDARD.encode(gzipped)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_element_cannot_close_it() {
        let text = script_json(&serde_json::json!({"name": "</script><script>alert(1)</script>&"}));
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script>&");
    }

    #[test]
    fn a_cell_script_carries_the_scene_in_strings_a_page_cannot_break_out_of() {
        let scene = "<html><script>alert('</script>')</script></html>";
        let viewer = ViewerId::new("v-1").unwrap();
        let script = cell_script(scene, &viewer, "100%", 480, None).unwrap();
        let code: String = script
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect();
        assert!(!code.contains('<'), "{script}");
        assert!(script.contains(&script_json(&Value::from(scene))));
        assert!(
            !script.contains("previousElementSibling"),
            "keeps what is before it"
        );
        let replacing = cell_script(scene, &viewer, "100%", 480, Some("AAAAElFTkSuQmCC")).unwrap();
        assert!(replacing.contains(r#"var tail = "AAAAElFTkSuQmCC";"#));
    }

    #[test]
    fn a_scene_carries_the_licenses_of_the_code_it_embeds() {
        let body = crate::model::synthetic::sphere_message(200);
        let html = export(body, &Limits::default(), "ball").unwrap();
        let comment = html
            .split("<!--")
            .nth(1)
            .unwrap()
            .split("-->")
            .next()
            .unwrap();
        assert!(
            comment.contains("==== three-cad-viewer ====") && comment.contains("==== three.js")
        );
        assert_eq!(comment.matches("Permission is hereby granted").count(), 2);
    }

    #[test]
    fn versions_carry_each_part_once_and_no_second_copy_of_the_one_shown() {
        // A sphere big enough that its mesh outweighs the page's code, three times as versions.
        let body = crate::model::synthetic::sphere_message(20_000);
        let one = export(body.clone(), &Limits::default(), "ball").unwrap();
        let files = (0..3)
            .map(|n| (format!("ball{n}.json"), body.clone()))
            .collect();
        let three = export_versions(files, &Limits::default(), "balls").unwrap();
        assert!(
            !three.contains("id=\"ocp-model\""),
            "the versions carry the model shown"
        );
        assert!(
            three.len() < one.len() + one.len() / 20,
            "three versions of one model: {} bytes, the model alone {}",
            three.len(),
            one.len()
        );
    }

    #[test]
    fn each_module_imports_only_modules_before_it() {
        for (index, name) in MODULES.iter().enumerate().skip(1) {
            for piece in asset_text(name).split("\"./").skip(1) {
                let import = piece.split('"').next().unwrap_or_default();
                assert!(
                    MODULES[..index].contains(&import),
                    "{name} imports {import}, which is not before it in MODULES"
                );
            }
        }
    }

    #[test]
    fn every_module_a_scene_links_is_embedded() {
        for name in MODULES.iter().chain(&["scene-loader.js", "page.css"]) {
            assert!(!asset_text(name).is_empty(), "{name} is not embedded");
        }
    }
}
