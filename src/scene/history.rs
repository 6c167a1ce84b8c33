//! The versions a scene may carry (`/viewer/<id>/scene.html?history=1`, `ocp-notebook export
//! --history`), so that it steps through them offline: each version's tree form with what
//! changed since the one before, and every part once.

use bytes::Bytes;
use serde_json::json;

use super::SceneError;
use crate::ids::PartHash;
use crate::model::diff::compare;
use crate::model::stored::raw_field_frame;
use crate::model::ModelError;

/// One version a scene carries.
pub struct SceneVersion {
    pub model_id: String,
    /// When it was pushed (RFC 3339), if it was.
    pub created: Option<String>,
    /// What the history control calls it instead of its time (a file name for `export`).
    pub label: Option<String>,
    pub parts: usize,
    pub triangles: usize,
    /// Its geometry's tree form (JSON, `{"part": "<hash>"}` for each part).
    pub tree: Bytes,
}

/// Versions, oldest first, and their parts, each once.
pub struct SceneHistory {
    pub versions: Vec<SceneVersion>,
    pub parts: Vec<(PartHash, Bytes)>,
    /// The version the scene opens on.
    pub shown: Option<String>,
}

impl SceneHistory {
    /// The JSON the scene's page reads: `{"shown", "versions": [{model_id, created, label, parts,
    /// triangles, diff, data}], "parts": {"<hash>": <mesh>}}`, each `diff` against the version
    /// before (none before the first: every part added).
    pub fn document(&self) -> Result<Vec<u8>, SceneError> {
        let mut out = Vec::new();
        out.extend_from_slice(
            format!("{{\"shown\":{},\"versions\":[", json!(self.shown)).as_bytes(),
        );
        let mut before: Option<&str> = None;
        for (n, version) in self.versions.iter().enumerate() {
            let tree = std::str::from_utf8(&version.tree)
                .map_err(|err| ModelError::malformed(format!("a stored tree: {err}")))?;
            let head = json!({
                "model_id": version.model_id,
                "created": version.created,
                "label": version.label,
                "parts": version.parts,
                "triangles": version.triangles,
                "diff": compare(before, tree)?,
            });
            let (open, close) = raw_field_frame(&head, "data");
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&open);
            out.extend_from_slice(tree.as_bytes());
            out.extend_from_slice(close);
            before = Some(tree);
        }
        out.extend_from_slice(b"],\"parts\":{");
        for (n, (hash, mesh)) in self.parts.iter().enumerate() {
            let open = if n == 0 { "" } else { "," };
            out.extend_from_slice(format!("{open}\"{hash}\":").as_bytes());
            out.extend_from_slice(mesh);
        }
        out.extend_from_slice(b"}}");
        Ok(out)
    }
}
