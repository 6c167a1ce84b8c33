//! A model stored by content: its tree, with each mesh of [`MIN_PART`] bytes or more replaced by
//! `{"part": "<hash>"}`, and those meshes as parts, each stored once under the SHA-256 of its
//! bytes ([`PartHash`]).
//!
//! Re-running a cell pushes the same model again, or the same model with one part changed; the
//! parts it shares with earlier versions cost nothing to keep and nothing to send to a page that
//! has them. The tree form is what pages fetch first (small: names, places, colours); the parts
//! they lack come after. Served whole, a model is its tree with the parts put back byte for byte,
//! so `GET /api/model/<id>` answers exactly what was posted.

use std::ops::Range;

use bytes::Bytes;
use serde::de::IgnoredAny;

use super::error::ModelError;
use super::skeleton::{placeholder, Limits, Mesh, Skeleton, Unread};
use crate::ids::PartHash;

/// Meshes smaller than this stay in the tree: a part costs a hash and an entry in the store,
/// which a few hundred bytes of mesh would not repay.
pub const MIN_PART: usize = 1024;

/// Where a part sits in a tree form: the placeholder `{"part":"<hash>"}` at `range` of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hole {
    pub range: Range<usize>,
    pub part: PartHash,
}

/// A geometry's tree form: its JSON text with every big mesh replaced by a placeholder.
#[derive(Debug, Clone, Default)]
pub struct PartedTree {
    /// Valid JSON: the tree (or the instanced form) with `{"part":"<hash>"}` for each big mesh.
    pub text: Bytes,
    /// The placeholders, in the order of the text.
    pub holes: Vec<Hole>,
}

/// A geometry split by content: its tree form, and each big mesh where it lies in the geometry.
#[derive(Debug)]
pub struct Split {
    pub tree: PartedTree,
    /// Each hole's mesh, in the order of [`PartedTree::holes`] (a mesh posted twice is here twice).
    pub meshes: Vec<Range<usize>>,
}

/// Splits a checked geometry (a tree or the instanced form) into its tree form and its big
/// meshes: each leaf's own `shape` and each shared mesh of the instanced form. References
/// (`{"ref": n}`) and small meshes stay in the tree.
pub fn split(geometry: &str) -> Result<Split, ModelError> {
    let skeleton: Skeleton<Unread> = Skeleton::read(geometry, "$", &Limits::stored())?;
    let mut meshes: Vec<Range<usize>> = Vec::new();
    let mut found = |text: &str| {
        if text.len() >= MIN_PART {
            let start = text.as_ptr() as usize - geometry.as_ptr() as usize;
            meshes.push(start..start + text.len());
        }
    };
    // In the instanced form a leaf's `{"ref": n}` stays in the tree whatever its size (extra
    // keys can make it big): pages follow it to the shared mesh, which is the part.
    let instanced = !skeleton.instances.is_empty();
    let reference = |shape: &Unread| {
        instanced
            && shape.0.get().len() >= MIN_PART
            && shape
                .decode::<Mesh<IgnoredAny>>()
                .is_ok_and(|mesh| mesh.reference.is_some())
    };
    fn leaves<'a>(
        node: &super::skeleton::Node<'a, Unread<'a>>,
        reference: &impl Fn(&Unread) -> bool,
        found: &mut impl FnMut(&str),
    ) {
        if let Some(shape) = node.shape.as_deref().filter(|shape| !reference(shape)) {
            found(shape.0.get());
        }
        for child in node.parts.iter().flatten() {
            leaves(child, reference, found);
        }
    }
    for instance in &skeleton.instances {
        found(instance.0.get());
    }
    leaves(&skeleton.root, &reference, &mut found);
    meshes.sort_by_key(|range| range.start);

    let mut text = Vec::with_capacity(
        geometry.len() - meshes.iter().map(Range::len).sum::<usize>() + 80 * meshes.len(),
    );
    let mut holes = Vec::with_capacity(meshes.len());
    let mut at = 0;
    for mesh in &meshes {
        text.extend_from_slice(&geometry.as_bytes()[at..mesh.start]);
        let part = PartHash::of(&geometry.as_bytes()[mesh.clone()]);
        let start = text.len();
        text.extend_from_slice(placeholder(&part).as_bytes());
        holes.push(Hole {
            range: start..text.len(),
            part,
        });
        at = mesh.end;
    }
    text.extend_from_slice(&geometry.as_bytes()[at..]);
    Ok(Split {
        tree: PartedTree {
            text: Bytes::from(text),
            holes,
        },
        meshes,
    })
}

impl From<Bytes> for PartedTree {
    /// A tree with no parts.
    fn from(text: Bytes) -> Self {
        PartedTree {
            text,
            holes: Vec::new(),
        }
    }
}

impl PartedTree {
    /// The geometry as posted: the text between holes, with `part(hash)` in each hole. Shares
    /// every byte; copies none.
    pub fn assemble(&self, mut part: impl FnMut(&PartHash) -> Bytes) -> Vec<Bytes> {
        let mut segments = Vec::with_capacity(2 * self.holes.len() + 1);
        let mut at = 0;
        for hole in &self.holes {
            segments.push(self.text.slice(at..hole.range.start));
            segments.push(part(&hole.part));
            at = hole.range.end;
        }
        segments.push(self.text.slice(at..));
        segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh(seed: u32) -> String {
        let numbers: Vec<String> = (0..400).map(|i| (i * seed).to_string()).collect();
        format!(
            r#"{{"vertices":[{}],"triangles":[0,1,2],"edges":[]}}"#,
            numbers.join(",")
        )
    }

    fn tree(a: &str, b: &str) -> String {
        format!(
            r#"{{"version":3,"id":"/G","name":"G","parts":[{{"id":"/G/a","name":"a","state":[1,1],"shape":{a}}},{{"id":"/G/b","name":"b","state":[1,1],"shape":{b}}},{{"id":"/G/c","name":"c","state":[1,1],"shape":{{"vertices":[0,0,0],"triangles":[],"edges":[]}}}}]}}"#
        )
    }

    fn whole(split: &Split, geometry: &str) -> String {
        let segments = split.tree.assemble(|hash| {
            let index = split
                .tree
                .holes
                .iter()
                .position(|h| &h.part == hash)
                .unwrap();
            Bytes::copy_from_slice(geometry[split.meshes[index].clone()].as_bytes())
        });
        String::from_utf8(segments.concat()).unwrap()
    }

    #[test]
    fn big_meshes_become_parts_and_assemble_back_byte_for_byte() {
        let geometry = tree(&mesh(3), &mesh(5));
        let split = split(&geometry).unwrap();
        assert_eq!(
            split.tree.holes.len(),
            2,
            "the small mesh stays in the tree"
        );
        let tree: serde_json::Value = serde_json::from_slice(&split.tree.text).unwrap();
        let hash = split.tree.holes[0].part.to_string();
        assert_eq!(
            tree["parts"][0]["shape"],
            serde_json::json!({ "part": hash })
        );
        assert_eq!(
            tree["parts"][2]["shape"]["vertices"],
            serde_json::json!([0, 0, 0])
        );
        assert_eq!(whole(&split, &geometry), geometry);
    }

    #[test]
    fn a_placeholder_names_its_part_and_nothing_else_does() {
        use super::super::skeleton::placeholder_of;
        let hash = PartHash::of(b"mesh");
        assert_eq!(placeholder_of(&placeholder(&hash)), Some(hash));
        assert_eq!(placeholder_of(&mesh(3)), None);
        assert_eq!(placeholder_of(r#"{"part":"mine","vertices":[]}"#), None);
    }

    #[test]
    fn the_same_mesh_is_the_same_part() {
        let geometry = tree(&mesh(3), &mesh(3));
        let split = split(&geometry).unwrap();
        assert_eq!(split.tree.holes[0].part, split.tree.holes[1].part);

        assert_eq!(whole(&split, &geometry), geometry);
    }

    #[test]
    fn shared_meshes_of_the_instanced_form_are_parts() {
        let geometry = format!(
            r#"{{"instances":[{}],"shapes":{{"version":3,"id":"/G","name":"G","parts":[{{"id":"/G/a","name":"a","state":[1,1],"shape":{{"ref":0}}}}]}}}}"#,
            mesh(7)
        );
        let split = split(&geometry).unwrap();
        assert_eq!(split.tree.holes.len(), 1);
        let tree: serde_json::Value = serde_json::from_slice(&split.tree.text).unwrap();
        assert!(tree["instances"][0]["part"].is_string());
        assert_eq!(tree["shapes"]["parts"][0]["shape"]["ref"], 0);
        assert_eq!(whole(&split, &geometry), geometry);
    }

    #[test]
    fn a_big_reference_stays_a_reference() {
        // Pages follow a `ref` to its shared mesh; as a part it would be drawn as a mesh.
        let padded = format!(r#"{{"ref":0,"note":"{}"}}"#, "x".repeat(2 * MIN_PART));
        let geometry = format!(
            r#"{{"instances":[{}],"shapes":{{"version":3,"id":"/G","name":"G","parts":[{{"id":"/G/a","name":"a","state":[1,1],"shape":{padded}}}]}}}}"#,
            mesh(7)
        );
        let split = split(&geometry).unwrap();
        assert_eq!(split.tree.holes.len(), 1, "the shared mesh alone is a part");
        let tree: serde_json::Value = serde_json::from_slice(&split.tree.text).unwrap();
        assert_eq!(tree["shapes"]["parts"][0]["shape"]["ref"], 0);
        assert_eq!(whole(&split, &geometry), geometry);
    }
}
