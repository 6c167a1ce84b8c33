//! The model format as Rust types: three-cad-viewer's shapes tree (protocol version 3), its
//! arrays (plain JSON numbers or base64 little-endian buffers), the instanced form and the
//! ocp_vscode message. Reading a payload into these types decodes every buffer into typed
//! arrays; writing them encodes the arrays again (base64 by default). Fields these types do not
//! name are kept in `extra` and written back, since the renderer and ocp_vscode add fields over
//! time.
//!
//! These types are for building and inspecting models. The server never builds them for an
//! upload: it validates uploads with [`crate::model::validate`] and stores the bytes as posted.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How an array travels in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// `{"shape": [n], "dtype", "buffer": "<base64>", "codec": "b64"}`: compact and what the
    /// renderer reads fastest (the viewer page decodes it straight into typed arrays).
    #[default]
    Base64,
    /// A plain JSON array of numbers.
    Plain,
}

/// A number type an array can hold, and its `dtype` when encoded.
pub trait Element: Copy + PartialEq + std::fmt::Debug + Serialize + 'static {
    const DTYPE: &'static str;
    fn to_le_bytes(self) -> [u8; 4];
    /// The value a JSON number or a decoded element (as `f64`) stands for, if it fits.
    fn from_f64(value: f64) -> Option<Self>;
}

impl Element for f32 {
    const DTYPE: &'static str = "float32";
    fn to_le_bytes(self) -> [u8; 4] {
        f32::to_le_bytes(self)
    }
    fn from_f64(value: f64) -> Option<Self> {
        Some(value as f32)
    }
}

impl Element for i32 {
    const DTYPE: &'static str = "int32";
    fn to_le_bytes(self) -> [u8; 4] {
        i32::to_le_bytes(self)
    }
    fn from_f64(value: f64) -> Option<Self> {
        (value.fract() == 0.0 && value >= i32::MIN as f64 && value <= i32::MAX as f64)
            .then_some(value as i32)
    }
}

impl Element for u32 {
    const DTYPE: &'static str = "uint32";
    fn to_le_bytes(self) -> [u8; 4] {
        u32::to_le_bytes(self)
    }
    fn from_f64(value: f64) -> Option<Self> {
        (value.fract() == 0.0 && value >= 0.0 && value <= u32::MAX as f64).then_some(value as u32)
    }
}

/// A flat array of numbers and how it travels. Triangle indices are `u32` but go out as `int32`,
/// as ocp-tessellate sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    pub values: Vec<T>,
    pub encoding: Encoding,
}

impl<T> Array<T> {
    pub fn new(values: Vec<T>, encoding: Encoding) -> Self {
        Array { values, encoding }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl<T> From<Vec<T>> for Array<T> {
    fn from(values: Vec<T>) -> Self {
        Array::new(values, Encoding::default())
    }
}

/// The dtype an array of `T` is written with.
fn wire_dtype<T: Element>() -> &'static str {
    match T::DTYPE {
        "uint32" => "int32",
        other => other,
    }
}

impl<T: Element> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.encoding {
            Encoding::Plain => self.values.serialize(serializer),
            Encoding::Base64 => {
                let bytes: Vec<u8> = self.values.iter().flat_map(|v| v.to_le_bytes()).collect();
                let mut map = serializer.serialize_map(Some(4))?;
                map.serialize_entry("shape", &[self.values.len()])?;
                map.serialize_entry("dtype", wire_dtype::<T>())?;
                map.serialize_entry("buffer", &BASE64.encode(bytes))?;
                map.serialize_entry("codec", "b64")?;
                map.end()
            }
        }
    }
}

impl<'de, T: Element> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArrayVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Element> Visitor<'de> for ArrayVisitor<T> {
            type Value = Array<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an array of {} or an encoded buffer", T::DTYPE)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(value) = seq.next_element::<f64>()? {
                    values.push(convert::<T, A::Error>(value, values.len())?);
                }
                Ok(Array::new(values, Encoding::Plain))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut dtype, mut buffer, mut shape, mut codec) = (
                    None::<String>,
                    None::<String>,
                    None::<Value>,
                    None::<String>,
                );
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "dtype" => dtype = Some(map.next_value()?),
                        "buffer" => buffer = Some(map.next_value()?),
                        "shape" => shape = Some(map.next_value()?),
                        "codec" => codec = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                if codec.as_deref() != Some("b64") {
                    return Err(de::Error::custom(
                        "an encoded buffer needs \"codec\": \"b64\"",
                    ));
                }
                let bytes = BASE64
                    .decode(buffer.ok_or_else(|| de::Error::missing_field("buffer"))?)
                    .map_err(|e| de::Error::custom(format!("invalid base64: {e}")))?;
                if bytes.len() % 4 != 0 {
                    return Err(de::Error::custom(
                        "the buffer is not a whole number of 4-byte values",
                    ));
                }
                // A hostile shape may multiply past u64: that is a mismatch, never a panic.
                let count: Option<u64> = match shape {
                    Some(Value::Array(dims)) => dims
                        .iter()
                        .try_fold(1u64, |n, d| n.checked_mul(d.as_u64().unwrap_or(0))),
                    Some(Value::Number(n)) => Some(n.as_u64().unwrap_or(0)),
                    _ => return Err(de::Error::missing_field("shape")),
                };
                if count.and_then(|n| n.checked_mul(4)) != Some(bytes.len() as u64) {
                    let count = count.map_or("too many".to_string(), |n| n.to_string());
                    return Err(de::Error::custom(format!(
                        "shape says {count} values, the buffer holds {}",
                        bytes.len() / 4
                    )));
                }
                let read: fn([u8; 4]) -> f64 = match dtype.as_deref() {
                    Some("float32") => |w| f32::from_le_bytes(w) as f64,
                    Some("int32") => |w| i32::from_le_bytes(w) as f64,
                    Some("uint32") => |w| u32::from_le_bytes(w) as f64,
                    other => return Err(de::Error::custom(format!("unsupported dtype {other:?}"))),
                };
                let values = bytes
                    .chunks_exact(4)
                    .enumerate()
                    .map(|(i, w)| convert::<T, A::Error>(read([w[0], w[1], w[2], w[3]]), i))
                    .collect::<Result<_, _>>()?;
                Ok(Array::new(values, Encoding::Base64))
            }
        }

        deserializer.deserialize_any(ArrayVisitor(std::marker::PhantomData))
    }
}

fn convert<T: Element, E: de::Error>(value: f64, index: usize) -> Result<T, E> {
    T::from_f64(value).ok_or_else(|| {
        E::custom(format!(
            "value {value} at {index} is not a valid {}",
            T::DTYPE
        ))
    })
}

/// The surface types `face_types` numbers (OCCT's `GeomAbs_SurfaceType` order), by number.
pub const SURFACE_TYPES: [&str; 11] = [
    "Plane",
    "Cylinder",
    "Cone",
    "Sphere",
    "Torus",
    "Bezier",
    "BSpline",
    "Revolution",
    "Extrusion",
    "Offset",
    "Other",
];

/// The curve types `edge_types` numbers (OCCT's `GeomAbs_CurveType` order), by number.
pub const CURVE_TYPES: [&str; 9] = [
    "Line",
    "Circle",
    "Ellipse",
    "Hyperbola",
    "Parabola",
    "Bezier",
    "BSpline",
    "Offset",
    "Other",
];

/// Placement: a translation and a rotation quaternion `[qx, qy, qz, qw]`, written as
/// `[[x, y, z], [qx, qy, qz, qw]]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location(pub [f64; 3], pub [f64; 4]);

impl Location {
    pub const IDENTITY: Location = Location([0.0; 3], [0.0, 0.0, 0.0, 1.0]);

    /// A pure translation.
    pub fn translation(x: f64, y: f64, z: f64) -> Self {
        Location([x, y, z], [0.0, 0.0, 0.0, 1.0])
    }

    /// A rotation of `degrees` about `axis` (need not be unit length), then the translation.
    pub fn rotation(axis: [f64; 3], degrees: f64) -> Self {
        let norm = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
        let half = degrees.to_radians() / 2.0;
        let s = if norm > 0.0 { half.sin() / norm } else { 0.0 };
        Location(
            [0.0; 3],
            [axis[0] * s, axis[1] * s, axis[2] * s, half.cos()],
        )
    }

    /// The same rotation, moved by `(x, y, z)`.
    pub fn moved(mut self, x: f64, y: f64, z: f64) -> Self {
        self.0 = [self.0[0] + x, self.0[1] + y, self.0[2] + z];
        self
    }

    /// Applies this location to a point.
    pub fn apply(&self, p: [f64; 3]) -> [f64; 3] {
        let [qx, qy, qz, qw] = self.1;
        // v' = v + 2w(q x v) + 2 q x (q x v)
        let c1 = [
            qy * p[2] - qz * p[1],
            qz * p[0] - qx * p[2],
            qx * p[1] - qy * p[0],
        ];
        let c2 = [
            qy * c1[2] - qz * c1[1],
            qz * c1[0] - qx * c1[2],
            qx * c1[1] - qy * c1[0],
        ];
        [
            p[0] + 2.0 * (qw * c1[0] + c2[0]) + self.0[0],
            p[1] + 2.0 * (qw * c1[1] + c2[1]) + self.0[1],
            p[2] + 2.0 * (qw * c1[2] + c2[2]) + self.0[2],
        ]
    }

    /// `self` after `parent`: the location of a child placed at `self` inside `parent`.
    pub fn within(&self, parent: &Location) -> Location {
        let [ax, ay, az, aw] = parent.1;
        let [bx, by, bz, bw] = self.1;
        let rotation = [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ];
        Location(parent.apply(self.0), rotation)
    }
}

/// An axis-aligned bounding box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    pub xmin: f64,
    pub xmax: f64,
    pub ymin: f64,
    pub ymax: f64,
    pub zmin: f64,
    pub zmax: f64,
}

impl BoundingBox {
    /// The box around `points`; `None` for no points.
    pub fn around(points: impl IntoIterator<Item = [f64; 3]>) -> Option<BoundingBox> {
        points.into_iter().fold(None, |bb: Option<BoundingBox>, p| {
            Some(match bb {
                None => BoundingBox {
                    xmin: p[0],
                    xmax: p[0],
                    ymin: p[1],
                    ymax: p[1],
                    zmin: p[2],
                    zmax: p[2],
                },
                Some(b) => BoundingBox {
                    xmin: b.xmin.min(p[0]),
                    xmax: b.xmax.max(p[0]),
                    ymin: b.ymin.min(p[1]),
                    ymax: b.ymax.max(p[1]),
                    zmin: b.zmin.min(p[2]),
                    zmax: b.zmax.max(p[2]),
                },
            })
        })
    }

    pub fn union(&self, other: &BoundingBox) -> BoundingBox {
        BoundingBox::around(self.corners().into_iter().chain(other.corners())).expect("corners")
    }

    pub fn corners(&self) -> [[f64; 3]; 8] {
        let (x, y, z) = (
            [self.xmin, self.xmax],
            [self.ymin, self.ymax],
            [self.zmin, self.zmax],
        );
        std::array::from_fn(|i| [x[i & 1], y[(i >> 1) & 1], z[(i >> 2) & 1]])
    }

    /// The box around this box placed at `location`.
    pub fn placed(&self, location: &Location) -> BoundingBox {
        BoundingBox::around(self.corners().map(|c| location.apply(c))).expect("corners")
    }
}

/// The arrays of one mesh. Every field is optional because edge and vertex leaves carry only
/// some of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertices: Option<Array<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normals: Option<Array<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triangles: Option<Array<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triangles_per_face: Option<Array<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_types: Option<Array<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edges: Option<Array<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments_per_edge: Option<Array<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_types: Option<Array<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj_vertices: Option<Array<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uvs: Option<Array<f32>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A leaf's geometry: inline, or a reference into the instanced form's `instances`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ShapeRef {
    Ref {
        #[serde(rename = "ref")]
        index: usize,
    },
    Inline(Box<Shape>),
}

/// What a leaf draws.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeafKind {
    #[default]
    Shapes,
    Edges,
    Vertices,
}

/// A node of the tree: a group of nodes or a leaf with geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Node {
    Group(Group),
    Leaf(Leaf),
}

/// A group: named, placed, holding other nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub loc: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bb: Option<BoundingBox>,
    pub parts: Vec<Node>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A leaf: one part, edge set or vertex set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leaf {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: LeafKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// `[faces, edges]`: 1 shown, 0 hidden, 3 not applicable.
    pub state: [u8; 2],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    #[serde(default)]
    pub loc: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bb: Option<BoundingBox>,
    pub shape: ShapeRef,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a model message carries: a tree, or the instanced form (shared meshes plus a tree whose
/// leaves refer to them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Geometry {
    Instanced {
        instances: Vec<Shape>,
        shapes: Group,
    },
    Tree(Group),
}

impl Geometry {
    /// The tree with every `ref` replaced by a copy of its mesh.
    pub fn resolved(&self) -> Result<Group, String> {
        fn resolve(group: &mut Group, instances: &[Shape]) -> Result<(), String> {
            for node in &mut group.parts {
                match node {
                    Node::Group(child) => resolve(child, instances)?,
                    Node::Leaf(leaf) => {
                        if let ShapeRef::Ref { index } = leaf.shape {
                            let shape = instances
                                .get(index)
                                .ok_or_else(|| format!("{}: ref {index} out of range", leaf.id))?;
                            leaf.shape = ShapeRef::Inline(Box::new(shape.clone()));
                        }
                    }
                }
            }
            Ok(())
        }
        match self {
            Geometry::Tree(tree) => Ok(tree.clone()),
            Geometry::Instanced { instances, shapes } => {
                let mut tree = shapes.clone();
                resolve(&mut tree, instances)?;
                Ok(tree)
            }
        }
    }
}

/// The message `ocp_vscode.show()` sends: `{"type": "data", "data", "config", "count"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Geometry,
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A `data` message for `geometry` with `config`.
    pub fn new(data: Geometry, config: Map<String, Value>) -> Self {
        Message {
            kind: "data".into(),
            data,
            config,
            count: None,
            extra: Map::new(),
        }
    }

    /// Reads any three-cad-viewer or ocp_vscode JSON: a message, `{"shapes": ...}` (the server's
    /// own form, also what `GET /api/model` adds ids to) or a bare tree / instanced form.
    /// Buffers are decoded into typed arrays.
    pub fn from_json(json: &[u8]) -> Result<Message, serde_json::Error> {
        #[derive(Deserialize)]
        struct Wrapped {
            shapes: Geometry,
            #[serde(default)]
            config: Map<String, Value>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            Message(Message),
            Wrapped(Wrapped),
            Bare(Geometry),
        }
        Ok(match serde_json::from_slice(json)? {
            Any::Message(message) => message,
            Any::Wrapped(Wrapped { shapes, config }) => Message::new(shapes, config),
            Any::Bare(geometry) => Message::new(geometry, Map::new()),
        })
    }

    /// The JSON text, as the server and the viewer take it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a message always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_fixtures_decode_and_round_trip() {
        for name in ["box", "bracket", "assembly"] {
            let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(path).unwrap();
            let message = Message::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let again = Message::from_json(message.to_json().as_bytes()).unwrap();
            assert_eq!(again, message, "{name}");
            let original: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(
                serde_json::to_value(&message).unwrap()["config"],
                original["config"]
            );
        }
    }

    #[test]
    fn encoded_and_plain_arrays_decode_to_the_same_values() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let encoded =
            Message::from_json(&std::fs::read(format!("{dir}/tests/fixtures/box.json")).unwrap())
                .unwrap();
        let plain = Message::from_json(
            &std::fs::read(format!("{dir}/tests/fixtures/box.plain.json")).unwrap(),
        )
        .unwrap();
        let (Geometry::Instanced { instances: a, .. }, Geometry::Instanced { instances: b, .. }) =
            (&encoded.data, &plain.data)
        else {
            panic!("both are instanced");
        };
        assert_eq!(
            a[0].vertices.as_ref().unwrap().values,
            b[0].vertices.as_ref().unwrap().values
        );
        assert_eq!(
            a[0].triangles.as_ref().unwrap().values,
            b[0].triangles.as_ref().unwrap().values
        );
        assert_eq!(a[0].vertices.as_ref().unwrap().encoding, Encoding::Base64);
        assert_eq!(b[0].vertices.as_ref().unwrap().encoding, Encoding::Plain);
    }

    #[test]
    fn a_shape_too_large_to_multiply_is_an_error_not_a_panic() {
        for shape in [
            "[4294967296, 4294967296, 4294967296]",
            "[4611686018427387904]",
        ] {
            let json = format!(
                r#"{{"shape": {shape}, "dtype": "float32", "buffer": "AAAAAA==", "codec": "b64"}}"#
            );
            let err = serde_json::from_str::<Array<f32>>(&json).unwrap_err();
            assert!(err.to_string().contains("the buffer holds 1"), "{err}");
        }
    }

    #[test]
    fn locations_compose_like_placements() {
        let turn = Location::rotation([0.0, 0.0, 1.0], 90.0).moved(10.0, 0.0, 0.0);
        let p = turn.apply([1.0, 0.0, 0.0]);
        assert!(
            (p[0] - 10.0).abs() < 1e-9 && (p[1] - 1.0).abs() < 1e-9,
            "{p:?}"
        );
        let child = Location::translation(1.0, 0.0, 0.0).within(&turn);
        let q = child.apply([0.0, 0.0, 0.0]);
        assert!(
            (q[0] - 10.0).abs() < 1e-9 && (q[1] - 1.0).abs() < 1e-9,
            "{q:?}"
        );
    }
}
