//! The basic shape of a shapes tree: what three-cad-viewer needs to not throw, checked in one
//! borrowed pass. Geometry arrays stay unparsed (`RawValue`); deep checks of their contents belong
//! to a full validator.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{from_serde, ApiError};

/// One node of the tree as far as its shape goes. In the instanced form the top level is
/// `{"instances": [...], "shapes": <tree>}`, so the same struct reads both.
#[derive(Deserialize)]
struct Node<'a> {
    id: Option<&'a RawValue>,
    name: Option<&'a RawValue>,
    state: Option<&'a RawValue>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(borrow)]
    parts: Option<Vec<Node<'a>>>,
    #[serde(borrow)]
    shape: Option<&'a RawValue>,
    #[serde(borrow)]
    instances: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    shapes: Option<Box<Node<'a>>>,
}

/// A leaf's `shape` when it points into `instances`.
#[derive(Deserialize)]
struct ShapeRef {
    #[serde(rename = "ref")]
    reference: Option<serde_json::Value>,
}

/// What a checked tree holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TreeSummary {
    /// Groups, the root included.
    pub groups: usize,
    /// Leaves (parts, edge sets, vertex sets).
    pub leaves: usize,
    /// Shared meshes of the instanced form (0 for a plain tree).
    pub instances: usize,
}

/// Checks `geometry` (a tree, or `{"instances", "shapes"}`), found at JSON path `path` of the
/// request body.
pub fn check(geometry: &str, path: &str) -> Result<TreeSummary, ApiError> {
    let mut de = serde_json::Deserializer::from_str(geometry);
    let top: Node =
        serde_path_to_error::deserialize(&mut de).map_err(|err| from_serde(path, err))?;

    let mut summary = TreeSummary::default();
    match top.instances {
        Some(instances) => {
            summary.instances = instances.len();
            let tree_path = format!("{path}.shapes");
            let tree = top.shapes.ok_or_else(|| {
                ApiError::invalid(
                    "the instanced form needs \"shapes\" beside \"instances\"",
                    path,
                )
            })?;
            check_root(&tree, &tree_path, &mut summary)?;
        }
        None => check_root(&top, path, &mut summary)?,
    }
    Ok(summary)
}

fn check_root(root: &Node, path: &str, summary: &mut TreeSummary) -> Result<(), ApiError> {
    if root.parts.is_none() {
        return Err(ApiError::invalid(
            "the root of a shapes tree must be a group with \"parts\"",
            path,
        ));
    }
    check_node(root, path, summary)
}

fn check_node(node: &Node, path: &str, summary: &mut TreeSummary) -> Result<(), ApiError> {
    for (field, value) in [("id", node.id), ("name", node.name)] {
        match value {
            Some(raw) if raw.get().starts_with('"') => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    format!("\"{field}\" must be a string"),
                    path,
                ))
            }
            None => return Err(ApiError::invalid(format!("missing \"{field}\""), path)),
        }
    }
    match (&node.parts, node.shape) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "a node is a group (\"parts\") or a leaf (\"shape\"), not both",
            path,
        )),
        (None, None) => Err(ApiError::invalid(
            "a node needs \"parts\" (a group) or \"shape\" (a leaf)",
            path,
        )),
        (Some(parts), None) => {
            summary.groups += 1;
            for (i, child) in parts.iter().enumerate() {
                check_node(child, &format!("{path}.parts[{i}]"), summary)?;
            }
            Ok(())
        }
        (None, Some(shape)) => {
            summary.leaves += 1;
            check_leaf(node, shape, path, summary)
        }
    }
}

fn check_leaf(
    node: &Node,
    shape: &RawValue,
    path: &str,
    summary: &TreeSummary,
) -> Result<(), ApiError> {
    if node.state.is_none() {
        return Err(ApiError::invalid(
            "missing \"state\" ([faces, edges] visibility)",
            path,
        ));
    }
    if let Some(kind) = &node.kind {
        if !matches!(kind.as_str(), "shapes" | "edges" | "vertices") {
            return Err(ApiError::invalid(
                format!("\"type\" is {kind:?}; expected \"shapes\", \"edges\" or \"vertices\""),
                format!("{path}.type"),
            ));
        }
    }
    let shape_path = format!("{path}.shape");
    if !shape.get().starts_with('{') {
        return Err(ApiError::invalid("\"shape\" must be an object", shape_path));
    }
    let probe: ShapeRef = serde_json::from_str(shape.get())
        .map_err(|err| ApiError::invalid(err.to_string(), &shape_path))?;
    if let Some(reference) = probe.reference {
        let index = reference.as_u64().ok_or_else(|| {
            ApiError::invalid(
                "\"ref\" must be a non-negative integer",
                format!("{shape_path}.ref"),
            )
        })?;
        if index as usize >= summary.instances {
            return Err(ApiError::invalid(
                format!("ref {index} out of range ({} instances)", summary.instances),
                format!("{shape_path}.ref"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str) -> String {
        format!(
            r#"{{"id":"/G/{name}","name":"{name}","state":[1,1],"type":"shapes","shape":{{"vertices":[]}}}}"#
        )
    }

    #[test]
    fn a_plain_tree_passes() {
        let tree = format!(
            r#"{{"id":"/G","name":"G","parts":[{},{}]}}"#,
            leaf("a"),
            leaf("b")
        );
        let summary = check(&tree, "$").unwrap();
        assert_eq!(
            summary,
            TreeSummary {
                groups: 1,
                leaves: 2,
                instances: 0
            }
        );
    }

    #[test]
    fn refs_must_point_into_instances() {
        let tree = r#"{"instances":[{}],"shapes":{"id":"/G","name":"G","parts":[
            {"id":"/G/a","name":"a","state":[1,1],"shape":{"ref":0}},
            {"id":"/G/b","name":"b","state":[1,1],"shape":{"ref":3}}]}}"#;
        let err = check(tree, "$.data").unwrap_err();
        assert_eq!(
            err.path.as_deref(),
            Some("$.data.shapes.parts[1].shape.ref")
        );
        assert!(
            err.message.contains("ref 3 out of range (1 instances)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn errors_name_the_node() {
        let tree = r#"{"id":"/G","name":"G","parts":[{"id":"/G/a","name":"a","shape":{}}]}"#;
        let err = check(tree, "$.shapes").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("$.shapes.parts[0]"));
        assert!(err.message.contains("state"));
    }

    #[test]
    fn wrong_types_are_reported_with_their_path() {
        let tree = r#"{"id":"/G","name":"G","parts":[{"id":"/G/a","name":"a","parts":7}]}"#;
        let err = check(tree, "$").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("$.parts[0].parts"));
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn a_leaf_root_is_refused() {
        let err = check(&leaf("a"), "$").unwrap_err();
        assert!(err.message.contains("root"));
    }
}
