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

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{from_serde, ApiError};

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
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
pub fn check(geometry: &str, path: &str, limits: &Limits) -> Result<TreeSummary, ApiError> {
    let top: Node = NODE_BUDGET.with(|budget| {
        budget.set(limits.max_nodes);
        ARRAY_LIMIT.with(|limit| limit.set(limits.max_array_len));
        DEPTH.with(|depth| depth.set((0, limits.max_depth)));
        let mut de = serde_json::Deserializer::from_str(geometry);
        serde_path_to_error::deserialize(&mut de).map_err(|err| from_serde(path, err))
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
                ApiError::invalid(
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
                "the tree has more nodes than this server accepts",
            ));
        }
        let (depth, max_depth) = DEPTH.with(Cell::get);
        // The top of the instanced form and the root each take a level.
        if depth > max_depth + 1 {
            return Err(de::Error::custom(format!(
                "groups nest deeper than {max_depth} levels"
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
    state: Option<Vec<f64>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    color: Option<Cow<'a, str>>,
    alpha: Option<f64>,
    loc: Option<&'a RawValue>,
    #[serde(borrow)]
    parts: Option<Vec<Node<'a>>>,
    #[serde(borrow)]
    shape: Option<Shape<'a>>,
    #[serde(borrow)]
    instances: Option<Vec<Shape<'a>>>,
    #[serde(borrow)]
    shapes: Option<Box<Node<'a>>>,
}

/// A leaf's geometry (or one shared mesh), or `{"ref": N}` into the instances.
#[derive(Deserialize)]
struct Shape<'a> {
    #[serde(rename = "ref")]
    reference: Option<serde_json::Number>,
    #[serde(borrow)]
    vertices: Option<Array<'a>>,
    #[serde(borrow)]
    normals: Option<Array<'a>>,
    #[serde(borrow)]
    triangles: Option<Array<'a>>,
    #[serde(borrow)]
    triangles_per_face: Option<Array<'a>>,
    #[serde(borrow)]
    face_types: Option<Array<'a>>,
    #[serde(borrow)]
    edges: Option<Array<'a>>,
    #[serde(borrow)]
    segments_per_edge: Option<Array<'a>>,
    #[serde(borrow)]
    edge_types: Option<Array<'a>>,
    #[serde(borrow)]
    obj_vertices: Option<Array<'a>>,
    #[serde(borrow)]
    uvs: Option<Array<'a>>,
}

/// An array as read: plain numbers (already summarised) or an encoded buffer (still text).
enum Array<'a> {
    Plain(Stats),
    Encoded(Encoded<'a>),
}

struct Encoded<'a> {
    shape: Vec<u64>,
    dtype: Dtype,
    buffer: Cow<'a, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    Float32,
    Int32,
    Uint32,
}

/// What the checks need to know of an array's values.
#[derive(Debug, Clone, Copy)]
struct Stats {
    len: usize,
    integers: bool,
    min: f64,
    max: f64,
    sum: f64,
    /// Index of the first value that is not finite, if any.
    non_finite: Option<usize>,
}

impl Stats {
    fn new() -> Self {
        Stats {
            len: 0,
            integers: true,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
            non_finite: None,
        }
    }

    /// Adds decoded integers: no fractions and no infinities to look for.
    fn add_integers(&mut self, values: impl Iterator<Item = i64>) {
        let (mut min, mut max, mut sum) = (i64::MAX, i64::MIN, 0i64);
        for value in values {
            min = min.min(value);
            max = max.max(value);
            sum = sum.wrapping_add(value);
        }
        if min <= max {
            self.min = self.min.min(min as f64);
            self.max = self.max.max(max as f64);
            self.sum += sum as f64;
        }
    }

    fn add(&mut self, value: f64) {
        if !value.is_finite() {
            self.non_finite.get_or_insert(self.len);
        } else {
            self.integers &= value.fract() == 0.0;
            self.min = self.min.min(value);
            self.max = self.max.max(value);
            self.sum += value;
        }
        self.len += 1;
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Array<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ArrayVisitor(std::marker::PhantomData))
    }
}

struct ArrayVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ArrayVisitor<'a> {
    type Value = Array<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of numbers or an encoded buffer {\"shape\", \"dtype\", \"buffer\", \"codec\": \"b64\"}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let limit = ARRAY_LIMIT.with(Cell::get);
        let mut stats = Stats::new();
        while let Some(value) = seq.next_element::<f64>()? {
            if stats.len == limit {
                return Err(de::Error::custom(format!("more than {limit} elements")));
            }
            stats.add(value);
        }
        Ok(Array::Plain(stats))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut shape, mut dtype, mut buffer, mut codec) = (None, None, None, None);
        while let Some(key) = map.next_key::<BorrowedStr>()? {
            match key.0.as_ref() {
                "shape" => shape = Some(map.next_value::<ShapeField>()?.0),
                "dtype" => dtype = Some(map.next_value::<BorrowedStr>()?.0),
                "buffer" => buffer = Some(map.next_value::<BorrowedStr>()?.0),
                "codec" => codec = Some(map.next_value::<BorrowedStr>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let missing = |field| de::Error::custom(format!("an encoded buffer needs \"{field}\""));
        let codec = codec.ok_or_else(|| missing("codec"))?;
        if codec != "b64" {
            return Err(de::Error::custom(format!(
                "codec {codec:?} is not supported; expected \"b64\""
            )));
        }
        let dtype = match dtype.ok_or_else(|| missing("dtype"))?.as_ref() {
            "float32" => Dtype::Float32,
            "int32" => Dtype::Int32,
            "uint32" => Dtype::Uint32,
            other => {
                return Err(de::Error::custom(format!(
                "dtype {other:?} is not supported; expected \"float32\", \"int32\" or \"uint32\""
            )))
            }
        };
        Ok(Array::Encoded(Encoded {
            shape: shape.ok_or_else(|| missing("shape"))?,
            dtype,
            buffer: buffer.ok_or_else(|| missing("buffer"))?,
        }))
    }
}

/// A string borrowed from the body when it has no escapes (serde's own `Cow<str>` always
/// copies, which for a 40 MB model means copying every buffer).
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> Visitor<'de> for StrVisitor {
            type Value = BorrowedStr<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_string())))
            }
        }

        deserializer.deserialize_str(StrVisitor)
    }
}

/// `shape` of an encoded buffer: `[n]` (ocp-tessellate) or a plain number.
struct ShapeField(Vec<u64>);

impl<'de> Deserialize<'de> for ShapeField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            List(Vec<u64>),
            One(u64),
        }
        match Form::deserialize(deserializer) {
            Ok(Form::List(dims)) => Ok(ShapeField(dims)),
            Ok(Form::One(n)) => Ok(ShapeField(vec![n])),
            Err(_) => Err(de::Error::custom(
                "\"shape\" must be a list of non-negative integers",
            )),
        }
    }
}

impl Array<'_> {
    /// The values' summary, decoding a buffer if needed. `path` names the array in errors.
    fn stats(&self, path: &str, want: Kind) -> Result<Stats, ApiError> {
        match self {
            Array::Plain(stats) => Ok(*stats),
            Array::Encoded(encoded) => encoded.stats(path, want),
        }
    }
}

/// What an array holds: coordinates (floats) or counts and indices (integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Integer,
}

impl Encoded<'_> {
    fn stats(&self, path: &str, want: Kind) -> Result<Stats, ApiError> {
        let count = self
            .shape
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .filter(|n| *n <= ARRAY_LIMIT.with(Cell::get) as u64)
            .ok_or_else(|| {
                ApiError::invalid(
                    "\"shape\" is larger than this server accepts",
                    format!("{path}.shape"),
                )
            })? as usize;
        match (want, self.dtype) {
            (Kind::Float, Dtype::Float32) | (Kind::Integer, Dtype::Int32 | Dtype::Uint32) => {}
            (Kind::Float, other) => {
                return Err(ApiError::invalid(
                    format!("dtype {other:?} holds integers; coordinates need float32"),
                    format!("{path}.dtype"),
                ))
            }
            (Kind::Integer, other) => {
                return Err(ApiError::invalid(
                    format!(
                        "dtype {other:?} holds floats; counts and indices need int32 or uint32"
                    ),
                    format!("{path}.dtype"),
                ))
            }
        }
        let text = self.buffer.as_bytes();
        let padding = text
            .iter()
            .rev()
            .take(2)
            .take_while(|b| **b == b'=')
            .count();
        let decoded_len = (text.len() / 4 * 3).saturating_sub(padding);
        if !text.len().is_multiple_of(4) || decoded_len != count * 4 {
            return Err(ApiError::invalid(
                format!(
                    "the buffer holds {decoded_len} bytes but shape {:?} of {} needs {}",
                    self.shape,
                    self.dtype.name(),
                    count * 4
                ),
                format!("{path}.buffer"),
            ));
        }
        let mut stats = Stats::new();
        stats.len = count;
        let mut scratch = vec![0u8; CHUNK / 4 * 3];
        let mut index = 0;
        for (n, chunk) in text.chunks(CHUNK).enumerate() {
            let words = base64_simd::STANDARD
                .decode(chunk, base64_simd::Out::from_slice(&mut scratch))
                .map_err(|_| {
                    let detail = explain_base64(chunk, n * CHUNK);
                    ApiError::invalid(
                        format!("the buffer is not valid base64: {detail}"),
                        format!("{path}.buffer"),
                    )
                })?;
            match self.dtype {
                Dtype::Float32 => {
                    if stats.non_finite.is_none() {
                        stats.non_finite = first_non_finite(words).map(|at| index + at);
                    }
                }
                Dtype::Int32 => stats.add_integers(
                    words
                        .chunks_exact(4)
                        .map(|w| i32::from_le_bytes([w[0], w[1], w[2], w[3]]) as i64),
                ),
                Dtype::Uint32 => stats.add_integers(
                    words
                        .chunks_exact(4)
                        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as i64),
                ),
            }
            index += words.len() / 4;
        }
        Ok(stats)
    }
}

/// Index of the first float32 (little-endian) that is NaN or infinite: all exponent bits set.
/// The common case (all finite) is a branch-free pass the compiler vectorises.
fn first_non_finite(words: &[u8]) -> Option<usize> {
    const EXPONENT: u32 = 0x7F80_0000;
    let bits = |w: &[u8]| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) & EXPONENT;
    let any = words
        .chunks_exact(4)
        .fold(false, |found, w| found | (bits(w) == EXPONENT));
    if any {
        words.chunks_exact(4).position(|w| bits(w) == EXPONENT)
    } else {
        None
    }
}

/// Where a chunk of base64 text goes wrong (the fast decoder only says that it does).
fn explain_base64(chunk: &[u8], offset: usize) -> String {
    match BASE64.decode(chunk) {
        Err(base64::DecodeError::InvalidByte(at, byte)) => {
            format!("invalid byte {:?} at offset {}", byte as char, offset + at)
        }
        Err(other) => other.to_string(),
        Ok(_) => format!("bad padding near offset {offset}"),
    }
}

/// Base64 text decoded at a time (a multiple of 4).
const CHUNK: usize = 64 * 1024;

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::Float32 => "float32",
            Dtype::Int32 => "int32",
            Dtype::Uint32 => "uint32",
        }
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
    fn root(&mut self, root: &Node, path: &str) -> Result<(), ApiError> {
        if root.parts.is_none() {
            return Err(ApiError::invalid(
                "the root of a shapes tree must be a group with \"parts\"",
                path,
            ));
        }
        let name = required(&root.name, "name", path)?;
        let id = required(&root.id, "id", path)?;
        if id != format!("/{name}") {
            return Err(ApiError::invalid(
                format!("the root's id is {id:?}; expected \"/{name}\" (\"/\" + its name)"),
                format!("{path}.id"),
            ));
        }
        self.node(root, path, 1)
    }

    fn node(&mut self, node: &Node, path: &str, depth: usize) -> Result<(), ApiError> {
        let id = required(&node.id, "id", path)?;
        if !self.ids.insert(id.to_string()) {
            return Err(ApiError::invalid(
                format!("id {id:?} is used twice; ids must be unique"),
                format!("{path}.id"),
            ));
        }
        if let Some(loc) = node.loc {
            check_loc(loc, &format!("{path}.loc"))?;
        }
        match (&node.parts, &node.shape) {
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "a node is a group (\"parts\") or a leaf (\"shape\"), not both",
                path,
            )),
            (None, None) => Err(ApiError::invalid(
                "a node needs \"parts\" (a group) or \"shape\" (a leaf)",
                path,
            )),
            (Some(parts), None) => {
                if depth > self.limits.max_depth {
                    return Err(ApiError::invalid(
                        format!("groups nest deeper than {} levels", self.limits.max_depth),
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
                        return Err(ApiError::invalid(
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

    fn leaf(&mut self, node: &Node, shape: &Shape, path: &str) -> Result<(), ApiError> {
        match &node.state {
            None => {
                return Err(ApiError::invalid(
                    "missing \"state\" ([faces, edges] visibility: 1 shown, 0 hidden, 3 n/a)",
                    path,
                ))
            }
            Some(state) if state.len() != 2 => {
                return Err(ApiError::invalid(
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
            return Err(ApiError::invalid(
                format!("alpha {alpha} is outside 0..1"),
                format!("{path}.alpha"),
            ));
        }
        if let Some(color) = node.color.as_deref().filter(|c| !is_css_color(c)) {
            return Err(ApiError::invalid(
                format!("color {color:?} is not \"#rrggbb\""),
                format!("{path}.color"),
            ));
        }
        let kind = node.kind.as_deref().unwrap_or("shapes");
        if !matches!(kind, "shapes" | "edges" | "vertices") {
            return Err(ApiError::invalid(
                format!("\"type\" is {kind:?}; expected \"shapes\", \"edges\" or \"vertices\""),
                format!("{path}.type"),
            ));
        }
        let shape_path = format!("{path}.shape");
        match &shape.reference {
            Some(reference) => {
                let ref_path = format!("{shape_path}.ref");
                let index = reference.as_u64().ok_or_else(|| {
                    ApiError::invalid("\"ref\" must be a non-negative integer", &ref_path)
                })?;
                let triangles = self.instance_triangles.get(index as usize).ok_or_else(|| {
                    ApiError::invalid(
                        format!(
                            "ref {index} out of range ({} instances)",
                            self.summary.instances
                        ),
                        &ref_path,
                    )
                })?;
                if kind != "shapes" {
                    return Err(ApiError::invalid(
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

fn required<'n>(value: &'n Option<Cow<str>>, field: &str, path: &str) -> Result<&'n str, ApiError> {
    value
        .as_deref()
        .ok_or_else(|| ApiError::invalid(format!("missing \"{field}\""), path))
}

/// `loc` is `null` or `[[x, y, z], [qx, qy, qz, qw]]`.
fn check_loc(loc: &RawValue, path: &str) -> Result<(), ApiError> {
    let parsed: Option<([f64; 3], [f64; 4])> = serde_json::from_str(loc.get()).map_err(|_| {
        ApiError::invalid(
            "\"loc\" must be null or [[x, y, z], [qx, qy, qz, qw]]",
            path,
        )
    })?;
    if let Some((_, q)) = parsed {
        let norm = q.iter().map(|c| c * c).sum::<f64>().sqrt();
        if (norm - 1.0).abs() > 1e-3 {
            return Err(ApiError::invalid(
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
fn check_shape(shape: &Shape, kind: &str, path: &str) -> Result<usize, ApiError> {
    if shape.reference.is_some() {
        return Err(ApiError::invalid(
            "a shared mesh cannot itself be a \"ref\"",
            format!("{path}.ref"),
        ));
    }
    let field = |name: &str| format!("{path}.{name}");
    let get = |array: &Option<Array>, name: &str, want: Kind| -> Result<Option<Stats>, ApiError> {
        array
            .as_ref()
            .map(|a| a.stats(&field(name), want))
            .transpose()
    };
    let require = |stats: Option<Stats>, name: &str, why: &str| {
        stats.ok_or_else(|| ApiError::invalid(format!("missing \"{name}\" ({why})"), path))
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
                return Err(ApiError::invalid(
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
            return Err(ApiError::invalid(
                format!("index {} is negative", triangles.min),
                field("triangles"),
            ));
        }
        if triangles.len > 0 && triangles.max >= vertex_count as f64 {
            return Err(ApiError::invalid(
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
                return Err(ApiError::invalid(
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

fn check_coordinates(stats: &Stats, path: &str, per: usize) -> Result<(), ApiError> {
    if let Some(at) = stats.non_finite {
        return Err(ApiError::invalid(
            format!("value {at} is not a finite number"),
            path,
        ));
    }
    if !stats.len.is_multiple_of(per) {
        return Err(ApiError::invalid(
            format!("{} values is not a multiple of {per}", stats.len),
            path,
        ));
    }
    Ok(())
}

fn check_counts(stats: &Stats, path: &str, per: usize) -> Result<(), ApiError> {
    if !stats.integers || stats.non_finite.is_some() {
        return Err(ApiError::invalid("expected integers", path));
    }
    check_coordinates(stats, path, per)
}

/// Per-face (per-edge) counts: non-negative integers that add up to the total.
fn check_partition(counts: &Stats, total: usize, what: &str, path: &str) -> Result<(), ApiError> {
    check_counts(counts, path, 1)?;
    if counts.len > 0 && counts.min < 0.0 {
        return Err(ApiError::invalid(
            format!("count {} is negative", counts.min),
            path,
        ));
    }
    if counts.sum != total as f64 {
        return Err(ApiError::invalid(
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
) -> Result<(), ApiError> {
    check_counts(types, path, 1)?;
    if let Some(expected) = expected.filter(|n| *n != types.len) {
        return Err(ApiError::invalid(
            format!(
                "{} types for {expected} entries of \"{counted_by}\"",
                types.len
            ),
            path,
        ));
    }
    if types.len > 0 && (types.min < 0.0 || types.max > max as f64) {
        return Err(ApiError::invalid(
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
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn b64(kind: &str, bytes: Vec<u8>, len: usize) -> Value {
        json!({"shape": [len], "dtype": kind, "buffer": BASE64.encode(bytes), "codec": "b64"})
    }

    fn f32s(values: &[f32]) -> Value {
        b64(
            "float32",
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            values.len(),
        )
    }

    fn i32s(values: &[i32]) -> Value {
        b64(
            "int32",
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            values.len(),
        )
    }

    /// A valid instanced model: one triangle mesh (2 faces) used by two leaves, plus an edges leaf.
    fn model() -> Value {
        let quad = json!({
            "vertices": f32s(&[0., 0., 0., 1., 0., 0., 1., 1., 0., 0., 1., 0.]),
            "normals": f32s(&[0., 0., 1., 0., 0., 1., 0., 0., 1., 0., 0., 1.]),
            "triangles": i32s(&[0, 1, 2, 0, 2, 3]),
            "triangles_per_face": i32s(&[1, 1]),
            "face_types": i32s(&[0, 0]),
            "edges": f32s(&[0., 0., 0., 1., 0., 0.]),
            "segments_per_edge": i32s(&[1]),
            "edge_types": i32s(&[0]),
            "obj_vertices": f32s(&[0., 0., 0., 1., 0., 0.]),
        });
        json!({
            "instances": [quad],
            "shapes": {"version": 3, "id": "/G", "name": "G", "loc": null, "parts": [
                {"id": "/G/a", "name": "a", "type": "shapes", "state": [1, 1], "color": "#ff0000",
                 "alpha": 1.0, "loc": [[0, 0, 0], [0, 0, 0, 1]], "shape": {"ref": 0}},
                {"id": "/G/sub", "name": "sub", "parts": [
                    {"id": "/G/sub/b", "name": "b", "state": [1, 1], "shape": {"ref": 0}},
                    {"id": "/G/sub/e", "name": "e", "type": "edges", "state": [3, 1],
                     "shape": {"edges": [0, 0, 0, 0, 1, 0], "segments_per_edge": [1]}}
                ]}
            ]}
        })
    }

    fn error_for(mutate: impl FnOnce(&mut Value)) -> ApiError {
        let mut value = model();
        mutate(&mut value);
        check(&value.to_string(), "$.data", &Limits::default()).expect_err("invalid")
    }

    #[test]
    fn a_valid_model_passes_and_is_counted() {
        let summary = check(&model().to_string(), "$.data", &Limits::default()).unwrap();
        assert_eq!(
            summary,
            TreeSummary {
                groups: 2,
                leaves: 3,
                instances: 1,
                triangles: 4
            }
        );
    }

    #[test]
    fn each_violation_is_reported_at_its_path() {
        const I: &str = "/instances/0";
        type Mutation = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Mutation, &str, &str)> = vec![
            (
                Box::new(|v| {
                    v.pointer_mut("/shapes/parts/0")
                        .unwrap()
                        .as_object_mut()
                        .unwrap()
                        .remove("state")
                        .map(|_| ())
                        .unwrap()
                }),
                "$.data.shapes.parts[0]",
                "missing \"state\"",
            ),
            (
                Box::new(|v| *v.pointer_mut("/shapes/parts/1/parts/0/id").unwrap() = json!("/G/b")),
                "$.data.shapes.parts[1].parts[0].id",
                "does not follow its parent",
            ),
            (
                Box::new(|v| *v.pointer_mut("/shapes/parts/1/id").unwrap() = json!("/G/a")),
                "$.data.shapes.parts[1].id",
                "does not follow its parent",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut("/shapes/parts/1/name").unwrap() = json!("a");
                    *v.pointer_mut("/shapes/parts/1/id").unwrap() = json!("/G/a");
                }),
                "$.data.shapes.parts[1].id",
                "used twice",
            ),
            (
                Box::new(|v| *v.pointer_mut("/shapes/id").unwrap() = json!("G")),
                "$.data.shapes.id",
                "the root's id",
            ),
            (
                Box::new(|v| *v.pointer_mut("/shapes/parts/0/shape/ref").unwrap() = json!(1)),
                "$.data.shapes.parts[0].shape.ref",
                "ref 1 out of range (1 instances)",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/triangles")).unwrap() = i32s(&[0, 1, 9, 0, 2, 3])
                }),
                "$.data.instances[0].triangles",
                "index 9 out of range (4 vertices)",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/triangles")).unwrap() = i32s(&[0, 1, 2, 0, 2])
                }),
                "$.data.instances[0].triangles",
                "not a multiple of 3",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/vertices")).unwrap() =
                        f32s(&[0., 0., 0., 1., 0., 0., 1., 1., 0., 0., 1., f32::NAN])
                }),
                "$.data.instances[0].vertices",
                "value 11 is not a finite number",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/normals")).unwrap() = f32s(&[0., 0., 1.])
                }),
                "$.data.instances[0].normals",
                "one normal per vertex",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/triangles_per_face")).unwrap() = i32s(&[1, 2])
                }),
                "$.data.instances[0].triangles_per_face",
                "add up to 3 but there are 2 triangles",
            ),
            (
                Box::new(|v| *v.pointer_mut(&format!("{I}/face_types")).unwrap() = i32s(&[0])),
                "$.data.instances[0].face_types",
                "1 types for 2 entries",
            ),
            (
                Box::new(|v| *v.pointer_mut(&format!("{I}/face_types")).unwrap() = i32s(&[0, 42])),
                "$.data.instances[0].face_types",
                "types must be 0 to 10",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/edges")).unwrap() = f32s(&[0., 0., 0., 1., 0.])
                }),
                "$.data.instances[0].edges",
                "not a multiple of 6",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/segments_per_edge")).unwrap() = i32s(&[2])
                }),
                "$.data.instances[0].segments_per_edge",
                "add up to 2 but there are 1 segments",
            ),
            (
                Box::new(|v| *v.pointer_mut(&format!("{I}/edge_types")).unwrap() = i32s(&[0, 0])),
                "$.data.instances[0].edge_types",
                "2 types for 1 entries",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/vertices/buffer")).unwrap() = json!("AAAA!!!!")
                }),
                "$.data.instances[0].vertices.buffer",
                "holds 6 bytes but shape [12]",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/triangles/buffer")).unwrap() =
                        json!(format!("{}#AAA", &BASE64.encode([0u8; 24])[..28]))
                }),
                "$.data.instances[0].triangles.buffer",
                "invalid byte '#' at offset 28",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/triangles/dtype")).unwrap() = json!("float32")
                }),
                "$.data.instances[0].triangles.dtype",
                "counts and indices need int32",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut(&format!("{I}/vertices/codec")).unwrap() = json!("zlib")
                }),
                "$.data.instances[0].vertices",
                "codec \"zlib\" is not supported",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut("/shapes/parts/1/parts/1/shape/edges")
                        .unwrap() = json!([0, 0, "x"])
                }),
                "$.data.shapes.parts[1].parts[1].shape.edges[2]",
                "invalid type",
            ),
            (
                Box::new(|v| {
                    v.pointer_mut(I)
                        .unwrap()
                        .as_object_mut()
                        .unwrap()
                        .remove("edges")
                        .map(|_| ())
                        .unwrap()
                }),
                "$.data.instances[0]",
                "missing \"edges\"",
            ),
            (
                Box::new(|v| *v.pointer_mut("/shapes/parts/0/alpha").unwrap() = json!(1.5)),
                "$.data.shapes.parts[0].alpha",
                "outside 0..1",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut("/shapes/parts/0/color").unwrap() = json!("red</style>")
                }),
                "$.data.shapes.parts[0].color",
                "is not \"#rrggbb\"",
            ),
            (
                Box::new(|v| {
                    *v.pointer_mut("/shapes/parts/0/loc").unwrap() =
                        json!([[0, 0, 0], [0, 0, 0, 2]])
                }),
                "$.data.shapes.parts[0].loc",
                "quaternion has length 2",
            ),
            (
                Box::new(|v| *v.pointer_mut("/shapes/parts/0/type").unwrap() = json!("solid")),
                "$.data.shapes.parts[0].type",
                "expected \"shapes\"",
            ),
        ];
        for (mutate, path, message) in cases {
            let err = error_for(mutate);
            assert_eq!(err.path.as_deref(), Some(path), "{err}");
            assert!(
                err.message.contains(message),
                "{err} (expected {message:?})"
            );
            assert_eq!(err.status.code, 422, "{err}");
        }
    }

    #[test]
    fn limits_bound_depth_nodes_and_arrays() {
        let mut tree = json!({"id": "/G", "name": "G", "parts": []});
        let mut deep = &mut tree;
        for level in 0..10 {
            let id = format!("{}/g", deep["id"].as_str().unwrap());
            deep["parts"] = json!([{"id": id, "name": "g", "parts": []}]);
            deep = &mut deep["parts"][0];
            let _ = level;
        }
        let tight = Limits {
            max_depth: 5,
            ..Limits::default()
        };
        let err = check(&tree.to_string(), "$", &tight).unwrap_err();
        assert!(err.message.contains("deeper than 5"), "{err}");

        let few = Limits {
            max_nodes: 4,
            ..Limits::default()
        };
        let err = check(&tree.to_string(), "$", &few).unwrap_err();
        assert!(err.message.contains("more nodes"), "{err}");

        let short = Limits {
            max_array_len: 5,
            ..Limits::default()
        };
        let err = check(&model().to_string(), "$", &short).unwrap_err();
        assert!(err.message.contains("more than 5 elements"), "{err}");
        assert_eq!(
            err.path.as_deref(),
            Some("$.shapes.parts[1].parts[1].shape.edges")
        );
        let mut encoded_only = model();
        encoded_only["shapes"]["parts"][1]["parts"]
            .as_array_mut()
            .unwrap()
            .pop();
        let err = check(&encoded_only.to_string(), "$", &short).unwrap_err();
        assert!(
            err.message.contains("larger than this server accepts"),
            "{err}"
        );
        assert_eq!(err.path.as_deref(), Some("$.instances[0].vertices.shape"));
    }

    #[test]
    fn hostile_nesting_is_an_error_not_a_crash() {
        let depth = 100_000;
        let text = format!("{}{}", "{\"parts\":[".repeat(depth), "]}".repeat(depth));
        let err = check(&text, "$", &Limits::default()).unwrap_err();
        assert_eq!(err.status.code, 422, "{err}");
        assert!(err.message.contains("deeper than 48 levels"), "{err}");
    }

    #[test]
    fn the_real_fixtures_validate() {
        for name in ["box", "bracket", "assembly", "box.plain"] {
            let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let message: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            let summary = check(&message["data"].to_string(), "$.data", &Limits::default())
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert!(summary.triangles >= 12, "{name}");
        }
    }
}
