//! Why an upload is not a model the renderer can draw: broken JSON, or a model with a problem at
//! a JSON path. The server answers the first with 400 and the second with 422; nothing here
//! knows about HTTP.

use std::fmt;

/// What kind of problem a [`ModelError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelErrorKind {
    /// Not JSON (or not text at all).
    Malformed,
    /// JSON, but not a model the renderer can draw.
    Invalid,
}

/// The first problem found in an upload, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub kind: ModelErrorKind,
    pub message: String,
    /// Where in the body: a JSON path such as `$.data.shapes.parts[2].shape.ref`.
    pub path: Option<String>,
}

impl ModelError {
    pub fn invalid(message: impl Into<String>, path: impl Into<String>) -> Self {
        ModelError {
            kind: ModelErrorKind::Invalid,
            message: message.into(),
            path: Some(path.into()),
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        ModelError {
            kind: ModelErrorKind::Malformed,
            message: message.into(),
            path: None,
        }
    }

    /// An error serde reported inside the value at `prefix` (`$`, `$.data`): a value of the wrong
    /// type or shape is `Invalid` at its path, anything else `Malformed`.
    pub fn from_serde(prefix: &str, err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = join_path(prefix, err.path());
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ModelError::invalid(inner.to_string(), path),
            _ => ModelError::malformed(format!("body is not valid JSON: {inner}")),
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ModelError {}

/// Joins a JSON path prefix (`$`, `$.data`) and a path serde reported inside it (`parts[2].name`).
fn join_path(prefix: &str, inner: &serde_path_to_error::Path) -> String {
    match inner.to_string() {
        p if p == "." => prefix.to_string(),
        p if p.starts_with('[') => format!("{prefix}{p}"),
        p => format!("{prefix}.{p}"),
    }
}
