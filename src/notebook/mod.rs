//! The notebook bridge: a live viewer inline in a Jupyter notebook, fed from later cells.
//!
//! In the evcxr kernel:
//!
//! ```text
//! :dep ocp_notebook = { path = "..." }
//! use ocp_notebook::notebook::Viewer;
//! use ocp_notebook::model::builder::{Mesh, Part};
//! let viewer = Viewer::new()?;            // shows the viewer inline, on a fresh id
//! viewer.show(&Part::new("box", Mesh::cuboid(10.0, 20.0, 5.0)))?;   // a later cell
//! ```
//!
//! # Layout
//!
//! - [`viewer`]: [`Viewer`] and its builder: show, add/remove parts, clear, live settings,
//!   status and screenshots; what each returns is owned, nameable from this module, and
//!   displays itself in the notebook.
//! - `cell`: what a cell shows: every viewer made in it, side by side ([`grid`] does the same
//!   for viewers of earlier cells), and summaries of meshes, parts and groups.
//! - `history`: the viewer's versions: [`Viewer::history`], [`Viewer::show_version`] and
//!   [`Viewer::diff`] (what changed, part by part).
//! - `tools`: the page's measure tools from code: [`Viewer::selection`] (what the user picked),
//!   [`Viewer::measure`], and [`Viewer::animate`].
//! - [`model`]: what can be shown ([`IntoModel`]): built models, parts, groups, JSON.
//! - [`server`]: finding the server: `OCP_NOTEBOOK_URL`, one started inside the kernel (with the
//!   `server` feature), or the installed `ocp-notebook` as a child process. The process
//!   environment is the handle every later cell finds it by: evcxr gives each cell its own copy
//!   of every static, but one environment.
//! - [`frame`]: where the notebook's browser finds the page (loopback, JupyterHub's proxy, a URL
//!   template) and the HTML shown in the cell.
//! - `client`: blocking HTTP to the server, with its JSON errors mapped onto [`Error`].

mod cell;
mod client;
pub mod frame;
mod history;
pub mod model;
pub mod server;
mod tools;
pub mod viewer;

pub use crate::animation::Animation;
pub use crate::measure::{Pick, Tool, Topology};
pub use crate::wire::ErrorCode;
pub use cell::{grid, Grid};
pub use frame::FrameOptions;
pub use history::{Diff, History, Version};
pub use model::IntoModel;
/// The JSON the API takes and answers: `json!({"axes": true})` for [`Viewer::config`], and the
/// types of [`Status`] and [`Config`], nameable from here without adding serde_json to the
/// notebook (evcxr must name the type of every variable a cell keeps).
pub use serde_json::{json, Map, Value};
pub use viewer::{
    Config, EmbeddedScene, SavedScene, Screenshot, Shown, Status, Viewer, ViewerBuilder,
};

/// Everything that can go wrong in a notebook, worded for the person reading the cell's output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the ocp_notebook server at {url} cannot be reached ({reason}); if it was stopped, \
         start it again or unset OCP_NOTEBOOK_URL to let the notebook start its own"
    )]
    Unreachable { url: String, reason: String },
    #[error("no ocp_notebook server could be started: {0}")]
    Start(String),
    #[error("the model is invalid at {path}: {message}")]
    InvalidModel { path: String, message: String },
    #[error("{message} (at {path})")]
    InvalidRequest { path: String, message: String },
    #[error("viewer {0} is closed or unknown to the server (it may have restarted); make a new one with Viewer::new()")]
    ViewerClosed(String),
    #[error("no page is showing viewer {0}, so there is nothing to photograph; run the cell that displays it, or open its URL")]
    NoPage(String),
    #[error("nothing in the scene is called {path:?}; it holds: {names}")]
    NotInScene { path: String, names: String },
    #[error("the server refused the request ({status} {code}): {message}{}", .path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())]
    Server {
        status: u16,
        code: String,
        message: String,
        path: Option<String>,
    },
    #[error("the server's answer was not understood: {0}")]
    Protocol(String),
    #[error("cannot write {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("the model could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// The code of a server's refusal, if it is one this bridge knows (a newer server may send
    /// codes it does not).
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Server { code, .. } => ErrorCode::parse(code),
            _ => None,
        }
    }

    /// The server's `{"error": {code, message, path}}` answer as an error.
    fn from_answer(status: u16, body: &[u8]) -> Error {
        let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let error = &answer["error"];
        let text = |key: &str| error[key].as_str().map(str::to_string);
        let code = text("code").unwrap_or_else(|| "unknown".into());
        let message = text("message")
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect());
        let model_error = matches!(
            ErrorCode::parse(&code),
            Some(ErrorCode::Invalid | ErrorCode::MalformedJson)
        );
        match (model_error, text("path")) {
            (true, Some(path)) if path.starts_with('$') => Error::InvalidModel { path, message },
            _ => Error::Server {
                status,
                code,
                message,
                path: text("path"),
            },
        }
    }
}

/// Results of the bridge.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_keep_their_json_path() {
        let body = br#"{"error":{"code":"invalid","message":"index 9 out of range","path":"$.data.instances[0].triangles"}}"#;
        let err = Error::from_answer(422, body);
        assert_eq!(
            err.to_string(),
            "the model is invalid at $.data.instances[0].triangles: index 9 out of range"
        );
        let err = Error::from_answer(
            403,
            br#"{"error":{"code":"bad_token","message":"wrong token"}}"#,
        );
        assert_eq!(
            err.to_string(),
            "the server refused the request (403 bad_token): wrong token"
        );
        let err = Error::from_answer(502, b"<html>bad gateway</html>");
        assert!(err.to_string().contains("bad gateway"), "{err}");
    }

    /// Every code the server may send (`tests/fixtures/wire.json`, which the Python bridge's
    /// tests read too) reaches the bridge as itself: the model's errors as `InvalidModel`,
    /// every other as a `Server` error whose `code()` names it.
    #[test]
    fn every_listed_code_is_understood() {
        let listing: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wire.json"
        )))
        .unwrap();
        for entry in listing["error_codes"].as_array().unwrap() {
            let code = entry["code"].as_str().unwrap();
            let status = entry["status"].as_u64().unwrap_or(500) as u16;
            let body = json!({"error": {"code": code, "message": "m", "path": "$.x"}});
            let err = Error::from_answer(status, body.to_string().as_bytes());
            match err {
                Error::InvalidModel { .. } => assert!(matches!(code, "invalid" | "malformed_json")),
                other => assert_eq!(other.code().map(ErrorCode::as_str), Some(code)),
            }
        }
    }
}
