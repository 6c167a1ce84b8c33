//! The viewer's tools from code: what the user picked in the page, the server's measurements,
//! and animations.

use serde_json::{json, Value};

use super::viewer::Viewer;
use super::{Error, ErrorCode, Result};
use crate::animation::Animation;
use crate::measure::{Pick, Tool};

impl Viewer {
    /// What the user picked in the page with the measure tools (the toolbar's distance,
    /// properties or angle button, then clicks): parts, faces, edges and vertices, with their
    /// index in the part (the order of build123d's `faces()`, `edges()`, `vertices()`).
    ///
    /// ```text
    /// for pick in viewer.selection()? { println!("{pick}"); }   // face 3 of /Group/bracket
    /// ```
    pub fn selection(&self) -> Result<Vec<Pick>> {
        let answer = self.request(|c, id| c.get_json(&format!("/api/viewer/{id}/selection")))?;
        serde_json::from_value(answer["picks"].clone())
            .map_err(|err| Error::Protocol(err.to_string()))
    }

    /// What a measure tool shows for `picks` (the renderer's names, as [`Viewer::selection`]
    /// answers them with [`Pick::id`]): `distance`, `point1`, `point2` for [`Tool::Distance`],
    /// `area`, `length`, `volume`, `radius`, `center`, `bb` for [`Tool::Properties`], `angle`
    /// for [`Tool::Angle`]. Computed by the server from the model on screen.
    pub fn measure(&self, tool: Tool, picks: &[Pick]) -> Result<Value> {
        let ids: Vec<String> = picks.iter().map(Pick::id).collect();
        let body = serde_json::to_vec(&json!({ "tool": tool, "ids": ids }))?;
        self.request(|c, id| c.post_json(&format!("/api/viewer/{id}/measure"), &body))
            .map_err(not_the_model)
    }

    /// Plays `animation` on the model on screen, in every page showing the viewer (and in pages
    /// opened later), until the next model or [`Viewer::stop_animation`]. Paths are the tree's
    /// (`/Group/arm`); a path or value the model cannot take is an error naming the track.
    pub fn animate(&self, animation: &Animation) -> Result<()> {
        let body = serde_json::to_vec(animation)?;
        self.request(|c, id| c.post_json(&format!("/api/viewer/{id}/animation"), &body))
            .map_err(not_the_model)?;
        Ok(())
    }

    /// Stops the animation; the parts go back where the model puts them. (A viewer showing
    /// nothing has nothing to stop.)
    pub fn stop_animation(&self) -> Result<()> {
        match self.request(|c, id| c.delete_json(&format!("/api/viewer/{id}/animation"))) {
            Err(err) if err.code() == Some(ErrorCode::NoModel) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

/// A request's invalid field is not the model's.
fn not_the_model(err: Error) -> Error {
    match err {
        Error::InvalidModel { path, message } => Error::InvalidRequest { path, message },
        other => other,
    }
}
