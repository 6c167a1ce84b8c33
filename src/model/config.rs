//! Viewer settings: ocp_vscode's config keys (`theme`, `axes`, `treeWidth`, ...), which a
//! model, a viewer and the server each carry and pages merge in that order.

use serde_json::{Map, Value};

/// The server-wide viewer defaults a fresh server starts with (ocp_vscode's config keys).
pub fn initial_defaults() -> Map<String, Value> {
    let defaults = serde_json::json!({
        "theme": "browser",
        "control": "trackball",
        "up": "Z",
        "ortho": true,
        "axes": false,
        "axes0": false,
        "grid": [false, false, false],
        "transparent": false,
        "blackEdges": false,
        "tools": true,
        "glass": true,
        "treeWidth": 240,
        "resetCamera": "reset",
    });
    defaults.as_object().cloned().unwrap_or_default()
}
