//! The one reading of a model's tree. Validation, measurement, animation and everything else
//! that looks into a model read it here, so they cannot disagree about what a model says.
//!
//! A [`Skeleton`] borrows from the geometry's JSON text: the instanced form or a plain tree,
//! groups and leaves with their ids, names, states, colours and placements. What a leaf's
//! `shape` holds is read as the caller's type `S`: validation summarises each array while it is
//! read and keeps nothing ([`validate`](super::validate)); measurement keeps each mesh as
//! unread text ([`Unread`]) and decodes only the parts picked. Whitespace, key order and keys
//! the format does not name change nothing here.
//!
//! Reading is bounded by [`Limits`], checked while the text is read: a hostile nesting or a
//! million empty nodes is refused before it can exhaust the stack or memory.

use std::borrow::Cow;
use std::cell::Cell;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::ModelError;
use super::types::Location;
use crate::ids::PartHash;

/// The deepest nesting any model is read with: stored models are read again under it, so no
/// setting may allow more (`--max-depth`).
pub const DEEPEST: usize = 1024;

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

impl Limits {
    /// For reading a model that was checked when it was stored: under whatever limits the
    /// server had then, which may be above the defaults. Only the nesting keeps a bound, to keep
    /// the stack safe whatever the text.
    pub fn stored() -> Self {
        Limits {
            max_depth: DEEPEST,
            max_nodes: usize::MAX,
            max_array_len: usize::MAX,
        }
    }
}

/// A body in any of the three forms a client may POST, borrowed from it:
/// - ours: `{"viewer_id"?, "shapes": <tree or {"instances","shapes"}>, "config"?}`;
/// - ocp_vscode's message: `{"type": "data", "data": <tree or {"instances","shapes"}>,
///   "config", "count"?}` (also the form the server stores);
/// - a bare tree (`{"parts": [...], ...}`) or a bare instanced form (`{"instances", "shapes"}`).
pub struct Body<'a> {
    /// The geometry: a tree or the instanced form, as text.
    pub geometry: &'a str,
    /// Where the geometry is in the body (`$`, `$.data`, `$.shapes`).
    pub path: &'static str,
    /// `viewer_id`, unchecked.
    pub viewer_id: Option<String>,
    /// `config`: viewer settings sent with the model.
    pub config: Option<Map<String, Value>>,
}

/// The top level of any of the three forms.
#[derive(Deserialize)]
struct TopLevel<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    viewer_id: Option<String>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    shapes: Option<&'a RawValue>,
    #[serde(borrow)]
    instances: Option<&'a RawValue>,
    #[serde(borrow)]
    parts: Option<&'a RawValue>,
    config: Option<Map<String, Value>>,
}

impl<'a> Body<'a> {
    /// Finds the geometry of a body. Syntax errors are `Malformed`; a body of none of the forms
    /// is `Invalid` at the JSON path of the problem.
    pub fn read(body: &'a [u8]) -> Result<Self, ModelError> {
        expect_object(body)?;
        let mut de = serde_json::Deserializer::from_slice(body);
        let top: TopLevel = serde_path_to_error::deserialize(&mut de)
            .map_err(|err| ModelError::from_serde("$", err))?;
        de.end()
            .map_err(|err| ModelError::malformed(err.to_string()))?;
        let (geometry, path) = match (top.data, top.shapes) {
            (Some(data), _) => {
                if let Some(kind) = top.kind.as_deref().filter(|k| *k != "data") {
                    return Err(ModelError::invalid(
                        format!("message type {kind:?} carries no model; expected \"data\""),
                        "$.type",
                    ));
                }
                (data.get(), "$.data")
            }
            (None, Some(_)) if top.instances.is_some() => (whole(body)?, "$"),
            (None, Some(shapes)) => (shapes.get(), "$.shapes"),
            (None, None) if top.parts.is_some() => (whole(body)?, "$"),
            (None, None) => {
                return Err(ModelError::invalid(
                    "expected a model: {\"shapes\": <tree>}, an ocp_vscode message \
                     {\"type\": \"data\", \"data\": ...}, or a shapes tree with \"parts\"",
                    "$",
                ))
            }
        };
        Ok(Body {
            geometry,
            path,
            viewer_id: top.viewer_id,
            config: top.config,
        })
    }
}

/// The whole body as the geometry (the bare forms). It parsed as JSON already, so only its text
/// needs checking.
fn whole(body: &[u8]) -> Result<&str, ModelError> {
    let text = std::str::from_utf8(body)
        .map_err(|err| ModelError::malformed(format!("body is not UTF-8: {err}")))?;
    Ok(text.trim_matches(|c: char| c.is_ascii_whitespace()))
}

/// serde reads a struct from an array too; a model must be an object.
fn expect_object(body: &[u8]) -> Result<(), ModelError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        Some(b'[') => Err(ModelError::invalid(
            "expected a JSON object, got an array",
            "$",
        )),
        Some(_) => Err(ModelError::malformed(
            "body is not a JSON object: expected '{' at the start",
        )),
        None => Err(ModelError::malformed("the body is empty; expected JSON")),
    }
}

/// A model's tree, borrowed from its JSON, with each leaf's mesh read as `S`.
pub struct Skeleton<'a, S> {
    /// The root group.
    pub root: Node<'a, S>,
    /// The JSON path of the root: `$` for a tree, `$.shapes` inside the instanced form.
    pub root_path: String,
    /// The shared meshes of the instanced form (empty for a plain tree).
    pub instances: Vec<S>,
    /// Where they are (`$.instances`), for errors.
    pub instances_path: String,
}

impl<'a, S: Deserialize<'a>> Skeleton<'a, S> {
    /// Reads `geometry` (a tree, or `{"instances", "shapes"}`), found at JSON path `path`, within
    /// `limits`. Type errors name their JSON path; the tree's rules (ids, states, references)
    /// are for [`validate`](super::validate) to check.
    pub fn read(geometry: &'a str, path: &str, limits: &Limits) -> Result<Self, ModelError> {
        NODE_BUDGET.with(|budget| budget.set(limits.max_nodes));
        DEPTH.with(|depth| depth.set((0, limits.max_depth)));
        let mut de = serde_json::Deserializer::from_str(geometry);
        let top: Node<S> = serde_path_to_error::deserialize(&mut de)
            .map_err(|err| ModelError::from_serde(path, err))?;
        let instances_path = format!("{path}.instances");
        let mut top = top;
        match top.fields.instances.take() {
            None => Ok(Skeleton {
                root: top,
                root_path: path.to_string(),
                instances: Vec::new(),
                instances_path,
            }),
            Some(instances) => {
                let Some(root) = top.fields.shapes.take() else {
                    return Err(ModelError::invalid(
                        "the instanced form needs \"shapes\" beside \"instances\"",
                        path,
                    ));
                };
                Ok(Skeleton {
                    root: *root,
                    root_path: format!("{path}.shapes"),
                    instances: instances.0,
                    instances_path,
                })
            }
        }
    }
}

impl<'a, S> Skeleton<'a, S> {
    /// Every node's id (its path: groups and leaves), root first.
    pub fn paths(&self) -> Vec<&str> {
        fn walk<'n, S>(node: &'n Node<'_, S>, out: &mut Vec<&'n str>) {
            out.extend(node.id.as_deref());
            for child in node.parts.iter().flatten() {
                walk(child, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// The node whose id is `path`, with its placement in the world (its own `loc` after its
    /// groups'). A checked tree's ids are paths, so only a child whose id starts `path` is
    /// looked into.
    pub fn find(&self, path: &str) -> Option<(&Node<'a, S>, Location)> {
        fn walk<'n, 'a, S>(
            node: &'n Node<'a, S>,
            path: &str,
            outer: Location,
        ) -> Option<(&'n Node<'a, S>, Location)> {
            let place = node.location().unwrap_or(Location::IDENTITY).within(&outer);
            if node.id.as_deref() == Some(path) {
                return Some((node, place));
            }
            node.parts
                .iter()
                .flatten()
                .filter(|child| child.id.as_deref().is_some_and(|id| path.starts_with(id)))
                .find_map(|child| walk(child, path, place))
        }
        walk(&self.root, path, Location::IDENTITY)
    }
}

/// A mesh as the format names its arrays (a leaf's own, or a shared one of the instanced form),
/// each array read as `A`: validation summarises it while reading, measurement keeps its text
/// and decodes it when asked. Keys the format does not name are skipped unread.
#[derive(Deserialize)]
#[serde(bound(deserialize = "A: Deserialize<'de>"))]
pub struct Mesh<A> {
    /// `{"ref": n}`: the leaf draws shared mesh `n` of the instanced form.
    #[serde(rename = "ref")]
    pub reference: Option<serde_json::Number>,
    // Boxed, so that a mesh with few arrays (`{}` even) stays small: the skeleton of a hostile
    // upload costs a bounded few bytes per node.
    pub vertices: Option<Box<A>>,
    pub normals: Option<Box<A>>,
    pub triangles: Option<Box<A>>,
    pub triangles_per_face: Option<Box<A>>,
    pub face_types: Option<Box<A>>,
    pub edges: Option<Box<A>>,
    pub segments_per_edge: Option<Box<A>>,
    pub edge_types: Option<Box<A>>,
    pub obj_vertices: Option<Box<A>>,
    pub uvs: Option<Box<A>>,
}

/// A value that must be a JSON object. serde's derive also reads a struct from an array (its
/// fields in order), a form the renderer would not draw.
pub struct Object<T>(pub T);

impl<T> std::ops::Deref for Object<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Visitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: de::MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(Visitor(std::marker::PhantomData))
            .map(Object)
    }
}

impl<'a> Skeleton<'a, Unread<'a>> {
    /// The mesh a leaf draws: its own, or the shared one its `{"ref": n}` names; in a stored
    /// tree form, a part's placeholder stands for the text `parts` gives for its hash. `Err`
    /// says why there is none (a group, a reference out of range, a part not stored).
    pub fn mesh_of(
        &self,
        leaf: &Node<'a, Unread<'a>>,
        parts: &dyn Fn(&PartHash) -> Option<&'a str>,
    ) -> Result<Mesh<Unread<'a>>, String> {
        let id = leaf.id.as_deref().unwrap_or("?");
        let shape = leaf
            .shape
            .as_deref()
            .ok_or_else(|| format!("{id} is a group, not a part"))?;
        let read = |mesh: &Unread<'a>| match placeholder_of(mesh.0.get()) {
            Some(hash) => {
                let text =
                    parts(&hash).ok_or_else(|| format!("{id}: part {hash} is not stored"))?;
                serde_json::from_str(text).map_err(|err| format!("{id}: {err}"))
            }
            None => mesh.decode().map_err(|err| format!("{id}: {err}")),
        };
        // Read once: its arrays stay unread text, and a reference is read from the same pass.
        let mesh: Mesh<Unread> = read(shape)?;
        match mesh.reference {
            None => Ok(mesh),
            Some(index) => index
                .as_u64()
                .and_then(|i| self.instances.get(usize::try_from(i).ok()?))
                .ok_or_else(|| format!("{id}: its \"ref\" names no shared mesh"))
                .and_then(read),
        }
    }
}

/// What stands in a stored tree form for the mesh `part` (see `parts::split`).
pub fn placeholder(part: &PartHash) -> String {
    format!("{{\"part\":\"{part}\"}}")
}

/// The part a tree form's mesh text stands for, if it is a placeholder as [`placeholder`]
/// writes it.
pub fn placeholder_of(mesh: &str) -> Option<PartHash> {
    let hash = mesh.strip_prefix("{\"part\":\"")?.strip_suffix("\"}")?;
    PartHash::parse(hash).ok()
}

/// A value left as unread JSON text (a leaf's mesh, one of its arrays), decoded when asked for.
pub struct Unread<'a>(pub &'a RawValue);

impl<'de: 'a, 'a> Deserialize<'de> for Unread<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&RawValue>::deserialize(deserializer).map(Unread)
    }
}

impl<'a> Unread<'a> {
    /// The value read as `T`: a mesh as `Mesh<Unread>` for its arrays' text, or `Mesh<IgnoredAny>`
    /// for its reference alone; an array as `Array<f32>`.
    pub fn decode<T: Deserialize<'a>>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

thread_local! {
    /// Nodes the current reading may still take (see [`Limits::max_nodes`]).
    static NODE_BUDGET: Cell<usize> = const { Cell::new(0) };
    /// How deep the node being read is, and how deep nodes may go: checked while reading, so a
    /// hostile nesting is refused before it can exhaust the stack.
    static DEPTH: Cell<(usize, usize)> = const { Cell::new((0, usize::MAX)) };
}

/// Takes one node from the budget; `false` when none is left.
fn take_node() -> bool {
    NODE_BUDGET.with(|budget| budget.replace(budget.get().saturating_sub(1))) > 0
}

/// A node of the tree (a group or a leaf), or the top of the instanced form.
pub struct Node<'a, S> {
    fields: NodeFields<'a, S>,
}

impl<'a, S> std::ops::Deref for Node<'a, S> {
    type Target = NodeFields<'a, S>;
    fn deref(&self) -> &NodeFields<'a, S> {
        &self.fields
    }
}

impl<'a, S> Node<'a, S> {
    /// Its `loc`, if it has a readable one (validation refuses any other).
    pub fn location(&self) -> Option<Location> {
        let loc = self.loc?;
        serde_json::from_str::<Option<Location>>(loc.get())
            .ok()
            .flatten()
    }
}

impl<'de: 'a, 'a, S: Deserialize<'de>> Deserialize<'de> for Node<'a, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !take_node() {
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
        let fields = Object::<NodeFields<S>>::deserialize(deserializer).map(|object| object.0);
        DEPTH.with(|d| d.set((depth, max_depth)));
        Ok(Node { fields: fields? })
    }
}

/// What a node says, as the format names it.
#[derive(Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de>"))]
pub struct NodeFields<'a, S> {
    #[serde(borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub name: Option<Cow<'a, str>>,
    /// A leaf's `[faces, edges]` visibility.
    pub state: Option<State>,
    /// A leaf's kind: `shapes`, `edges` or `vertices`.
    #[serde(rename = "type", borrow)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub color: Option<Cow<'a, str>>,
    pub alpha: Option<f64>,
    /// `null` or `[[x, y, z], [qx, qy, qz, qw]]`, left as text for validation to check.
    #[serde(borrow)]
    pub loc: Option<&'a RawValue>,
    /// A group's children.
    #[serde(borrow)]
    pub parts: Option<Vec<Node<'a, S>>>,
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
    /// A leaf's mesh.
    pub shape: Option<Box<S>>,
    // The top of the instanced form.
    instances: Option<Instances<S>>,
    #[serde(borrow)]
    shapes: Option<Box<Node<'a, S>>>,
}

/// The shared meshes of the instanced form. Each counts as a node toward
/// [`Limits::max_nodes`], so a list of millions of `{}` is refused while it is read.
struct Instances<S>(Vec<S>);

impl<'de, S: Deserialize<'de>> Deserialize<'de> for Instances<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> de::Visitor<'de> for Visitor<S> {
            type Value = Instances<S>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of shapes")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut shapes = Vec::new();
                loop {
                    if !take_node() {
                        return Err(de::Error::custom(
                            "the model has more parts and shared meshes than this server accepts (--max-parts)",
                        ));
                    }
                    match seq.next_element::<S>()? {
                        Some(shape) => shapes.push(shape),
                        None => return Ok(Instances(shapes)),
                    }
                }
            }
        }
        deserializer.deserialize_seq(Visitor(std::marker::PhantomData))
    }
}

/// A leaf's `state`, read without keeping more values than a state can have: a hostile one
/// costs nothing however long it is.
pub struct State(Vec<f64>);

/// More values than any `state` holds; validation names the expected two.
const STATE_VALUES: usize = 4;

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = State;
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
                Ok(State(values))
            }
        }
        deserializer.deserialize_seq(Visitor)
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::ops::Deref for State {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
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
