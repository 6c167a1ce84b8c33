//! The geometry of picked things, read from a stored model in world coordinates.
//!
//! A model can be tens of megabytes; a measurement needs one or two parts of it. The tree is read
//! as every reader of a model reads it ([`Skeleton`]), with every mesh left as borrowed text
//! ([`Unread`]), and only the parts asked for are decoded.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

use super::geometry::{Simplex, P3};
use super::pick::{Pick, Topology};
use super::MeasureError;
use crate::ids::PartHash;
use crate::model::skeleton::{Limits, Mesh, Skeleton, Unread};
use crate::model::types::{Location, Shape};

/// The part at `path` with its mesh decoded and its placement in the world; `Err` says why
/// there is none.
pub(super) fn part<'a>(
    skeleton: &Skeleton<'a, Unread<'a>>,
    parts: &dyn Fn(&PartHash) -> Option<&'a str>,
    path: &str,
) -> Result<Part, PartError> {
    let (node, place) = skeleton
        .find(path)
        .ok_or_else(|| PartError::Missing(format!("the model has no part {path}")))?;
    if node.shape.is_none() {
        return Err(PartError::Missing(format!("{path} is a group, not a part")));
    }
    let broken = |err: serde_json::Error| PartError::Broken(format!("{path}: {err}"));
    let mesh = skeleton.mesh_of(node, parts).map_err(PartError::Broken)?;
    let shape = decode_arrays(&mesh).map_err(broken)?;
    Ok(Part {
        path: path.to_string(),
        place,
        shape,
        placed: OnceLock::new(),
    })
}

/// The arrays a measurement reads, decoded from their text.
fn decode_arrays(mesh: &Mesh<Unread>) -> Result<Shape, serde_json::Error> {
    fn typed<T: DeserializeOwned>(
        raw: &Option<Box<Unread>>,
    ) -> Result<Option<T>, serde_json::Error> {
        raw.as_ref().map(|raw| raw.decode()).transpose()
    }
    Ok(Shape {
        vertices: typed(&mesh.vertices)?,
        normals: typed(&mesh.normals)?,
        triangles: typed(&mesh.triangles)?,
        triangles_per_face: typed(&mesh.triangles_per_face)?,
        face_types: typed(&mesh.face_types)?,
        edges: typed(&mesh.edges)?,
        segments_per_edge: typed(&mesh.segments_per_edge)?,
        edge_types: typed(&mesh.edge_types)?,
        obj_vertices: typed(&mesh.obj_vertices)?,
        ..Shape::default()
    })
}

/// Why a part or a pick has no geometry.
#[derive(Debug)]
pub enum PartError {
    /// Nothing at the path, or a group there.
    Missing(String),
    /// The model itself is broken there.
    Broken(String),
}

/// One part's mesh and where it sits.
pub struct Part {
    pub path: String,
    place: Location,
    shape: Shape,
    /// The mesh vertices placed in the world, made for the first face or solid picked.
    placed: OnceLock<Arc<Vec<P3>>>,
}

/// The mesh of one picked thing, in world coordinates.
pub struct Entity {
    pub pick: Pick,
    /// Triangles of a face or solid, segments of an edge, the point of a vertex.
    pub simplices: Simplices,
    /// For a face: its mesh vertices, each once, and their normals as the tessellator wrote
    /// them (what radii are fitted to).
    pub vertices: Vec<P3>,
    pub normals: Vec<P3>,
    /// The tessellator's surface or curve type number, when it wrote one.
    pub geom_type: Option<i32>,
}

/// A set of simplices. Triangles keep three indices into their part's placed vertices (shared by
/// every pick of the part) rather than three points each: a face of a million triangles costs 12
/// MB, not 72.
pub enum Simplices {
    Triangles {
        points: Arc<Vec<P3>>,
        corners: Vec<[u32; 3]>,
    },
    Listed(Vec<Simplex>),
}

impl Simplices {
    pub fn len(&self) -> usize {
        match self {
            Simplices::Triangles { corners, .. } => corners.len(),
            Simplices::Listed(list) => list.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The simplex at `i` (< `len()`).
    pub fn get(&self, i: usize) -> Simplex {
        match self {
            Simplices::Triangles { points, corners } => {
                let [a, b, c] = corners[i].map(|k| points[k as usize]);
                Simplex::Triangle(a, b, c)
            }
            Simplices::Listed(list) => list[i],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Simplex> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl Part {
    fn world(&self, p: [f32; 3]) -> P3 {
        self.place.apply(p.map(f64::from))
    }

    fn point(values: &[f32], i: usize) -> Option<[f32; 3]> {
        Some([
            *values.get(3 * i)?,
            *values.get(3 * i + 1)?,
            *values.get(3 * i + 2)?,
        ])
    }

    /// How many faces, edges and vertices the part has.
    pub fn count(&self, kind: Topology) -> usize {
        let s = &self.shape;
        let len = |a: &Option<crate::model::types::Array<i32>>| a.as_ref().map_or(0, |a| a.len());
        match kind {
            Topology::Face => match (&s.triangles_per_face, &s.triangles) {
                (Some(per_face), _) => per_face.len(),
                (None, Some(t)) if !t.is_empty() => 1,
                _ => 0,
            },
            Topology::Edge => match (&s.segments_per_edge, &s.edges) {
                (Some(_), _) => len(&s.segments_per_edge),
                (None, Some(e)) => e.len() / 6,
                _ => 0,
            },
            Topology::Vertex => s.obj_vertices.as_ref().map_or(0, |v| v.len() / 3),
            Topology::Solid => 1,
        }
    }

    /// The geometry of `pick`, which must name this part; `Err` says why there is none. With
    /// `detail`, a face's own vertices and normals too (for types, normals and radii; a distance
    /// needs only the triangles).
    pub fn entity(&self, pick: &Pick, detail: bool) -> Result<Entity, PartError> {
        let index = pick.index.unwrap_or(0);
        let count = self.count(pick.kind);
        if index >= count {
            return Err(PartError::Missing(format!(
                "{pick}: the part has {count} {}",
                plural(pick.kind)
            )));
        }
        let s = &self.shape;
        let mut entity = Entity {
            pick: pick.clone(),
            simplices: Simplices::Listed(Vec::new()),
            vertices: Vec::new(),
            normals: Vec::new(),
            geom_type: None,
        };
        match pick.kind {
            Topology::Face | Topology::Solid => {
                let (vertices, triangles) = match (&s.vertices, &s.triangles) {
                    (Some(v), Some(t)) => (&v.values, &t.values),
                    _ => return Err(PartError::Missing(format!("{pick}: the part has no faces"))),
                };
                let range = if pick.kind == Topology::Solid {
                    0..triangles.len() / 3
                } else {
                    entity.geom_type = s
                        .face_types
                        .as_ref()
                        .and_then(|t| t.values.get(index).copied());
                    span(
                        s.triangles_per_face.as_ref().map(|a| &a.values[..]),
                        index,
                        triangles.len() / 3,
                    )
                };
                let normals = s.normals.as_ref().map(|n| &n.values[..]).unwrap_or(&[]);
                // Each vertex placed once, however many triangles and picks share it.
                let count = vertices.len() / 3;
                let placed = self
                    .placed
                    .get_or_init(|| {
                        Arc::new(
                            (0..count)
                                .map(|i| self.world(Self::point(vertices, i).expect("in range")))
                                .collect(),
                        )
                    })
                    .clone();
                let face = detail && pick.kind == Topology::Face;
                let mut seen = vec![false; if face { count } else { 0 }];
                let mut corners = Vec::with_capacity(range.len());
                for t in range {
                    let triangle = [0, 1, 2].map(|k| triangles[3 * t + k]);
                    if triangle.iter().any(|&i| i as usize >= count) {
                        return Err(PartError::Broken(format!(
                            "{}: a triangle index is out of range",
                            self.path
                        )));
                    }
                    corners.push(triangle);
                    for i in triangle.map(|i| i as usize) {
                        if face && !seen[i] {
                            seen[i] = true;
                            entity.vertices.push(placed[i]);
                            if let Some(n) = Self::point(normals, i) {
                                entity.normals.push(rotate(&self.place, n.map(f64::from)));
                            }
                        }
                    }
                }
                entity.simplices = Simplices::Triangles {
                    points: placed,
                    corners,
                };
            }
            Topology::Edge => {
                let edges = s.edges.as_ref().map(|e| &e.values[..]).unwrap_or(&[]);
                entity.geom_type = s
                    .edge_types
                    .as_ref()
                    .and_then(|t| t.values.get(index).copied());
                let range = match &s.segments_per_edge {
                    Some(per_edge) => span(Some(&per_edge.values), index, edges.len() / 6),
                    None => index..index + 1,
                };
                let mut segments = Vec::with_capacity(range.len());
                for k in range {
                    let (Some(a), Some(b)) =
                        (Self::point(edges, 2 * k), Self::point(edges, 2 * k + 1))
                    else {
                        return Err(PartError::Broken(format!(
                            "{}: an edge is cut short",
                            self.path
                        )));
                    };
                    segments.push(Simplex::Segment(self.world(a), self.world(b)));
                }
                entity.simplices = Simplices::Listed(segments);
            }
            Topology::Vertex => {
                let values = s
                    .obj_vertices
                    .as_ref()
                    .map(|v| &v.values[..])
                    .unwrap_or(&[]);
                let p = Self::point(values, index).expect("counted above");
                entity.simplices = Simplices::Listed(vec![Simplex::Point(self.world(p))]);
            }
        }
        if entity.simplices.is_empty() {
            return Err(PartError::Missing(format!(
                "{pick} has no geometry to measure"
            )));
        }
        Ok(entity)
    }
}

/// The range of items `index` covers when consecutive groups hold `sizes` items each (all of
/// `total` when there are no sizes).
fn span(sizes: Option<&[i32]>, index: usize, total: usize) -> std::ops::Range<usize> {
    match sizes {
        None => 0..total,
        Some(sizes) => {
            let start: usize = sizes[..index].iter().map(|n| (*n).max(0) as usize).sum();
            let end = start + sizes[index].max(0) as usize;
            start.min(total)..end.min(total)
        }
    }
}

/// A direction turned by a placement's rotation (no translation).
fn rotate(place: &Location, v: P3) -> P3 {
    Location([0.0; 3], place.1).apply(v)
}

fn plural(kind: Topology) -> &'static str {
    match kind {
        Topology::Face => "faces",
        Topology::Edge => "edges",
        Topology::Vertex => "vertices",
        Topology::Solid => "solids",
    }
}

/// Reads the entities for `picks` from a model's geometry (a tree or the instanced form, or a
/// stored tree form whose parts `parts` gives by hash), decoding each part once (`detail`: see
/// [`Part::entity`]).
pub fn entities<'a>(
    geometry: &'a str,
    parts: &dyn Fn(&PartHash) -> Option<&'a str>,
    picks: &[Pick],
    detail: bool,
) -> Result<Vec<Entity>, MeasureError> {
    let skeleton = Skeleton::read(geometry, "$", &Limits::stored())
        .map_err(|err| MeasureError::Model(err.to_string()))?;
    let mut decoded: HashMap<&str, Part> = HashMap::new();
    let mut out = Vec::with_capacity(picks.len());
    for (index, pick) in picks.iter().enumerate() {
        let at = |err: PartError| match err {
            PartError::Missing(message) => MeasureError::Pick { index, message },
            PartError::Broken(message) => MeasureError::Model(message),
        };
        if !decoded.contains_key(pick.path.as_str()) {
            decoded.insert(&pick.path, part(&skeleton, parts, &pick.path).map_err(at)?);
        }
        out.push(
            decoded[pick.path.as_str()]
                .entity(pick, detail)
                .map_err(at)?,
        );
    }
    Ok(out)
}
