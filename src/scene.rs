//! One-file scenes: a model in a single HTML file that opens from `file://` with no server and no
//! network, and shows it with the full viewer UI (tree, clipping, camera, themes).
//!
//! The file holds the renderer and the page's modules (gzipped together, base64, about a third
//! of their size, in the order they import each other), the model as stored (gzipped, base64), the viewer's settings and a small
//! loader (`web/src/scene-loader.js`) that unpacks them with the browser's
//! `DecompressionStream` and imports the modules from `blob:` URLs. Its Content-Security-Policy
//! allows nothing from outside the file. `GET /viewer/<id>/scene.html`, `ocp-notebook export`
//! and the notebook bridges' `save_html` all make it here.

use std::sync::OnceLock;

use base64::Engine as _;

use rocket_dyn_templates::minijinja::{self, value::Value as TemplateValue};
use serde_json::Value;

use crate::assets::{self, Asset, Compression, LICENSES};
use crate::ids::{ModelId, ViewerId};
use crate::model::config::initial_defaults;
use crate::model::{parse_upload, Limits, ModelError, StoredJson};

/// The modules a scene carries, in the order the loader links them: each imports only modules
/// before it.
const MODULES: [&str; 7] = [
    "three-cad-viewer.js",
    "decode.js",
    "options.js",
    "frames.js",
    "thumbnail.js",
    "host.js",
    "scene.js",
];

const TEMPLATE: &str = include_str!("../templates/scene.html.j2");

/// What a scene shows and how.
pub struct Scene<'a> {
    /// The file's title, e.g. the viewer's id.
    pub title: &'a str,
    /// The model as the server stores it (any accepted form, checked).
    pub model: &'a StoredJson,
    /// The viewer's settings (ocp_vscode's config keys).
    pub config: &'a serde_json::Map<String, Value>,
}

impl Scene<'_> {
    /// The HTML file.
    pub fn render(&self) -> Result<String, SceneError> {
        let model = assets::gzip(
            self.model.parts().iter().map(|part| &part[..]),
            Compression::default(),
        );
        let model = base64::engine::general_purpose::STANDARD.encode(model);
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
                model => trusted(&model),
                config => trusted(&config),
                loader => trusted(asset_text("scene-loader.js")),
                licenses => trusted(&license_comment()),
            })?;
        Ok(html)
    }
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
        model: &model,
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
