//! Primitive solids with real face structure, as a CAD kernel would tessellate them: a box has
//! six planar faces and twelve straight edges, a cylinder a cylindrical side, two planar caps and
//! circular edges, and so on. All are centred on the origin, like build123d's.

use std::f32::consts::{PI, TAU};

use super::mesh::{normalize, Edge, EdgeType, Face, FaceType, Mesh};

impl Mesh {
    /// A box of size `x` by `y` by `z`: 6 planar faces, 12 edges, 8 corners.
    ///
    /// ```
    /// use ocp_notebook::model::builder::Mesh;
    ///
    /// let brick = Mesh::cuboid(10.0, 20.0, 30.0);
    /// assert_eq!((brick.faces.len(), brick.edges.len(), brick.corners.len()), (6, 12, 8));
    /// assert_eq!(brick.triangle_count(), 12);
    /// ```
    pub fn cuboid(x: f32, y: f32, z: f32) -> Mesh {
        let h = [x / 2.0, y / 2.0, z / 2.0];
        let mut mesh = Mesh::empty();
        for axis in 0..3 {
            for sign in [-1.0f32, 1.0] {
                let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
                let mut normal = [0.0; 3];
                normal[axis] = sign;
                mesh.push_grid(1, 1, FaceType::Plane, |a, b| {
                    let mut p = [0.0; 3];
                    p[axis] = sign * h[axis];
                    // Keep the winding counter-clockwise seen from outside.
                    let (a, b) = if sign < 0.0 { (a, b) } else { (b, a) };
                    p[u] = (2.0 * a - 1.0) * h[u];
                    p[v] = (2.0 * b - 1.0) * h[v];
                    (p, normal)
                });
            }
        }
        let corner = |i: usize| {
            [
                if i & 1 == 0 { -h[0] } else { h[0] },
                if i & 2 == 0 { -h[1] } else { h[1] },
                if i & 4 == 0 { -h[2] } else { h[2] },
            ]
        };
        for i in 0..8 {
            mesh.corners.push(corner(i));
            for bit in [1, 2, 4] {
                if i & bit == 0 {
                    mesh.edges.push(Edge {
                        points: vec![corner(i), corner(i | bit)],
                        kind: EdgeType::Line,
                    });
                }
            }
        }
        mesh
    }

    /// A cylinder of `radius` and `height` along z: a cylindrical side and two planar caps, two
    /// circular edges and the seam, `segments` around.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{FaceType, Mesh};
    ///
    /// let pin = Mesh::cylinder(2.0, 10.0, 32);
    /// let kinds: Vec<FaceType> = pin.faces.iter().map(|f| f.kind).collect();
    /// assert_eq!(kinds, [FaceType::Cylinder, FaceType::Plane, FaceType::Plane]);
    /// assert_eq!(pin.edges.len(), 3);
    /// ```
    pub fn cylinder(radius: f32, height: f32, segments: usize) -> Mesh {
        Mesh::cone(radius, radius, height, segments)
    }

    /// A truncated cone from `bottom_radius` (at -height/2) to `top_radius` (at +height/2); a
    /// radius of 0 makes a pointed cone without that cap.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{FaceType, Mesh};
    ///
    /// let tip = Mesh::cone(3.0, 0.0, 5.0, 24);
    /// assert_eq!(tip.faces.len(), 2); // the side and the bottom cap
    /// assert_eq!(tip.faces[0].kind, FaceType::Cone);
    /// ```
    pub fn cone(bottom_radius: f32, top_radius: f32, height: f32, segments: usize) -> Mesh {
        let segments = segments.max(3);
        let half = height / 2.0;
        let kind = if bottom_radius == top_radius {
            FaceType::Cylinder
        } else {
            FaceType::Cone
        };
        let slope = (bottom_radius - top_radius) / height.max(f32::EPSILON);
        let mut mesh = Mesh::empty();
        mesh.push_grid(1, segments, kind, |v, u| {
            let angle = TAU * u;
            let r = bottom_radius + (top_radius - bottom_radius) * v;
            let normal = normalize([angle.cos(), angle.sin(), slope]).unwrap_or([0.0, 0.0, 1.0]);
            (
                [r * angle.cos(), r * angle.sin(), -half + height * v],
                normal,
            )
        });
        for (radius, z, up) in [(bottom_radius, -half, -1.0f32), (top_radius, half, 1.0)] {
            if radius > 0.0 {
                mesh.push_disk(radius, z, up, segments);
                mesh.edges.push(Edge {
                    points: circle(radius, z, segments),
                    kind: EdgeType::Circle,
                });
            }
        }
        let seam = vec![[bottom_radius, 0.0, -half], [top_radius, 0.0, half]];
        mesh.corners.extend(seam.iter().copied());
        mesh.edges.push(Edge {
            points: seam,
            kind: EdgeType::Line,
        });
        mesh
    }

    /// A sphere of `radius`: one spherical face and its seam, `segments` around.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{FaceType, Mesh};
    ///
    /// let ball = Mesh::sphere(5.0, 32);
    /// assert_eq!(ball.faces.len(), 1);
    /// assert_eq!(ball.faces[0].kind, FaceType::Sphere);
    /// assert_eq!(ball.bounds().unwrap().zmax, 5.0);
    /// ```
    pub fn sphere(radius: f32, segments: usize) -> Mesh {
        let segments = segments.max(4);
        let mut mesh = Mesh::empty();
        mesh.push_grid((segments / 2).max(2), segments, FaceType::Sphere, |v, u| {
            let (theta, phi) = (PI * (1.0 - v), TAU * u);
            let n = [
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ];
            (n.map(|c| c * radius), n)
        });
        let seam: Vec<[f32; 3]> = (0..=segments / 2)
            .map(|i| {
                let theta = PI * i as f32 / (segments / 2) as f32;
                [radius * theta.sin(), 0.0, radius * theta.cos()]
            })
            .collect();
        mesh.corners.extend([seam[0], seam[seam.len() - 1]]);
        mesh.edges.push(Edge {
            points: seam,
            kind: EdgeType::Circle,
        });
        mesh
    }

    /// A torus around z: `major` radius to the tube's centre, `minor` radius of the tube; one
    /// toroidal face and its two seams.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{FaceType, Mesh};
    ///
    /// let ring = Mesh::torus(10.0, 2.0, 48);
    /// assert_eq!(ring.faces[0].kind, FaceType::Torus);
    /// assert_eq!(ring.edges.len(), 2);
    /// ```
    pub fn torus(major: f32, minor: f32, segments: usize) -> Mesh {
        let segments = segments.max(3);
        let tube = (segments / 2).max(3);
        let mut mesh = Mesh::empty();
        mesh.push_grid(tube, segments, FaceType::Torus, |v, u| {
            let (a, b) = (TAU * u, TAU * v);
            let n = [b.cos() * a.cos(), b.cos() * a.sin(), b.sin()];
            let centre = [major * a.cos(), major * a.sin(), 0.0];
            (
                [
                    centre[0] + minor * n[0],
                    centre[1] + minor * n[1],
                    minor * n[2],
                ],
                n,
            )
        });
        mesh.edges.push(Edge {
            points: circle(major + minor, 0.0, segments),
            kind: EdgeType::Circle,
        });
        let tube_seam = (0..=tube)
            .map(|i| {
                let b = TAU * i as f32 / tube as f32;
                [major + minor * b.cos(), 0.0, minor * b.sin()]
            })
            .collect();
        mesh.edges.push(Edge {
            points: tube_seam,
            kind: EdgeType::Circle,
        });
        mesh.corners.push([major + minor, 0.0, 0.0]);
        mesh
    }

    /// Appends a face sampled on a `(rows + 1) x (cols + 1)` grid: `f(v, u)` with `u`, `v` in
    /// 0..=1 gives each sample's position and normal.
    fn push_grid(
        &mut self,
        rows: usize,
        cols: usize,
        kind: FaceType,
        f: impl Fn(f32, f32) -> ([f32; 3], [f32; 3]),
    ) {
        let base = self.vertices.len() as u32;
        for r in 0..=rows {
            for c in 0..=cols {
                let (p, n) = f(r as f32 / rows as f32, c as f32 / cols as f32);
                self.vertices.push(p);
                self.normals.push(n);
            }
        }
        let row = cols as u32 + 1;
        for r in 0..rows as u32 {
            for c in 0..cols as u32 {
                let a = base + r * row + c;
                let (b, d) = (a + 1, a + row);
                self.triangles.push([a, b, d + 1]);
                self.triangles.push([a, d + 1, d]);
            }
        }
        self.faces.push(Face {
            triangles: 2 * rows * cols,
            kind,
        });
    }

    /// Appends a flat disk of `radius` at height `z` facing `up` (+1 or -1).
    fn push_disk(&mut self, radius: f32, z: f32, up: f32, segments: usize) {
        let normal = [0.0, 0.0, up];
        let centre = self.vertices.len() as u32;
        self.vertices.push([0.0, 0.0, z]);
        self.normals.push(normal);
        for p in circle(radius, z, segments).into_iter().take(segments) {
            self.vertices.push(p);
            self.normals.push(normal);
        }
        for i in 0..segments as u32 {
            let (a, b) = (centre + 1 + i, centre + 1 + (i + 1) % segments as u32);
            self.triangles.push(if up > 0.0 {
                [centre, a, b]
            } else {
                [centre, b, a]
            });
        }
        self.faces.push(Face {
            triangles: segments,
            kind: FaceType::Plane,
        });
    }
}

/// A closed circle of `radius` at height `z` as `segments + 1` points (first = last).
fn circle(radius: f32, z: f32, segments: usize) -> Vec<[f32; 3]> {
    (0..=segments)
        .map(|i| {
            let a = TAU * i as f32 / segments as f32;
            [radius * a.cos(), radius * a.sin(), z]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::mesh::{cross, dot, sub};
    use super::*;

    /// Every triangle of a closed primitive faces outwards (its normal agrees with the vertex
    /// normals).
    #[test]
    fn primitives_wind_outwards() {
        for mesh in [
            Mesh::cuboid(1.0, 2.0, 3.0),
            Mesh::cylinder(1.0, 2.0, 16),
            Mesh::cone(2.0, 1.0, 2.0, 16),
            Mesh::sphere(1.0, 16),
            Mesh::torus(3.0, 1.0, 16),
        ] {
            for tri in &mesh.triangles {
                let [a, b, c] = tri.map(|i| mesh.vertices[i as usize]);
                let face = cross(sub(b, a), sub(c, a));
                if dot(face, face) < 1e-10 {
                    continue; // degenerate at a pole
                }
                let normal = mesh.normals[tri[0] as usize];
                assert!(dot(face, normal) > 0.0, "{tri:?} winds inwards");
            }
        }
    }
}
