//! The model format (three-cad-viewer's shapes tree, protocol version 3) as the server sees it.
//!
//! The server is a relay: it never keeps the geometry's numbers, only needs to know the upload is
//! a model the renderer can draw and where its geometry is. So an upload is read into a borrowed
//! skeleton, every array checked as it is read (buffers decoded in small chunks and dropped), and
//! the geometry stored byte for byte as posted. No `serde_json::Value` of a model is ever built.
//!
//! - [`upload`]: the three body forms a client may POST, and the stored form served back.
//! - [`config`]: viewer settings and the defaults a fresh server starts with.
//! - [`error`]: what is wrong with an upload, and where (a JSON path).
//! - [`skeleton`]: the one reading of a model's tree, which everything that looks into a model
//!   uses: validation, measurement, animation.
//! - [`validate`]: everything the renderer relies on (tree shape, ids, array lengths, indices,
//!   finite numbers, buffers), checked in one borrowed pass with JSON paths in errors.
//! - [`builder`]: meshes, primitives, assemblies and file import for Rust users.
//! - [`diff`]: what changed between two versions, part by part.
//! - [`parts`]: a geometry by content: its tree form and its meshes as parts, each stored once
//!   under its hash however many versions hold it.
//! - [`stored`]: the stored form in shared segments, served without a copy.
//! - [`types`]: the format as Rust types, decoding buffers into typed arrays and back.
//! - [`synthetic`]: generated models of any size, for demos, tests and benchmarks.

pub mod builder;
pub mod config;
pub mod diff;
pub mod error;
#[cfg(feature = "server")]
pub mod parts;
pub mod skeleton;
#[cfg(feature = "server")]
pub mod stored;
pub mod synthetic;
pub mod types;
#[cfg(feature = "server")]
pub mod upload;
#[cfg(feature = "server")]
pub mod validate;

pub use error::{ModelError, ModelErrorKind};
pub use skeleton::{Limits, Skeleton, DEEPEST};
#[cfg(feature = "server")]
pub use stored::StoredJson;
#[cfg(feature = "server")]
pub use upload::{parse_upload, Upload};
#[cfg(feature = "server")]
pub use validate::TreeSummary;
