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

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::error::ModelError;

mod arrays;

use arrays::{Array, Kind, Stats};

/// Bounds on what one model may hold, so a hostile upload cannot exhaust memory or stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of groups (the root is depth 1).
    pub max_depth: usize,
    /// Most nodes (groups and leaves) in the tree.
    pub max_nodes: usize,
    /// Most elements in one array (numbers, not bytes).
    pub max_array_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 48,
            max_nodes: 200_000,
            max_array_len: 200_000_000,
        }
    }
}

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
    let top: Node = NODE_BUDGET.with(|budget| {
        budget.set(limits.max_nodes);
        ARRAY_LIMIT.with(|limit| limit.set(limits.max_array_len));
        DEPTH.with(|depth| depth.set((0, limits.max_depth)));
        let mut de = serde_json::Deserializer::from_str(geometry);
        serde_path_to_error::deserialize(&mut de).map_err(|err| ModelError::from_serde(path, err))
    })?;
    let mut walk = Walk {
        limits,
        summary: TreeSummary::default(),
        ids: HashSet::new(),
        instance_triangles: Vec::new(),
    };
    match &top.instances {
        Some(instances) => {
            walk.summary.instances = instances.len();
            for (i, shape) in instances.iter().enumerate() {
                let triangles = check_shape(shape, "shapes", &format!("{path}.instances[{i}]"))?;
                walk.instance_triangles.push(triangles);
            }
            let tree = top.shapes.as_deref().ok_or_else(|| {
                ModelError::invalid(
                    "the instanced form needs \"shapes\" beside \"instances\"",
                    path,
                )
            })?;
            walk.root(tree, &format!("{path}.shapes"))?;
        }
        None => walk.root(&top, path)?,
    }
    Ok(walk.summary)
}

thread_local! {
    /// Nodes the current validation may still read (see [`Limits::max_nodes`]).
    static NODE_BUDGET: Cell<usize> = const { Cell::new(0) };
    /// Longest array the current validation accepts.
    static ARRAY_LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
    /// How deep the node being read is, and how deep nodes may go: checked while reading, so a
    /// hostile nesting is refused before it can exhaust the stack.
    static DEPTH: Cell<(usize, usize)> = const { Cell::new((0, usize::MAX)) };
}

/// A node of the tree, or the top of the instanced form.
struct Node<'a> {
    inner: NodeFields<'a>,
}

impl<'a> std::ops::Deref for Node<'a> {
    type Target = NodeFields<'a>;
    fn deref(&self) -> &NodeFields<'a> {
        &self.inner
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Node<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let exhausted = NODE_BUDGET.with(|budget| {
            let left = budget.get();
            budget.set(left.saturating_sub(1));
            left == 0
        });
        if exhausted {
            return Err(de::Error::custom(
                "the tree has more groups and parts than this server accepts (--max-parts)",
            ));
        }
        let (depth, max_depth) = DEPTH.with(Cell::get);
        // The top of the instanced form and the root each take a level.
        if depth > max_depth + 1 {
            return Err(de::Error::custom(format!(
                "groups nest deeper than {max_depth} levels (--max-depth)"
            )));
        }
        DEPTH.with(|d| d.set((depth + 1, max_depth)));
        let inner = NodeFields::deserialize(deserializer);
        DEPTH.with(|d| d.set((depth, max_depth)));
        Ok(Node { inner: inner? })
    }
}

#[derive(Deserialize)]
struct NodeFields<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    state: Option<StateField>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    color: Option<Cow<'a, str>>,
    alpha: Option<f64>,
    loc: Option<&'a RawValue>,
    #[serde(borrow)]
    parts: Option<Vec<Node<'a>>>,
    // Numbers the renderer reads beside the geometry: read (not skipped) so that one out of
    // f64's range (1e999, Infinity to a page) is refused.
    #[serde(rename = "bb")]
    _bounds: Option<AnyFinite>,
    #[serde(rename = "normal_len")]
    _normal_len: Option<AnyFinite>,
    #[serde(rename = "accuracy")]
    _accuracy: Option<AnyFinite>,
    #[serde(rename = "width")]
    _width: Option<AnyFinite>,
    #[serde(rename = "size")]
    _size: Option<AnyFinite>,
    #[serde(borrow)]
    shape: Option<Box<Shape<'a>>>,
    #[serde(borrow)]
    instances: Option<Instances<'a>>,
    #[serde(borrow)]
    shapes: Option<Box<Node<'a>>>,
}

/// A leaf's geometry (or one shared mesh), or `{"ref": N}` into the instances. Arrays are
/// boxed so that a shape with few of them (`{}` even) stays small: the skeleton of a hostile
/// upload costs a bounded few bytes per node.
#[derive(Deserialize)]
struct Shape<'a> {
    #[serde(rename = "ref")]
    reference: Option<serde_json::Number>,
    #[serde(borrow)]
    vertices: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    normals: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    triangles: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    triangles_per_face: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    face_types: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    edges: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    segments_per_edge: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    edge_types: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    obj_vertices: Option<Box<Array<'a>>>,
    #[serde(borrow)]
    uvs: Option<Box<Array<'a>>>,
}

/// The shared meshes of the instanced form. Each counts as a node toward
/// [`Limits::max_nodes`], so a list of millions of `{}` is refused while it is read.
struct Instances<'a>(Vec<Shape<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Instances<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for Visitor<'a> {
            type Value = Instances<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of shapes")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut shapes = Vec::new();
                loop {
                    if NODE_BUDGET.with(|budget| budget.replace(budget.get().saturating_sub(1)))
                        == 0
                    {
                        return Err(de::Error::custom(
                            "the model has more parts and shared meshes than this server accepts (--max-parts)",
                        ));
                    }
                    match seq.next_element::<Shape<'a>>()? {
                        Some(shape) => shapes.push(shape),
                        None => return Ok(Instances(shapes)),
                    }
                }
            }
        }
        deserializer.deserialize_seq(Visitor(std::marker::PhantomData))
    }
}

impl<'a> std::ops::Deref for Instances<'a> {
    type Target = [Shape<'a>];
    fn deref(&self) -> &[Shape<'a>] {
        &self.0
    }
}

/// A leaf's `state`, read without keeping more values than a state can have: a hostile one
/// costs nothing however long it is.
struct StateField(Vec<f64>);

/// More values than any `state` holds; the walk names the expected two.
const STATE_VALUES: usize = 4;

impl<'de> Deserialize<'de> for StateField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = StateField;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("[faces, edges]")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<f64>()? {
                    if values.len() == STATE_VALUES {
                        return Err(de::Error::custom(
                            "\"state\" has more than two values; expected [faces, edges]",
                        ));
                    }
                    values.push(value);
                }
                Ok(StateField(values))
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

impl std::fmt::Debug for StateField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::ops::Deref for StateField {
    type Target = Vec<f64>;
    fn deref(&self) -> &Vec<f64> {
        &self.0
    }
}

/// Any JSON value, read only so that every number in it is parsed: serde_json refuses a number
/// out of f64's range when it reads one, but skips unknown fields unread. Nothing is kept.
struct AnyFinite;

impl<'de> Deserialize<'de> for AnyFinite {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = AnyFinite;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<AnyFinite, E> {
                Ok(AnyFinite)
            }
            fn visit_i64<E>(self, _: i64) -> Result<AnyFinite, E> {
                Ok(AnyFinite)
            }
            fn visit_u64<E>(self, _: u64) -> Result<AnyFinite, E> {
                Ok(AnyFinite)
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<AnyFinite, E> {
                match value.is_finite() {
                    true => Ok(AnyFinite),
                    false => Err(E::custom("numbers must be finite")),
                }
            }
            fn visit_str<E>(self, _: &str) -> Result<AnyFinite, E> {
                Ok(AnyFinite)
            }
            fn visit_unit<E>(self) -> Result<AnyFinite, E> {
                Ok(AnyFinite)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnyFinite, A::Error> {
                while seq.next_element::<AnyFinite>()?.is_some() {}
                Ok(AnyFinite)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<AnyFinite, A::Error> {
                while map.next_entry::<de::IgnoredAny, AnyFinite>()?.is_some() {}
                Ok(AnyFinite)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

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
                10,
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
                8,
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
    max: u32,
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
