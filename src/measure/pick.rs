//! What a page says the user picked: three-cad-viewer names each face, edge and vertex of a part
//! by a path under the part's id (`/Group/bracket/faces/faces_3`, `.../edges/edges_0`,
//! `.../vertices/vertices2`), and a whole solid by the part's id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of thing was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    Face,
    Edge,
    Vertex,
    Solid,
}

impl Topology {
    /// The name of the group the renderer files this kind under, and the prefix of its members.
    fn group(self) -> Option<(&'static str, &'static str)> {
        match self {
            Topology::Face => Some(("faces", "faces_")),
            Topology::Edge => Some(("edges", "edges_")),
            Topology::Vertex => Some(("vertices", "vertices")),
            Topology::Solid => None,
        }
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Topology::Face => "face",
            Topology::Edge => "edge",
            Topology::Vertex => "vertex",
            Topology::Solid => "solid",
        })
    }
}

/// One picked thing: the part's path in the tree, what was picked and its index among the
/// part's faces, edges or vertices (in the order the tessellator wrote them, which is the order
/// of build123d's and CadQuery's `faces()`, `edges()`, `vertices()` for the shapes they came from).
///
/// Serialized with its renderer's name as `id`: `{"id", "path", "kind", "index"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Pick {
    pub path: String,
    pub kind: Topology,
    /// `None` for a whole solid.
    pub index: Option<usize>,
}

impl Pick {
    /// Reads the renderer's name for a pick; `None` for a string that is not one.
    ///
    /// ```
    /// use ocp_notebook::measure::{Pick, Topology};
    ///
    /// let face = Pick::parse("/Group/bracket/faces/faces_3").unwrap();
    /// assert_eq!((face.path.as_str(), face.kind, face.index), ("/Group/bracket", Topology::Face, Some(3)));
    /// assert_eq!(Pick::parse("/Group/bracket/vertices/vertices12").unwrap().index, Some(12));
    /// assert_eq!(Pick::parse("/Group/bracket/vertices/vertices_12").unwrap().index, Some(12));
    /// assert_eq!(Pick::parse("/Group/bracket").unwrap().kind, Topology::Solid);
    /// assert_eq!(Pick::parse("no slash"), None);
    /// ```
    pub fn parse(id: &str) -> Option<Pick> {
        if !id.starts_with('/') || id.len() < 2 {
            return None;
        }
        for kind in [Topology::Face, Topology::Edge, Topology::Vertex] {
            let (group, prefix) = kind.group()?;
            let Some((rest, member)) = id.rsplit_once('/') else {
                continue;
            };
            let Some(number) = member.strip_prefix(prefix) else {
                continue;
            };
            // The renderer writes `vertices3`; `vertices_3`, like `faces_3`, is taken too.
            let number = number.strip_prefix('_').unwrap_or(number);
            let Some(path) = rest.strip_suffix(group).and_then(|p| p.strip_suffix('/')) else {
                continue;
            };
            if path.is_empty() || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let index = number.parse().ok()?;
            return Some(Pick {
                path: path.to_string(),
                kind,
                index: Some(index),
            });
        }
        Some(Pick {
            path: id.to_string(),
            kind: Topology::Solid,
            index: None,
        })
    }

    /// The renderer's name for it (what [`Pick::parse`] reads).
    pub fn id(&self) -> String {
        match (self.kind.group(), self.index) {
            (Some((group, prefix)), Some(index)) => {
                format!("{}/{group}/{prefix}{index}", self.path)
            }
            _ => self.path.clone(),
        }
    }
}

impl Serialize for Pick {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Pick", 4)?;
        out.serialize_field("id", &self.id())?;
        out.serialize_field("path", &self.path)?;
        out.serialize_field("kind", &self.kind)?;
        out.serialize_field("index", &self.index)?;
        out.end()
    }
}

impl fmt::Display for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(index) => write!(f, "{} {index} of {}", self.kind, self.path),
            None => write!(f, "{} {}", self.kind, self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_odd_ones_are_whole_parts() {
        for id in [
            "/G/a/faces/faces_0",
            "/G/a b/edges/edges_17",
            "/G/x/vertices/vertices3",
            "/G/x",
        ] {
            assert_eq!(Pick::parse(id).unwrap().id(), id);
        }
        // A part that happens to be called "faces_x" is a part, not a face.
        let odd = Pick::parse("/G/faces/faces_x").unwrap();
        assert_eq!(odd.kind, Topology::Solid);
        assert_eq!(Pick::parse("/faces/faces_1").unwrap().kind, Topology::Solid);
        assert_eq!(
            Pick::parse("/G/a/faces/faces_99999999999999999999999"),
            None
        );
    }
}
