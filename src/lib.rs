//! Show CAD models in Jupyter notebooks and browser tabs over plain HTTP and Server-Sent Events.
//!
//! `ocp_notebook` stores models in the format of the OCP CAD viewer family (three-cad-viewer's
//! shapes tree, protocol version 3, as `ocp_vscode.show()` sends it) and tells every browser page
//! showing a viewer about them over SSE. Pages report camera, visibility, picks and screenshots back
//! over plain HTTP, so notebooks can read them.
//!
//! # Use
//!
//! - The server: `cargo install ocp_notebook`, then `ocp-notebook` (127.0.0.1:5000; `--help`).
//! - In an evcxr notebook: `:dep ocp_notebook = "0.1"`, then `notebook::Viewer::new()?` shows a
//!   viewer under the cell with the server inside the kernel; with `default-features = false`
//!   the bridge alone (no Rocket, compiled in seconds) reaches an installed or running server.
//! - From Python (build123d, CadQuery): `pip install ocp_notebook`, whose wheel carries the server.
//!
//! The crate carries the viewer's renderer (three-cad-viewer, MIT), so building it needs no
//! Node.js and no npm registry.
//!
//! # Layout
//!
//! Layers, from the bottom up; each imports only the layers named beside it, which
//! `tests/layers.rs` checks on every file:
//!
//! | layer | modules | may import |
//! |---|---|---|
//! | foundation | [`ids`], [`html`], [`wire`], `assets` | nothing |
//! | model | [`model`] | foundation |
//! | reading a model | [`measure`], [`animation`], `scene` | model |
//! | state | `hub` | model; no Rocket, no clap |
//! | server | `server`, `error`, `settings`, the binary | everything below |
//! | notebook | [`notebook`] | model, measure's types, and `server::spawn` with its settings to run the server inside a kernel |
//!
//! - [`ids`]: viewer and model ids, validated once at the edge so nothing else has to.
//! - [`wire`]: the error codes of the wire contract, which the server sends and both notebook
//!   bridges match on.
//! - [`html`]: HTML escaping, for everything written into a page. `assets`: the files the binary
//!   carries (the renderer, the page's modules) and the one gzip every compressed body uses.
//! - [`model`]: the format. [`model::skeleton`] is the one reading of a model (the body forms,
//!   the tree, references into shared meshes) that validation, measurement and animation share;
//!   [`model::upload`] reads what a client POSTs and [`model::validate`] checks everything the
//!   renderer relies on in one borrowed pass (JSON paths in every error, as a
//!   [`model::ModelError`]); [`model::parts`] keeps the geometry by content (a tree form, and each mesh
//!   once under its hash) and [`model::stored`] serves it back as posted. For Rust
//!   users, [`model::types`] reads and writes the format with typed arrays and
//!   [`model::builder`] makes models from meshes, primitives and files.
//! - [`measure`]: answers to the renderer's measurement tools (distance, properties, angle)
//!   from the stored mesh, and the renderer's names for picked faces, edges and vertices.
//! - [`animation`]: animation tracks (ocp_vscode's `Animation`), checked against the model.
//! - `scene`: one-file HTML scenes (renderer, page and model in one file) that open offline.
//! - `hub`: all state (viewers, models, subscribers, event history, status, screenshots).
//!   `hub::Hub` holds every rule once (what a page receives, eviction, one order of writes
//!   per viewer, screenshot hand-off) over a `hub::Store`: `hub::MemoryStore` in this process,
//!   or `hub::redis::RedisStore` (feature `redis`, `--store redis://...`) shared by instances
//!   behind a load balancer.
//! - `settings`: every knob of the server (bind address, token, limits), shared by the CLI, the
//!   environment (`OCP_NOTEBOOK_*`) and library users.
//! - `server`: the Rocket application: request guards (Host, Origin, token), routes grouped by
//!   resource, catchers and fallback routes (JSON errors, 405 with `Allow`, bodies read before
//!   any answer), `server::openapi` (the API as an OpenAPI 3.1 document, from the handlers'
//!   annotations and types), and `server::launch` / `server::spawn` to run it. `error`: the
//!   one JSON error shape every failure is answered with.
//! - [`notebook`]: the bridge for notebooks (evcxr): a `Viewer` shown inline, fed cell by cell.
//!
//! A request goes: `server::routes::*` (guards check Host/Origin/token) → `model` (parse and check,
//! on a blocking thread for uploads) → `hub` (store and broadcast, in order per viewer) →
//! `server::routes::events` streams the pre-rendered SSE frames to each subscriber.

pub mod animation;
#[cfg(feature = "server")]
pub mod assets;
#[cfg(feature = "server")]
pub mod error;
pub mod html;
#[cfg(feature = "server")]
pub mod hub;
pub mod ids;
pub mod measure;
pub mod model;
pub mod notebook;
#[cfg(feature = "server")]
pub mod scene;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod settings;
pub mod wire;

#[cfg(feature = "server")]
pub use settings::Settings;
