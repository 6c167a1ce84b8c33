//! A triangle mesh with CAD structure: faces (runs of triangles with a surface type), edges
//! (polylines with a curve type) and corner points, so that the renderer's tree, face picking
//! and measure tools work on it.

use std::collections::HashMap;

use super::BuildError;
use crate::model::types::{Array, BoundingBox, Encoding, Shape};

/// OCCT surface types, as `face_types` numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaceType {
    Plane = 0,
    Cylinder = 1,
    Cone = 2,
    Sphere = 3,
    Torus = 4,
    Other = 10,
}

/// OCCT curve types, as `edge_types` numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeType {
    Line = 0,
    Circle = 1,
    Other = 8,
}

/// A face: the next `triangles` triangles of the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Face {
    pub triangles: usize,
    pub kind: FaceType,
}

/// An edge: a polyline of at least two points.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub points: Vec<[f32; 3]>,
    pub kind: EdgeType,
}

/// How to compute normals for a plain mesh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normals {
    /// One normal per triangle: every triangle looks flat.
    Flat,
    /// Averaged over neighbouring triangles that meet at less than `crease_degrees`; sharper
    /// corners stay sharp.
    Smooth { crease_degrees: f32 },
}

/// A mesh ready to become a part: vertices with normals, triangles grouped into faces, edges and
/// corner points.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub vertices: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub triangles: Vec<[u32; 3]>,
    pub faces: Vec<Face>,
    pub edges: Vec<Edge>,
    pub corners: Vec<[f32; 3]>,
}

/// Angle (degrees) between neighbouring triangles above which a plain mesh gets a dark edge and
/// its faces are split.
pub const DEFAULT_FEATURE_ANGLE: f32 = 30.0;

impl Mesh {
    /// A mesh from bare triangles (an STL or OBJ, a marching-cubes result): normals smooth below
    /// 30°, feature edges (sharper than 30°, and open boundaries) drawn dark, and faces split
    /// along them so each flat or smooth region picks as one face.
    ///
    /// ```
    /// use ocp_notebook::model::builder::Mesh;
    ///
    /// // A unit tetrahedron: 4 flat faces, 6 sharp edges.
    /// let vertices = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    /// let triangles = vec![[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]];
    /// let mesh = Mesh::from_triangles(vertices, triangles).unwrap();
    /// assert_eq!(mesh.faces.len(), 4);
    /// assert_eq!(mesh.edges.len(), 6);
    /// assert_eq!(mesh.vertices.len(), 12); // flat faces need their own vertices
    /// ```
    pub fn from_triangles(
        vertices: Vec<[f32; 3]>,
        triangles: Vec<[u32; 3]>,
    ) -> Result<Mesh, BuildError> {
        Mesh::from_triangles_with(
            vertices,
            triangles,
            Normals::Smooth {
                crease_degrees: DEFAULT_FEATURE_ANGLE,
            },
            DEFAULT_FEATURE_ANGLE,
        )
    }

    /// [`Mesh::from_triangles`] with chosen normals and feature angle.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Mesh, Normals};
    ///
    /// let vertices = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
    /// let quad = Mesh::from_triangles_with(vertices, vec![[0, 1, 2], [0, 2, 3]], Normals::Flat, 30.0).unwrap();
    /// assert_eq!(quad.faces.len(), 1); // coplanar triangles form one face
    /// assert_eq!(quad.edges.len(), 4); // its open boundary
    /// ```
    pub fn from_triangles_with(
        vertices: Vec<[f32; 3]>,
        triangles: Vec<[u32; 3]>,
        normals: Normals,
        feature_degrees: f32,
    ) -> Result<Mesh, BuildError> {
        if let Some((t, index)) = triangles.iter().enumerate().find_map(|(t, tri)| {
            tri.iter()
                .find(|i| **i as usize >= vertices.len())
                .map(|i| (t, *i))
        }) {
            return Err(BuildError::IndexOutOfRange {
                triangle: t,
                index,
                vertices: vertices.len(),
            });
        }
        if let Some(i) = vertices
            .iter()
            .position(|v| v.iter().any(|c| !c.is_finite()))
        {
            return Err(BuildError::NotFinite { vertex: i });
        }
        let adjacency = EdgeMap::new(&triangles);
        let exact: Vec<Option<[f32; 3]>> = triangles
            .iter()
            .map(|t| triangle_normal(&vertices, t))
            .collect();
        // A degenerate triangle (a sliver at a pole, say) borrows a neighbour's normal and never
        // makes an edge.
        let face_normals: Vec<[f32; 3]> = (0..triangles.len())
            .map(|t| {
                exact[t].unwrap_or_else(|| {
                    let tri = triangles[t];
                    (0..3)
                        .flat_map(|k| adjacency.beside(tri[k], tri[(k + 1) % 3]))
                        .find_map(|other| exact[*other])
                        .unwrap_or([0.0, 0.0, 1.0])
                })
            })
            .collect();
        let feature_cos = feature_degrees.to_radians().cos();
        let is_feature = |edge: &(u32, u32), pair: &[usize]| match pair {
            _ if vertices[edge.0 as usize] == vertices[edge.1 as usize] => false, // no length
            [a, b] if exact[*a].is_none() || exact[*b].is_none() => false,
            [a] if exact[*a].is_none() => false,
            [a, b] => dot(face_normals[*a], face_normals[*b]) < feature_cos,
            _ => true, // open boundary or non-manifold
        };

        // Faces: regions of triangles joined across non-feature edges.
        let mut region = UnionFind::new(triangles.len());
        for (edge, tris) in &adjacency.edges {
            if !is_feature(edge, tris) {
                for pair in tris.windows(2) {
                    region.join(pair[0], pair[1]);
                }
            }
        }
        let mut order: Vec<usize> = (0..triangles.len()).collect();
        order.sort_by_key(|t| (region.find(*t), *t));

        // Vertices: one per (original vertex, normal), in face order.
        let crease_cos = match normals {
            Normals::Flat => 1.0 - 1e-6,
            Normals::Smooth { crease_degrees } => crease_degrees.to_radians().cos(),
        };
        let corner_normal = |t: usize, v: u32| -> [f32; 3] {
            if matches!(normals, Normals::Flat) {
                return face_normals[t];
            }
            let mine = face_normals[t];
            let mut sum = [0.0f32; 3];
            for &other in adjacency.around(v) {
                let Some(n) = exact[other] else { continue };
                if dot(mine, n) >= crease_cos {
                    let w = triangle_area(&vertices, &triangles[other]).max(1e-12);
                    sum = [sum[0] + n[0] * w, sum[1] + n[1] * w, sum[2] + n[2] * w];
                }
            }
            normalize(sum).unwrap_or(mine)
        };
        let mut mesh = Mesh::empty();
        let mut index_of: HashMap<(u32, [u32; 3]), u32> = HashMap::new();
        let mut current_region = usize::MAX;
        let mut reference = [0.0f32; 3];
        for &t in &order {
            let r = region.find(t);
            if r != current_region {
                mesh.faces.push(Face {
                    triangles: 0,
                    kind: FaceType::Plane,
                });
                current_region = r;
                reference = face_normals[t];
            }
            let face = mesh.faces.last_mut().expect("pushed above");
            face.triangles += 1;
            if dot(face_normals[t], reference) < 1.0 - 1e-5 {
                face.kind = FaceType::Other;
            }
            let mut new = [0u32; 3];
            for (k, &v) in triangles[t].iter().enumerate() {
                let normal = corner_normal(t, v);
                let key = (v, normal.map(f32::to_bits));
                new[k] = *index_of.entry(key).or_insert_with(|| {
                    mesh.vertices.push(vertices[v as usize]);
                    mesh.normals.push(normal);
                    mesh.vertices.len() as u32 - 1
                });
            }
            mesh.triangles.push(new);
        }

        // Edges: the feature edges, each segment its own edge; corners: their end points.
        let mut corner_set = HashMap::new();
        let mut feature: Vec<(&(u32, u32), &Vec<usize>)> = adjacency
            .edges
            .iter()
            .filter(|(edge, tris)| is_feature(edge, tris))
            .collect();
        feature.sort_by_key(|(key, _)| **key);
        for ((a, b), _) in feature {
            let points = vec![vertices[*a as usize], vertices[*b as usize]];
            for v in [a, b] {
                corner_set
                    .entry(*v)
                    .or_insert_with(|| vertices[*v as usize]);
            }
            mesh.edges.push(Edge {
                points,
                kind: EdgeType::Line,
            });
        }
        let mut corners: Vec<(u32, [f32; 3])> = corner_set.into_iter().collect();
        corners.sort_by_key(|(v, _)| *v);
        mesh.corners = corners.into_iter().map(|(_, p)| p).collect();
        Ok(mesh)
    }

    pub(crate) fn empty() -> Mesh {
        Mesh {
            vertices: Vec::new(),
            normals: Vec::new(),
            triangles: Vec::new(),
            faces: Vec::new(),
            edges: Vec::new(),
            corners: Vec::new(),
        }
    }

    /// Number of triangles.
    pub fn triangle_count(&self) -> usize {
        self.triangles.len()
    }

    /// The box around the mesh's vertices; `None` for an empty mesh.
    pub fn bounds(&self) -> Option<BoundingBox> {
        BoundingBox::around(self.vertices.iter().map(|v| v.map(f64::from)))
    }

    /// The mesh's arrays in the format's layout, encoded as `encoding`.
    pub fn to_shape(&self, encoding: Encoding) -> Shape {
        let array = |values| Some(Array::new(values, encoding));
        let flat = |points: &[[f32; 3]]| points.iter().flatten().copied().collect::<Vec<f32>>();
        let mut edges = Vec::new();
        let mut segments_per_edge = Vec::new();
        for edge in &self.edges {
            for pair in edge.points.windows(2) {
                edges.extend_from_slice(&pair[0]);
                edges.extend_from_slice(&pair[1]);
            }
            segments_per_edge.push(edge.points.len().saturating_sub(1) as i32);
        }
        Shape {
            vertices: array(flat(&self.vertices)),
            normals: array(flat(&self.normals)),
            triangles: Some(Array::new(
                self.triangles.iter().flatten().copied().collect(),
                encoding,
            )),
            triangles_per_face: Some(Array::new(
                self.faces.iter().map(|f| f.triangles as i32).collect(),
                encoding,
            )),
            face_types: Some(Array::new(
                self.faces.iter().map(|f| f.kind as i32).collect(),
                encoding,
            )),
            edges: array(edges),
            segments_per_edge: Some(Array::new(segments_per_edge, encoding)),
            edge_types: Some(Array::new(
                self.edges.iter().map(|e| e.kind as i32).collect(),
                encoding,
            )),
            obj_vertices: array(flat(&self.corners)),
            uvs: None,
            extra: Default::default(),
        }
    }
}

/// Triangles around each undirected edge, and around each vertex.
struct EdgeMap {
    edges: HashMap<(u32, u32), Vec<usize>>,
    around: HashMap<u32, Vec<usize>>,
}

impl EdgeMap {
    fn new(triangles: &[[u32; 3]]) -> Self {
        let mut edges: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
        let mut around: HashMap<u32, Vec<usize>> = HashMap::new();
        for (t, tri) in triangles.iter().enumerate() {
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                edges.entry((a.min(b), a.max(b))).or_default().push(t);
                around.entry(a).or_default().push(t);
            }
        }
        EdgeMap { edges, around }
    }

    fn beside(&self, a: u32, b: u32) -> &[usize] {
        self.edges
            .get(&(a.min(b), a.max(b)))
            .map_or(&[], Vec::as_slice)
    }

    fn around(&self, v: u32) -> &[usize] {
        self.around.get(&v).map_or(&[], Vec::as_slice)
    }
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

pub(crate) fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn normalize(v: [f32; 3]) -> Option<[f32; 3]> {
    let len = dot(v, v).sqrt();
    (len > 0.0 && len.is_finite()).then(|| [v[0] / len, v[1] / len, v[2] / len])
}

/// The unit normal of a triangle; `None` for a sliver (area negligible against its longest
/// side), whose normal would be rounding noise.
fn triangle_normal(vertices: &[[f32; 3]], t: &[u32; 3]) -> Option<[f32; 3]> {
    let [a, b, c] = t.map(|i| vertices[i as usize]);
    let n = cross(sub(b, a), sub(c, a));
    let longest = [sub(b, a), sub(c, b), sub(a, c)]
        .map(|e| dot(e, e))
        .into_iter()
        .fold(0.0, f32::max);
    (dot(n, n).sqrt() > 1e-5 * longest)
        .then(|| normalize(n))
        .flatten()
}

fn triangle_area(vertices: &[[f32; 3]], t: &[u32; 3]) -> f32 {
    let [a, b, c] = t.map(|i| vertices[i as usize]);
    let n = cross(sub(b, a), sub(c, a));
    dot(n, n).sqrt() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An octahedron-ish smooth shape: a fine UV sphere as bare triangles.
    fn bare_sphere(rings: u32, segments: u32) -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
        let mut vertices = Vec::new();
        for r in 0..=rings {
            let theta = std::f32::consts::PI * r as f32 / rings as f32;
            for s in 0..segments {
                let phi = std::f32::consts::TAU * s as f32 / segments as f32;
                vertices.push([
                    theta.sin() * phi.cos(),
                    theta.sin() * phi.sin(),
                    theta.cos(),
                ]);
            }
        }
        let mut triangles = Vec::new();
        for r in 0..rings {
            for s in 0..segments {
                let (a, b) = (r * segments + s, r * segments + (s + 1) % segments);
                let (c, d) = (a + segments, b + segments);
                triangles.push([a, c, b]);
                triangles.push([b, c, d]);
            }
        }
        (vertices, triangles)
    }

    #[test]
    fn a_smooth_surface_is_one_face_with_shared_normals() {
        let (vertices, triangles) = bare_sphere(24, 32);
        let mesh = Mesh::from_triangles(vertices, triangles).unwrap();
        // The poles' degenerate triangles aside, the sphere is one smooth region.
        assert!(
            mesh.faces.len() <= 3,
            "{} faces: {:?}",
            mesh.faces.len(),
            mesh.faces.iter().map(|f| f.triangles).collect::<Vec<_>>()
        );
        let normal_of_first = mesh.normals[mesh.triangles[400][0] as usize];
        let position = mesh.vertices[mesh.triangles[400][0] as usize];
        assert!(
            dot(normal_of_first, position) > 0.99,
            "smooth normals point outwards"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let err = Mesh::from_triangles(vec![[0.0; 3]; 3], vec![[0, 1, 7]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "triangle 0 uses vertex 7, but there are 3 vertices"
        );
        let err = Mesh::from_triangles(vec![[f32::NAN, 0.0, 0.0]; 3], vec![[0, 1, 2]]).unwrap_err();
        assert!(err.to_string().contains("not finite"));
    }
}
