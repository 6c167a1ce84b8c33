//! Meshes from files: STL (binary and ASCII, through `stl_io`) and OBJ (through `tobj`). Plain
//! triangle soups get CAD structure on the way in (see [`Mesh::from_triangles`]).

use std::io::{BufRead, Read, Seek};

use super::mesh::Mesh;
use super::scene::{Group, Part};
use super::BuildError;

impl Mesh {
    /// Reads an STL (binary or ASCII).
    ///
    /// ```
    /// use ocp_notebook::model::builder::Mesh;
    ///
    /// let stl = "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\n\
    ///            endloop\nendfacet\nendsolid t\n";
    /// let mesh = Mesh::from_stl(&mut std::io::Cursor::new(stl)).unwrap();
    /// assert_eq!(mesh.triangle_count(), 1);
    /// ```
    pub fn from_stl(reader: &mut (impl Read + Seek)) -> Result<Mesh, BuildError> {
        let stl = stl_io::read_stl(reader)
            .map_err(|e| BuildError::Format("STL".into(), e.to_string()))?;
        let vertices = stl.vertices.iter().map(|v| v.0).collect();
        let triangles = stl
            .faces
            .iter()
            .map(|f| f.vertices.map(|i| i as u32))
            .collect();
        Mesh::from_triangles(vertices, triangles)
    }
}

impl Group {
    /// Reads an OBJ: one part per object, named as in the file (materials are not read).
    ///
    /// ```
    /// use ocp_notebook::model::builder::Group;
    ///
    /// let obj = "o wedge\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n";
    /// let group = Group::from_obj("wedge.obj", &mut obj.as_bytes()).unwrap();
    /// assert_eq!(group.children.len(), 1);
    /// ```
    pub fn from_obj(name: &str, reader: &mut impl BufRead) -> Result<Group, BuildError> {
        let options = tobj::LoadOptions {
            triangulate: true,
            single_index: true,
            ..Default::default()
        };
        let (models, _) =
            tobj::load_obj_buf(reader, &options, |_| Err(tobj::LoadError::OpenFileFailed))
                .map_err(|e| BuildError::Format("OBJ".into(), e.to_string()))?;
        let mut group = Group::new(name.trim_end_matches(".obj"));
        for model in models {
            let vertices = model
                .mesh
                .positions
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect();
            let triangles = model
                .mesh
                .indices
                .chunks_exact(3)
                .map(|t| [t[0], t[1], t[2]])
                .collect();
            let mesh = Mesh::from_triangles(vertices, triangles)?;
            group.push(Part::new(model.name, mesh));
        }
        Ok(group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_stl_reads_like_ascii() {
        let cube = Mesh::cuboid(2.0, 2.0, 2.0);
        let triangles: Vec<stl_io::Triangle> = cube
            .triangles
            .iter()
            .map(|t| stl_io::Triangle {
                normal: stl_io::Vector::new(cube.normals[t[0] as usize]),
                vertices: t.map(|i| stl_io::Vector::new(cube.vertices[i as usize])),
            })
            .collect();
        let mut binary = Vec::new();
        stl_io::write_stl(&mut binary, triangles.iter()).unwrap();
        let mesh = Mesh::from_stl(&mut std::io::Cursor::new(binary)).unwrap();
        assert_eq!(mesh.triangle_count(), 12);
        assert_eq!(mesh.faces.len(), 6, "the six sides come back as six faces");
        assert_eq!(mesh.edges.len(), 12, "with the twelve sharp edges");
    }

    #[test]
    fn broken_files_are_errors() {
        let err = Mesh::from_stl(&mut std::io::Cursor::new(
            b"solid x\nfacet nonsense".to_vec(),
        ))
        .unwrap_err();
        assert!(err.to_string().starts_with("not a valid STL"), "{err}");
        let err = Group::from_obj("x", &mut "f 1 2 3\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("OBJ"), "{err}");
    }
}
