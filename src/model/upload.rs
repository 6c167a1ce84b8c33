//! What clients POST to `/api/model`, and the form the server stores and serves back.
//!
//! Three body forms are accepted, all as JSON objects, as [`Body`] reads them.
//!
//! Whatever came in is stored as ocp_vscode's message, `{"type":"data", "model_id", "viewer_id",
//! "config", "data": <geometry>}`, with the geometry copied byte for byte from the upload.

use std::collections::HashSet;
use std::ops::Range;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::config;
use super::parts::{self, PartedTree};
use super::skeleton::{Body, Limits};
use super::stored::{raw_field_frame, StoredJson};
use super::validate::{self, TreeSummary};
use crate::ids::{ModelId, PartHash, ViewerId};
use crate::model::error::ModelError;

/// A checked upload: where its geometry is in the body, and what came with it.
#[derive(Debug)]
pub struct Upload {
    body: Bytes,
    geometry: Range<usize>,
    /// The viewer named in the body (`viewer_id`), if any.
    pub viewer_id: Option<ViewerId>,
    /// Viewer settings sent with the model (ocp_vscode's camelCase keys).
    pub config: Map<String, Value>,
    /// What the tree holds.
    pub summary: TreeSummary,
}

/// Reads and checks an upload. Syntax errors are 400 (`malformed_json`); a body of the wrong shape
/// is 422 (`invalid`) with the JSON path of the problem.
///
/// ```
/// use ocp_notebook::model::{parse_upload, Limits};
///
/// let tree = r#"{"id": "/G", "name": "G", "parts": [
///     {"id": "/G/a", "name": "a", "state": [1, 1], "shape": {"ref": 3}}]}"#;
/// let body = format!(r#"{{"shapes": {tree}}}"#).into_bytes();
/// let err = parse_upload(body, &Limits::default()).unwrap_err();
/// assert_eq!(err.path.as_deref(), Some("$.shapes.parts[0].shape.ref"));
/// assert_eq!(err.message, "ref 3 out of range (0 instances)");
/// ```
pub fn parse_upload(body: Vec<u8>, limits: &Limits) -> Result<Upload, ModelError> {
    let (geometry, summary, viewer_id, config) = {
        let found = Body::read(&body)?;
        let viewer_id = found
            .viewer_id
            .map(|id| {
                ViewerId::new(id).map_err(|err| ModelError::invalid(err.to_string(), "$.viewer_id"))
            })
            .transpose()?;
        if let Some(config) = &found.config {
            config::check(config).map_err(|bad| {
                let key = bad.path.trim_start_matches("$.");
                ModelError::invalid(bad.message, format!("$.config.{key}"))
            })?;
        }
        let summary = validate::check(found.geometry, found.path, limits)?;
        (
            span(&body, found.geometry),
            summary,
            viewer_id,
            found.config.unwrap_or_default(),
        )
    };
    Ok(Upload {
        body: Bytes::from(body),
        geometry,
        viewer_id,
        config,
        summary,
    })
}

impl Upload {
    /// The geometry (a tree or the instanced form) exactly as posted.
    pub fn geometry(&self) -> &[u8] {
        &self.body[self.geometry.clone()]
    }

    /// ocp_vscode's message with ids, the upload's config and its geometry, the geometry shared
    /// with the upload's buffer rather than copied: a one-file scene's model.
    pub fn stored_body(&self, model_id: &ModelId, viewer_id: &ViewerId) -> StoredJson {
        let (open, close) = message_frame(model_id, viewer_id, &self.config);
        StoredJson::new(vec![
            Bytes::from(open),
            self.body.slice(self.geometry.clone()),
            Bytes::from_static(close),
        ])
    }

    /// The geometry by content ([`parts`](super::parts)): its tree form, and each part once
    /// with its bytes (slices of the upload's buffer, which a store copies what it keeps of).
    pub fn parted(&self) -> Result<(PartedTree, Vec<(PartHash, Bytes)>), ModelError> {
        let geometry = std::str::from_utf8(self.geometry())
            .map_err(|err| ModelError::malformed(format!("body is not UTF-8: {err}")))?;
        let split = parts::split(geometry)?;
        let mut seen = HashSet::new();
        let parts = split
            .tree
            .holes
            .iter()
            .zip(&split.meshes)
            .filter(|(hole, _)| seen.insert(hole.part))
            .map(|(hole, mesh)| {
                let at = self.geometry.start;
                (hole.part, self.body.slice(at + mesh.start..at + mesh.end))
            })
            .collect();
        Ok((split.tree, parts))
    }
}

/// What goes around a model's geometry to make the message it is served as:
/// `{"type":"data","model_id",..,"viewer_id",..,"config",..,"data":` and `}`.
pub fn message_frame(
    model_id: &ModelId,
    viewer_id: &ViewerId,
    config: &Map<String, Value>,
) -> (Vec<u8>, &'static [u8]) {
    let head = serde_json::json!({
        "type": "data",
        "model_id": model_id,
        "viewer_id": viewer_id,
        "config": config,
    });
    raw_field_frame(&head, "data")
}

/// Where `part` (a slice of `body`) lies in `body`.
fn span(body: &[u8], part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - body.as_ptr() as usize;
    start..start + part.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelErrorKind;

    const TREE: &str = r#"{"version":3,"id":"/G","name":"G","parts":[{"id":"/G/a","name":"a","state":[1,1],"shape":{"vertices":[1.50,2e0,3,0,0,0,1,1,1],"triangles":[0,1,2],"edges":[]}}]}"#;

    fn stored(body: &str) -> Value {
        let upload = parse_upload(body.as_bytes().to_vec(), &Limits::default()).unwrap();
        let stored = upload.stored_body(&ModelId::new("m1").unwrap(), &ViewerId::default_viewer());
        serde_json::from_slice(&stored.to_vec()).unwrap()
    }

    #[test]
    fn the_three_forms_store_the_same_geometry() {
        let expected: Value = serde_json::from_str(TREE).unwrap();
        for body in [
            format!(r#"{{"shapes":{TREE},"config":{{"axes":true}}}}"#),
            format!(r#"{{"type":"data","data":{TREE},"config":{{"axes":true}},"count":1}}"#),
            TREE.to_string(),
        ] {
            let value = stored(&body);
            assert_eq!(value["data"], expected, "{body}");
            assert_eq!(value["type"], "data");
            assert_eq!(value["model_id"], "m1");
        }
    }

    #[test]
    fn geometry_bytes_are_kept_as_posted() {
        let body = format!(r#"{{"shapes":{TREE}}}"#);
        let upload = parse_upload(body.into_bytes(), &Limits::default()).unwrap();
        assert_eq!(upload.geometry(), TREE.as_bytes());
        let stored = upload.stored_body(&ModelId::new("m").unwrap(), &ViewerId::default_viewer());
        assert!(String::from_utf8(stored.to_vec())
            .unwrap()
            .contains("[1.50,2e0,3,0"));
    }

    #[test]
    fn viewer_id_and_config_are_read() {
        let body = format!(r#"{{"viewer_id":"v-1","shapes":{TREE},"config":{{"theme":"dark"}}}}"#);
        let upload = parse_upload(body.into_bytes(), &Limits::default()).unwrap();
        assert_eq!(upload.viewer_id.unwrap().as_str(), "v-1");
        assert_eq!(upload.config["theme"], "dark");
    }

    #[test]
    fn hostile_nesting_anywhere_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        for body in [
            format!(r#"{{"config": {{"a": {deep}}}, "shapes": {TREE}}}"#),
            format!(r#"{{"extra": {deep}, "shapes": {TREE}}}"#),
            TREE.replace("\"loc\":null", &format!("\"unknown\":{deep}")),
            TREE.replace("\"state\":[1,1]", &format!("\"state\":{deep}")),
        ] {
            // Unknown fields are skipped without recursion, so they may even pass; what matters
            // is an answer, not a stack overflow.
            let _ = parse_upload(body.into_bytes(), &Limits::default());
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases: &[(&str, u16, Option<&str>)] = &[
            ("{\"shapes\": ", 400, None),
            ("[1,2]", 422, Some("$")),
            ("{\"config\": 3, \"shapes\": {}}", 422, Some("$.config")),
            (
                "{\"config\": {\"theme\": \"purple\"}, \"shapes\": {}}",
                422,
                Some("$.config.theme"),
            ),
            (
                "{\"viewer_id\": \"../etc\", \"shapes\": {}}",
                422,
                Some("$.viewer_id"),
            ),
            ("{\"type\": \"clear\", \"data\": {}}", 422, Some("$.type")),
            ("{\"hello\": 1}", 422, Some("$")),
            (
                "{\"shapes\": {\"id\":\"/G\",\"name\":\"G\"}}",
                422,
                Some("$.shapes"),
            ),
            ("{\"shapes\": {}} trailing", 400, None),
        ];
        for (body, status, path) in cases {
            let err = parse_upload(body.as_bytes().to_vec(), &Limits::default()).unwrap_err();
            let kind = match status {
                400 => ModelErrorKind::Malformed,
                _ => ModelErrorKind::Invalid,
            };
            assert_eq!(err.kind, kind, "{body}: {err}");
            assert_eq!(err.path.as_deref(), *path, "{body}: {err}");
        }
    }
}
