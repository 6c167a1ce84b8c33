//! Building models in Rust: meshes with CAD structure, primitives, assemblies, file import.
//!
//! - [`Mesh`] ([`mesh`]): vertices, normals, triangles grouped into faces, edges, corners; from
//!   bare triangles with normals and feature edges computed.
//! - [`primitives`]: box, cylinder, cone, sphere, torus with real face structure.
//! - [`Part`] and [`Group`] ([`scene`]): named, coloured, placed, nested; written as the
//!   instanced form with unique ids, bounding boxes, base64 or plain arrays.
//! - [`import`]: STL and OBJ files; [`load_json`] for any three-cad-viewer / ocp_vscode JSON.
//!
//! ```
//! use ocp_notebook::model::builder::{Group, Mesh, Part};
//! use ocp_notebook::model::types::{Location, Message};
//!
//! let model = Group::new("demo")
//!     .with(Part::new("base", Mesh::cuboid(40.0, 40.0, 4.0)).color("#808080"))
//!     .with(Part::new("knob", Mesh::sphere(6.0, 32)).color("#cc3333").at(Location::translation(0.0, 0.0, 8.0)))
//!     .to_message();
//! let json = model.to_json();
//! let read = Message::from_json(json.as_bytes()).unwrap();
//! assert_eq!(read.data.resolved().unwrap().parts.len(), 2);
//! ```

pub mod import;
pub mod mesh;
pub mod primitives;
pub mod scene;

pub use mesh::{Edge, EdgeType, Face, FaceType, Mesh, Normals};
pub use scene::{load_json, Group, Item, Part};

/// Why a model could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("triangle {triangle} uses vertex {index}, but there are {vertices} vertices")]
    IndexOutOfRange {
        triangle: usize,
        index: u32,
        vertices: usize,
    },
    #[error("vertex {vertex} is not finite")]
    NotFinite { vertex: usize },
    #[error("not a valid {0}: {1}")]
    Format(String, String),
    #[error("could not read {0}: {1}")]
    Io(String, std::io::Error),
}
