//! What a notebook cell shows: the viewers made in it, side by side, and short summaries of the
//! builder's values.
//!
//! evcxr keeps one display per cell (a second `text/html` output replaces the first), so a cell
//! making four viewers would show only the last. But evcxr compiles each cell into its own
//! library with its own copy of every static: [`show_viewer`] keeps the frames shown so far in
//! a static, which is therefore the current cell's, and shows them all again, as one grid.

use std::fmt;
use std::sync::Mutex;

use super::viewer::Viewer;
use crate::model::builder::{Group, Item, Mesh, Part};

/// One viewer's frame in a cell's output.
struct Frame {
    viewer_id: String,
    html: String,
    text: String,
}

/// The frames this cell has shown (a fresh, empty static in every cell's library).
static CELL_FRAMES: Mutex<Vec<Frame>> = Mutex::new(Vec::new());

/// Shows `viewer` in the current cell, beside the viewers the cell showed before.
pub(super) fn show_viewer(viewer: &Viewer) {
    let mut frames = CELL_FRAMES.lock().unwrap_or_else(|e| e.into_inner());
    let frame = Frame {
        viewer_id: viewer.id(),
        html: viewer.frame_html(),
        text: viewer.to_string(),
    };
    match frames.iter_mut().find(|f| f.viewer_id == frame.viewer_id) {
        Some(shown) => *shown = frame,
        None => frames.push(frame),
    }
    emit(&frames);
}

/// Several viewers side by side in one cell's output, from [`grid`].
#[derive(Clone)]
pub struct Grid {
    html: String,
    text: String,
}

/// Shows existing viewers side by side, e.g. to compare variants made in earlier cells:
/// `notebook::grid([&plain, &filleted])`. (Viewers made in one cell are shown that way anyway.)
pub fn grid<'a>(viewers: impl IntoIterator<Item = &'a Viewer>) -> Grid {
    let frames: Vec<Frame> = viewers
        .into_iter()
        .map(|viewer| Frame {
            viewer_id: viewer.id(),
            html: viewer.frame_html(),
            text: viewer.to_string(),
        })
        .collect();
    Grid {
        html: grid_html(&frames),
        text: text_of(&frames),
    }
}

impl Grid {
    /// Called by evcxr for a cell whose value is the grid.
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/html").text(&self.html);
        evcxr_runtime::mime_type("text/plain").text(&self.text);
    }
}

impl fmt::Display for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn emit(frames: &[Frame]) {
    evcxr_runtime::mime_type("text/html").text(grid_html(frames));
    evcxr_runtime::mime_type("text/plain").text(text_of(frames));
}

/// One frame as it is; several in a grid of columns at least 360 px wide (two side by side in a
/// usual notebook, one under the other on a narrow screen).
fn grid_html(frames: &[Frame]) -> String {
    match frames {
        [one] => one.html.clone(),
        _ => {
            let cells: String = frames.iter().map(|f| f.html.as_str()).collect();
            format!(
                "<div class=\"ocp-notebook-grid\" style=\"display: grid; \
                 grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); \
                 gap: 8px;\">{cells}</div>"
            )
        }
    }
}

fn text_of(frames: &[Frame]) -> String {
    let lines: Vec<&str> = frames.iter().map(|f| f.text.as_str()).collect();
    lines.join("\n")
}

impl Mesh {
    /// Called by evcxr for a cell whose value is a mesh: its size, not its arrays.
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(summary_of_mesh(self));
    }
}

impl Part {
    /// Called by evcxr for a cell whose value is a part.
    pub fn evcxr_display(&self) {
        let look = self.color.as_deref().unwrap_or("default colour");
        evcxr_runtime::mime_type("text/plain").text(format!(
            "part {:?}: {}, {look}",
            self.name,
            summary_of_mesh(&self.mesh)
        ));
    }
}

impl Group {
    /// Called by evcxr for a cell whose value is a group (such as `viewer.scene()`): each part
    /// by the path that [`Viewer::remove`] takes and the viewer's tree shows.
    pub fn evcxr_display(&self) {
        evcxr_runtime::mime_type("text/plain").text(outline(self));
    }
}

fn summary_of_mesh(mesh: &Mesh) -> String {
    format!(
        "{} triangles, {} faces, {} edges",
        mesh.triangle_count(),
        mesh.faces.len(),
        mesh.edges.len()
    )
}

/// `group "scene": 4 parts, 48 triangles`, then one line per part path.
pub(super) fn outline(group: &Group) -> String {
    fn walk(group: &Group, prefix: &str, lines: &mut Vec<(String, usize)>) {
        for (item, name) in group.children.iter().zip(group.child_names()) {
            match item {
                Item::Group(inner) => walk(inner, &format!("{prefix}{name}/"), lines),
                Item::Part(part) => {
                    lines.push((format!("{prefix}{name}"), part.mesh.triangle_count()))
                }
            }
        }
    }
    let mut lines = Vec::new();
    walk(group, "", &mut lines);
    let triangles: usize = lines.iter().map(|(_, n)| n).sum();
    let width = lines.iter().map(|(path, _)| path.len()).max().unwrap_or(0);
    let mut out = format!(
        "group {:?}: {} part{}, {triangles} triangles",
        group.name,
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    for (path, count) in lines {
        out.push_str(&format!("\n  {path:width$}  {count} triangles"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outline_lists_the_paths_remove_takes() {
        let cube = std::sync::Arc::new(Mesh::cuboid(1.0, 1.0, 1.0));
        let posts = (0..2).fold(Group::new("posts"), |g, _| {
            g.with(Part::new("post", cube.clone()))
        });
        let scene = Group::new("scene")
            .with(Part::new("plate", cube.clone()))
            .with(posts);
        assert_eq!(
            outline(&scene),
            "group \"scene\": 3 parts, 36 triangles\n  \
             plate         12 triangles\n  \
             posts/post    12 triangles\n  \
             posts/post_2  12 triangles"
        );
    }

    #[test]
    fn several_frames_share_one_grid_and_one_stays_bare() {
        let frame = |id: &str| Frame {
            viewer_id: id.into(),
            html: format!("<iframe id=\"{id}\"></iframe>"),
            text: format!("viewer {id}"),
        };
        assert_eq!(grid_html(&[frame("a")]), "<iframe id=\"a\"></iframe>");
        let both = grid_html(&[frame("a"), frame("b")]);
        assert!(
            both.starts_with("<div class=\"ocp-notebook-grid\""),
            "{both}"
        );
        assert_eq!(both.matches("<iframe").count(), 2);
        assert_eq!(text_of(&[frame("a"), frame("b")]), "viewer a\nviewer b");
    }
}
