//! What changed between two versions of a model, part by part: the answer to "what did my last
//! edit change?".
//!
//! Parts are matched by their path (the leaf's id, `/Assembly/bracket`). A part is:
//! - `added` or `removed` when only one version has its path;
//! - `changed` when its mesh differs (a fillet added, a hole moved);
//! - `moved` when only its placement differs (its own `loc` or a group's above it);
//! - `restyled` when only its colour or alpha differs;
//! - `unchanged` otherwise.
//!
//! A part that moved and was restyled is `moved`; one whose mesh changed is `changed` whatever
//! else did. Meshes are compared by their bytes as posted (in a stored tree form, by the hash
//! of each big mesh), so the same tessellation is the same mesh.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::error::ModelError;
use super::skeleton::{Limits, Node, Skeleton, Unread};

/// Part paths by what happened to them between two versions, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub moved: Vec<String>,
    pub restyled: Vec<String>,
    pub unchanged: Vec<String>,
}

impl Changes {
    /// Whether nothing but `unchanged` has parts.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.moved.is_empty()
            && self.restyled.is_empty()
    }
}

/// What a part is made of, as the diff compares it.
#[derive(PartialEq)]
struct Part<'a> {
    mesh: &'a str,
    /// The `loc` of each node from the root down to the part, as written (interned: two parts
    /// have the same number exactly when their chains of `loc`s are the same).
    placement: usize,
    color: Option<&'a str>,
    alpha: Option<u64>,
}

/// The changes from the geometry `from` to `to` (each a tree or the instanced form, as text: a
/// stored tree form or an upload's geometry). `from: None` is an empty model: every part added.
pub fn compare(from: Option<&str>, to: &str) -> Result<Changes, ModelError> {
    let before = match from {
        Some(text) => Some(Skeleton::<Unread>::read(text, "$", &Limits::stored())?),
        None => None,
    };
    let after = Skeleton::<Unread>::read(to, "$", &Limits::stored())?;
    let mut placements = Placements::default();
    let before = (before.as_ref())
        .map(|tree| parts_of(tree, &mut placements))
        .unwrap_or_default();
    let after = parts_of(&after, &mut placements);
    let mut changes = Changes::default();
    for (path, part) in &after {
        let list = match before.get(path) {
            None => &mut changes.added,
            Some(old) if old.mesh != part.mesh => &mut changes.changed,
            Some(old) if old.placement != part.placement => &mut changes.moved,
            Some(old) if old.color != part.color || old.alpha != part.alpha => {
                &mut changes.restyled
            }
            Some(_) => &mut changes.unchanged,
        };
        list.push(path.clone());
    }
    changes.removed = before
        .keys()
        .filter(|path| !after.contains_key(*path))
        .cloned()
        .collect();
    Ok(changes)
}

/// Chains of `loc`s from the root, each numbered once: a node's chain is its parent's and its own
/// `loc`, so numbering them costs one entry per node however deep the tree (copying each leaf's
/// chain would cost leaves times depth).
#[derive(Default)]
struct Placements<'a>(HashMap<(usize, &'a str), usize>);

impl<'a> Placements<'a> {
    /// The number of the chain `parent` (0: above the root) followed by `loc`.
    fn below(&mut self, parent: usize, loc: &'a str) -> usize {
        let next = self.0.len() + 1;
        *self.0.entry((parent, loc)).or_insert(next)
    }
}

/// Every leaf of a tree by its path.
fn parts_of<'a>(
    skeleton: &'a Skeleton<'a, Unread<'a>>,
    placements: &mut Placements<'a>,
) -> BTreeMap<String, Part<'a>> {
    fn walk<'a>(
        skeleton: &'a Skeleton<'a, Unread<'a>>,
        node: &'a Node<'a, Unread<'a>>,
        parent: usize,
        placements: &mut Placements<'a>,
        out: &mut BTreeMap<String, Part<'a>>,
    ) {
        let placement = placements.below(parent, node.loc.map_or("null", |loc| loc.get()));
        if let Some(shape) = node.shape.as_deref() {
            let mesh = shape.0.get();
            // A reference stands for the shared mesh it names.
            let shared = shape
                .decode::<super::skeleton::Mesh<serde::de::IgnoredAny>>()
                .ok()
                .and_then(|mesh| mesh.reference?.as_u64())
                .and_then(|i| skeleton.instances.get(usize::try_from(i).ok()?));
            out.insert(
                node.id.as_deref().unwrap_or_default().to_string(),
                Part {
                    mesh: shared.map_or(mesh, |shared| shared.0.get()),
                    placement,
                    color: node.color.as_deref(),
                    alpha: node.alpha.map(f64::to_bits),
                },
            );
        }
        for child in node.parts.iter().flatten() {
            walk(skeleton, child, placement, placements, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(skeleton, &skeleton.root, 0, placements, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(name: &str, mesh: &str, loc: &str, color: &str) -> String {
        format!(
            r#"{{"id":"/A/{name}","name":"{name}","state":[1,1],"loc":{loc},"color":"{color}","shape":{mesh}}}"#
        )
    }

    fn tree(leaves: &[String]) -> String {
        format!(
            r#"{{"version":3,"id":"/A","name":"A","loc":null,"parts":[{}]}}"#,
            leaves.join(",")
        )
    }

    const MESH: &str = r#"{"vertices":[0,0,0,1,0,0,0,1,0],"triangles":[0,1,2],"edges":[]}"#;
    const OTHER: &str = r#"{"vertices":[0,0,0,2,0,0,0,1,0],"triangles":[0,1,2],"edges":[]}"#;
    const HERE: &str = "[[0,0,0],[0,0,0,1]]";
    const THERE: &str = "[[5,0,0],[0,0,0,1]]";

    #[test]
    fn each_kind_of_change_is_named() {
        let before = tree(&[
            leaf("same", MESH, HERE, "#ff0000"),
            leaf("edited", MESH, HERE, "#ff0000"),
            leaf("shifted", MESH, HERE, "#ff0000"),
            leaf("painted", MESH, HERE, "#ff0000"),
            leaf("gone", MESH, HERE, "#ff0000"),
        ]);
        let after = tree(&[
            leaf("same", MESH, HERE, "#ff0000"),
            leaf("edited", OTHER, THERE, "#00ff00"),
            leaf("shifted", MESH, THERE, "#00ff00"),
            leaf("painted", MESH, HERE, "#00ff00"),
            leaf("new", MESH, HERE, "#ff0000"),
        ]);
        let changes = compare(Some(&before), &after).unwrap();
        assert_eq!(changes.unchanged, ["/A/same"]);
        assert_eq!(changes.changed, ["/A/edited"]);
        assert_eq!(changes.moved, ["/A/shifted"]);
        assert_eq!(changes.restyled, ["/A/painted"]);
        assert_eq!(changes.added, ["/A/new"]);
        assert_eq!(changes.removed, ["/A/gone"]);
        assert!(!changes.is_empty());
        assert!(compare(Some(&after), &after).unwrap().is_empty());
    }

    #[test]
    fn a_group_that_moves_moves_its_parts_and_references_compare_their_meshes() {
        let shared = |mesh: &str, loc: &str| {
            format!(
                r#"{{"instances":[{mesh}],"shapes":{{"version":3,"id":"/A","name":"A","loc":{loc},"parts":[{{"id":"/A/p","name":"p","state":[1,1],"shape":{{"ref":0}}}}]}}}}"#
            )
        };
        let moved = compare(Some(&shared(MESH, HERE)), &shared(MESH, THERE)).unwrap();
        assert_eq!(moved.moved, ["/A/p"]);
        let changed = compare(Some(&shared(MESH, HERE)), &shared(OTHER, HERE)).unwrap();
        assert_eq!(changed.changed, ["/A/p"]);
    }

    #[test]
    fn a_nested_group_that_moves_moves_the_parts_below_it_alone() {
        // /A/left/inner/p and /A/right/q: `inner`'s loc changes, or `left`'s and `inner`'s swap.
        let nested = |left: &str, inner: &str| {
            format!(
                r#"{{"version":3,"id":"/A","name":"A","loc":null,"parts":[{{"id":"/A/left","name":"left","loc":{left},"parts":[{{"id":"/A/left/inner","name":"inner","loc":{inner},"parts":[{p}]}}]}},{{"id":"/A/right","name":"right","loc":{left},"parts":[{q}]}}]}}"#,
                p = leaf("p", MESH, HERE, "#ff0000").replace("/A/p", "/A/left/inner/p"),
                q = leaf("q", MESH, HERE, "#ff0000").replace("/A/q", "/A/right/q"),
            )
        };
        let inner = compare(Some(&nested(HERE, HERE)), &nested(HERE, THERE)).unwrap();
        assert_eq!(inner.moved, ["/A/left/inner/p"]);
        assert_eq!(inner.unchanged, ["/A/right/q"]);
        // The same locs in another order are another placement.
        let swapped = compare(Some(&nested(HERE, THERE)), &nested(THERE, HERE)).unwrap();
        assert_eq!(swapped.moved, ["/A/left/inner/p", "/A/right/q"]);
    }

    #[test]
    fn against_nothing_everything_is_added() {
        let changes = compare(None, &tree(&[leaf("a", MESH, HERE, "#ff0000")])).unwrap();
        assert_eq!(changes.added, ["/A/a"]);
    }
}
