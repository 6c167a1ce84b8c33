//! Validation of a shapes tree (or the instanced form) in one borrowed pass, reporting the first
//! problem with its JSON path: `$.data.instances[0].triangles: index 9000 out of range (3000
//! vertices)`.
//!
//! The tree is read into a skeleton that borrows from the request body. Plain number arrays are
//! summarised while they are read (count, smallest, largest, sum; nothing is kept); base64 buffers
//! are kept as borrowed text, their length checked against `shape` and `dtype` without decoding,
//! then decoded in small chunks to check values (finite floats, indices in range, counts that sum
//! to the totals). A shared mesh of the instanced form is checked once, however many leaves use it.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;

use serde_json::value::RawValue;

use crate::model::error::ModelError;
pub use crate::model::skeleton::Limits;
use crate::model::skeleton::{self, Mesh, Object, Skeleton};
use crate::model::types::{CURVE_TYPES, SURFACE_TYPES};

mod arrays;

use arrays::{Array, Kind, Stats};

/// What a valid tree holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TreeSummary {
    /// Groups, the root included.
    pub groups: usize,
    /// Leaves (parts, edge sets, vertex sets).
    pub leaves: usize,
    /// Shared meshes of the instanced form (0 for a plain tree).
    pub instances: usize,
    /// Triangles drawn (a shared mesh counts once for every leaf using it).
    pub triangles: usize,
}

/// Checks `geometry` (a tree, or `{"instances", "shapes"}`), found at JSON path `path` of the
/// request body.
///
/// ```
/// use ocp_notebook::model::validate::{check, Limits};
///
/// let tree = r#"{"id": "/G", "name": "G", "parts": [{"id": "/G/a", "name": "a",
///     "type": "shapes", "state": [1, 1],
///     "shape": {"vertices": [0,0,0, 1,0,0, 0,1,0], "triangles": [0, 1, 5], "edges": []}}]}"#;
/// let err = check(tree, "$", &Limits::default()).unwrap_err();
/// assert_eq!(err.to_string(), "$.parts[0].shape.triangles: index 5 out of range (3 vertices)");
/// ```
pub fn check(geometry: &str, path: &str, limits: &Limits) -> Result<TreeSummary, ModelError> {
    ARRAY_LIMIT.with(|limit| limit.set(limits.max_array_len));
    let skeleton: Skeleton<Shape> = Skeleton::read(geometry, path, limits)?;
    let mut walk = Walk {
        limits,
        summary: TreeSummary::default(),
        ids: HashSet::new(),
        instance_triangles: Vec::new(),
    };
    walk.summary.instances = skeleton.instances.len();
    for (i, shape) in skeleton.instances.iter().enumerate() {
        let path = format!("{}[{i}]", skeleton.instances_path);
        walk.instance_triangles
            .push(check_shape(shape, "shapes", &path)?);
    }
    walk.root(&skeleton.root, &skeleton.root_path)?;
    Ok(walk.summary)
}

thread_local! {
    /// Longest array the current validation accepts.
    static ARRAY_LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// A leaf's geometry (or one shared mesh), or `{"ref": N}` into the instances, with every array
/// summarised as it is read.
type Shape<'a> = Object<Mesh<Array<'a>>>;

type Node<'a> = skeleton::Node<'a, Shape<'a>>;

/// The walk over a parsed tree.
struct Walk<'l> {
    limits: &'l Limits,
    summary: TreeSummary,
    ids: HashSet<String>,
    /// Triangles of each shared mesh.
    instance_triangles: Vec<usize>,
}

impl Walk<'_> {
    fn root(&mut self, root: &Node, path: &str) -> Result<(), ModelError> {
        if root.parts.is_none() {
            return Err(ModelError::invalid(
                "the root of a shapes tree must be a group with \"parts\"",
                path,
            ));
        }
        let name = required(&root.name, "name", path)?;
        let id = required(&root.id, "id", path)?;
        if id != format!("/{name}") {
            return Err(ModelError::invalid(
                format!("the root's id is {id:?}; expected \"/{name}\" (\"/\" + its name)"),
                format!("{path}.id"),
            ));
        }
        self.node(root, path, 1)
    }

    fn node(&mut self, node: &Node, path: &str, depth: usize) -> Result<(), ModelError> {
        let id = required(&node.id, "id", path)?;
        if !self.ids.insert(id.to_string()) {
            return Err(ModelError::invalid(
                format!("id {id:?} is used twice; ids must be unique"),
                format!("{path}.id"),
            ));
        }
        if let Some(loc) = node.loc {
            check_loc(loc, &format!("{path}.loc"))?;
        }
        match (&node.parts, &node.shape) {
            (Some(_), Some(_)) => Err(ModelError::invalid(
                "a node is a group (\"parts\") or a leaf (\"shape\"), not both",
                path,
            )),
            (None, None) => Err(ModelError::invalid(
                "a node needs \"parts\" (a group) or \"shape\" (a leaf)",
                path,
            )),
            (Some(parts), None) => {
                if depth > self.limits.max_depth {
                    return Err(ModelError::invalid(
                        format!(
                            "groups nest deeper than {} levels (--max-depth)",
                            self.limits.max_depth
                        ),
                        path,
                    ));
                }
                self.summary.groups += 1;
                for (i, child) in parts.iter().enumerate() {
                    let child_path = format!("{path}.parts[{i}]");
                    let name = required(&child.name, "name", &child_path)?;
                    let child_id = required(&child.id, "id", &child_path)?;
                    if child_id
                        .strip_prefix(id)
                        .and_then(|rest| rest.strip_prefix('/'))
                        != Some(name)
                    {
                        return Err(ModelError::invalid(
                            format!("id {child_id:?} does not follow its parent: expected \"{id}/{name}\""),
                            format!("{child_path}.id"),
                        ));
                    }
                    self.node(child, &child_path, depth + 1)?;
                }
                Ok(())
            }
            (None, Some(shape)) => {
                self.summary.leaves += 1;
                self.leaf(node, shape, path)
            }
        }
    }

    fn leaf(&mut self, node: &Node, shape: &Shape, path: &str) -> Result<(), ModelError> {
        match &node.state {
            None => {
                return Err(ModelError::invalid(
                    "missing \"state\" ([faces, edges] visibility: 1 shown, 0 hidden, 3 n/a)",
                    path,
                ))
            }
            Some(state) if state.iter().any(|s| ![0.0, 1.0, 2.0, 3.0].contains(s)) => {
                return Err(ModelError::invalid(
                    format!("\"state\" is {state:?}; each value must be 0 (hidden), 1 (shown), 2 (mixed) or 3 (n/a)"),
                    format!("{path}.state"),
                ))
            }
            Some(state) if state.len() != 2 => {
                return Err(ModelError::invalid(
                    format!(
                        "\"state\" has {} values; expected [faces, edges]",
                        state.len()
                    ),
                    format!("{path}.state"),
                ))
            }
            Some(_) => {}
        }
        if let Some(alpha) = node.alpha.filter(|a| !(0.0..=1.0).contains(a)) {
            return Err(ModelError::invalid(
                format!("alpha {alpha} is outside 0..1"),
                format!("{path}.alpha"),
            ));
        }
        if let Some(color) = node.color.as_deref().filter(|c| !is_css_color(c)) {
            return Err(ModelError::invalid(
                format!("color {color:?} is not \"#rrggbb\""),
                format!("{path}.color"),
            ));
        }
        let kind = node.kind.as_deref().unwrap_or("shapes");
        if !matches!(kind, "shapes" | "edges" | "vertices") {
            return Err(ModelError::invalid(
                format!("\"type\" is {kind:?}; expected \"shapes\", \"edges\" or \"vertices\""),
                format!("{path}.type"),
            ));
        }
        let shape_path = format!("{path}.shape");
        match &shape.reference {
            Some(reference) => {
                let ref_path = format!("{shape_path}.ref");
                let index = reference.as_u64().ok_or_else(|| {
                    ModelError::invalid("\"ref\" must be a non-negative integer", &ref_path)
                })?;
                let triangles = self.instance_triangles.get(index as usize).ok_or_else(|| {
                    ModelError::invalid(
                        format!(
                            "ref {index} out of range ({} instances)",
                            self.summary.instances
                        ),
                        &ref_path,
                    )
                })?;
                if kind != "shapes" {
                    return Err(ModelError::invalid(
                        format!("a {kind:?} leaf cannot use a shared mesh"),
                        &ref_path,
                    ));
                }
                self.summary.triangles += triangles;
            }
            None => self.summary.triangles += check_shape(shape, kind, &shape_path)?,
        }
        Ok(())
    }
}

fn required<'n>(
    value: &'n Option<Cow<str>>,
    field: &str,
    path: &str,
) -> Result<&'n str, ModelError> {
    value
        .as_deref()
        .ok_or_else(|| ModelError::invalid(format!("missing \"{field}\""), path))
}

/// `loc` is `null` or `[[x, y, z], [qx, qy, qz, qw]]`.
fn check_loc(loc: &RawValue, path: &str) -> Result<(), ModelError> {
    let parsed: Option<([f64; 3], [f64; 4])> = serde_json::from_str(loc.get()).map_err(|_| {
        ModelError::invalid(
            "\"loc\" must be null or [[x, y, z], [qx, qy, qz, qw]]",
            path,
        )
    })?;
    if let Some((_, q)) = parsed {
        let norm = q.iter().map(|c| c * c).sum::<f64>().sqrt();
        if (norm - 1.0).abs() > 1e-3 {
            return Err(ModelError::invalid(
                format!("the rotation quaternion has length {norm:.4}; expected 1"),
                path,
            ));
        }
    }
    Ok(())
}

fn is_css_color(color: &str) -> bool {
    let hex = color.strip_prefix('#').unwrap_or("");
    matches!(hex.len(), 3 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks one mesh (a leaf's inline shape or a shared instance) of a leaf of type `kind`;
/// returns its triangle count.
fn check_shape(shape: &Shape, kind: &str, path: &str) -> Result<usize, ModelError> {
    if shape.reference.is_some() {
        return Err(ModelError::invalid(
            "a shared mesh cannot itself be a \"ref\"",
            format!("{path}.ref"),
        ));
    }
    let field = |name: &str| format!("{path}.{name}");
    let get =
        |array: &Option<Box<Array>>, name: &str, want: Kind| -> Result<Option<Stats>, ModelError> {
            array
                .as_ref()
                .map(|a| a.stats(&field(name), want))
                .transpose()
        };
    let require = |stats: Option<Stats>, name: &str, why: &str| {
        stats.ok_or_else(|| ModelError::invalid(format!("missing \"{name}\" ({why})"), path))
    };
    let coords =
        |stats: &Stats, name: &str, per: usize| check_coordinates(stats, &field(name), per);

    let vertices = get(&shape.vertices, "vertices", Kind::Float)?;
    let edges = get(&shape.edges, "edges", Kind::Float)?;
    let obj_vertices = get(&shape.obj_vertices, "obj_vertices", Kind::Float)?;
    let mut triangle_count = 0;
    if kind == "shapes" {
        let vertices = require(vertices, "vertices", "flat xyz per mesh vertex")?;
        coords(&vertices, "vertices", 3)?;
        let vertex_count = vertices.len / 3;
        if let Some(normals) = get(&shape.normals, "normals", Kind::Float)? {
            coords(&normals, "normals", 3)?;
            if normals.len != vertices.len {
                return Err(ModelError::invalid(
                    format!(
                        "{} normal values for {} vertex values; expected one normal per vertex",
                        normals.len, vertices.len
                    ),
                    field("normals"),
                ));
            }
        }
        let triangles = require(
            get(&shape.triangles, "triangles", Kind::Integer)?,
            "triangles",
            "3 vertex indices per triangle",
        )?;
        check_counts(&triangles, &field("triangles"), 3)?;
        if triangles.len > 0 && triangles.min < 0.0 {
            return Err(ModelError::invalid(
                format!("index {} is negative", triangles.min),
                field("triangles"),
            ));
        }
        if triangles.len > 0 && triangles.max >= vertex_count as f64 {
            return Err(ModelError::invalid(
                format!(
                    "index {} out of range ({vertex_count} vertices)",
                    triangles.max
                ),
                field("triangles"),
            ));
        }
        triangle_count = triangles.len / 3;
        let faces = get(
            &shape.triangles_per_face,
            "triangles_per_face",
            Kind::Integer,
        )?;
        if let Some(faces) = &faces {
            check_partition(
                faces,
                triangle_count,
                "triangles",
                &field("triangles_per_face"),
            )?;
        }
        if let Some(types) = get(&shape.face_types, "face_types", Kind::Integer)? {
            check_types(
                &types,
                faces.map(|f| f.len),
                "triangles_per_face",
                SURFACE_TYPES.len() - 1,
                &field("face_types"),
            )?;
        }
        if let Some(uvs) = get(&shape.uvs, "uvs", Kind::Float)? {
            coords(&uvs, "uvs", 2)?;
            if uvs.len / 2 != vertex_count {
                return Err(ModelError::invalid(
                    format!("{} uv pairs for {vertex_count} vertices", uvs.len / 2),
                    field("uvs"),
                ));
            }
        }
        require(edges, "edges", "line segments, may be empty")?;
    }
    if kind == "edges" {
        require(edges, "edges", "6 floats per line segment")?;
    }
    if let Some(edges) = edges {
        coords(&edges, "edges", 6)?;
        let segments = edges.len / 6;
        let per_edge = get(&shape.segments_per_edge, "segments_per_edge", Kind::Integer)?;
        if let Some(per_edge) = &per_edge {
            check_partition(per_edge, segments, "segments", &field("segments_per_edge"))?;
        }
        if let Some(types) = get(&shape.edge_types, "edge_types", Kind::Integer)? {
            check_types(
                &types,
                per_edge.map(|p| p.len),
                "segments_per_edge",
                CURVE_TYPES.len() - 1,
                &field("edge_types"),
            )?;
        }
    }
    if kind == "vertices" {
        require(obj_vertices, "obj_vertices", "flat xyz per vertex")?;
    }
    if let Some(points) = obj_vertices {
        coords(&points, "obj_vertices", 3)?;
    }
    Ok(triangle_count)
}

fn check_coordinates(stats: &Stats, path: &str, per: usize) -> Result<(), ModelError> {
    if let Some(at) = stats.non_finite {
        return Err(ModelError::invalid(
            format!("value {at} is not a finite number"),
            path,
        ));
    }
    if !stats.len.is_multiple_of(per) {
        return Err(ModelError::invalid(
            format!("{} values is not a multiple of {per}", stats.len),
            path,
        ));
    }
    Ok(())
}

fn check_counts(stats: &Stats, path: &str, per: usize) -> Result<(), ModelError> {
    if !stats.integers || stats.non_finite.is_some() {
        return Err(ModelError::invalid("expected integers", path));
    }
    check_coordinates(stats, path, per)
}

/// Per-face (per-edge) counts: non-negative integers that add up to the total.
fn check_partition(counts: &Stats, total: usize, what: &str, path: &str) -> Result<(), ModelError> {
    check_counts(counts, path, 1)?;
    if counts.len > 0 && counts.min < 0.0 {
        return Err(ModelError::invalid(
            format!("count {} is negative", counts.min),
            path,
        ));
    }
    if counts.sum != total as f64 {
        return Err(ModelError::invalid(
            format!(
                "the counts add up to {} but there are {total} {what}",
                counts.sum
            ),
            path,
        ));
    }
    Ok(())
}

/// Surface or curve types: one per face (edge), each an OCCT type number up to `max`.
fn check_types(
    types: &Stats,
    expected: Option<usize>,
    counted_by: &str,
    max: usize,
    path: &str,
) -> Result<(), ModelError> {
    check_counts(types, path, 1)?;
    if let Some(expected) = expected.filter(|n| *n != types.len) {
        return Err(ModelError::invalid(
            format!(
                "{} types for {expected} entries of \"{counted_by}\"",
                types.len
            ),
            path,
        ));
    }
    if types.len > 0 && (types.min < 0.0 || types.max > max as f64) {
        return Err(ModelError::invalid(
            format!(
                "types must be 0 to {max}; found {} to {}",
                types.min, types.max
            ),
            path,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
