//! A viewer's versions from a notebook: every `show` is one. [`Viewer::history`] lists what the
//! server keeps, [`Viewer::show_version`] puts one back on screen, and [`Viewer::diff`] says
//! what changed, part by part.

use std::fmt;

use serde::Deserialize;

use super::viewer::Viewer;
use super::{json, Error, Result};
use crate::model::diff::Changes;

/// One kept version.
#[derive(Debug, Clone, Deserialize)]
pub struct Version {
    pub model_id: String,
    /// When it was pushed (RFC 3339, UTC).
    pub created: String,
    pub parts: usize,
    pub triangles: usize,
    /// Its size as served.
    pub bytes: usize,
    /// What it added to the server's memory: its tree and the parts no kept version had.
    pub new_bytes: usize,
}

/// A viewer's kept versions, oldest first; a cell showing it prints one line per version.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    pub viewer_id: String,
    /// The version on screen.
    pub model_id: Option<String>,
    pub versions: Vec<Version>,
    /// How many versions the server keeps per viewer (`--history`).
    pub limit: usize,
}

/// What changed from version `from` (none: the first one kept) to `to`, as part paths.
#[derive(Debug, Clone, Deserialize)]
pub struct Diff {
    pub from: Option<String>,
    pub to: String,
    #[serde(flatten)]
    pub changes: Changes,
}

impl Viewer {
    /// The versions the server keeps of this viewer (its last `--history` pushes), oldest first.
    pub fn history(&self) -> Result<History> {
        let answer = self.request(|c, id| c.get_json(&format!("/api/viewer/{id}/history")))?;
        serde_json::from_value(answer).map_err(|err| Error::Protocol(err.to_string()))
    }

    /// Shows a kept version again on every page of the viewer (a `model_id` from
    /// [`Viewer::history`], or a [`Shown`](super::Shown)'s).
    pub fn show_version(&self, model_id: &str) -> Result<()> {
        let body = serde_json::to_vec(&json!({ "model_id": model_id }))?;
        self.request(|c, id| c.post_json(&format!("/api/viewer/{id}/show"), &body))?;
        Ok(())
    }

    /// What changed from the version before the one on screen to the one on screen.
    pub fn diff(&self) -> Result<Diff> {
        self.diff_between(None, None)
    }

    /// What changed from version `from` (default: the one before `to`) to `to` (default: the
    /// one on screen).
    pub fn diff_between(&self, from: Option<&str>, to: Option<&str>) -> Result<Diff> {
        let mut query = Vec::new();
        query.extend(from.map(|from| format!("from={}", super::frame::encode(from))));
        query.extend(to.map(|to| format!("to={}", super::frame::encode(to))));
        let path = |id: &_| format!("/api/viewer/{id}/diff?{}", query.join("&"));
        let answer = self.request(|c, id| c.get_json(&path(id)))?;
        serde_json::from_value(answer).map_err(|err| Error::Protocol(err.to_string()))
    }
}

/// `1 part`, `2 parts`: what the summaries print (the rule in `tests/fixtures/rules.json`).
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "viewer {}: {} kept (of at most {})",
            self.viewer_id,
            count(self.versions.len(), "version"),
            self.limit
        )?;
        for (n, version) in self.versions.iter().enumerate() {
            let shown = self.model_id.as_deref() == Some(version.model_id.as_str());
            write!(
                f,
                "\n{} {:>3}. {} {}: {}, {}, {:.1} KB new",
                if shown { "▶" } else { " " },
                n + 1,
                version.created,
                version.model_id,
                count(version.parts, "part"),
                count(version.triangles, "triangle"),
                version.new_bytes as f64 / 1000.0
            )?;
        }
        Ok(())
    }
}

impl History {
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(self.to_string());
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = self.from.as_deref().unwrap_or("nothing");
        writeln!(f, "from {from} to {}:", self.to)?;
        let kinds = [
            ("added", &self.changes.added),
            ("removed", &self.changes.removed),
            ("changed", &self.changes.changed),
            ("moved", &self.changes.moved),
            ("restyled", &self.changes.restyled),
        ];
        for (kind, paths) in kinds.iter().filter(|(_, paths)| !paths.is_empty()) {
            writeln!(f, "  {kind}: {}", paths.join(", "))?;
        }
        if self.changes.is_empty() {
            writeln!(f, "  nothing changed")?;
        }
        write!(
            f,
            "  unchanged: {}",
            count(self.changes.unchanged.len(), "part")
        )
    }
}

impl Diff {
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(self.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases both notebook bridges' tests read (`tests/fixtures/rules.json`).
    fn summaries() -> serde_json::Value {
        let rules: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rules.json"
        )))
        .unwrap();
        rules["summaries"].clone()
    }

    #[test]
    fn summaries_print_what_the_bridges_agree_on() {
        let summaries = summaries();
        for case in summaries["history"].as_array().unwrap() {
            let history: History = serde_json::from_value(case["answer"].clone()).unwrap();
            assert_eq!(history.to_string(), case["text"].as_str().unwrap());
        }
        for case in summaries["diff"].as_array().unwrap() {
            let diff: Diff = serde_json::from_value(case["answer"].clone()).unwrap();
            assert_eq!(diff.to_string(), case["text"].as_str().unwrap());
        }
    }
}
