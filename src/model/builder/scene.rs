//! Assemblies: named parts with colour, transparency and placement, nested in groups, written as
//! the instanced form (a mesh used by several parts is sent once).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::mesh::Mesh;
use super::BuildError;
use crate::model::types::{
    self, BoundingBox, Encoding, Geometry, Leaf, LeafKind, Location, Message, Node, ShapeRef,
};

/// A named mesh with its look and placement.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub mesh: Arc<Mesh>,
    pub color: Option<String>,
    pub alpha: f32,
    pub location: Option<Location>,
}

impl Part {
    /// A part showing `mesh`. Pass an `Arc<Mesh>` to use one mesh in several parts: it is then
    /// sent once and instanced.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Mesh, Part};
    ///
    /// let plate = Part::new("plate", Mesh::cuboid(100.0, 60.0, 5.0)).color("#4682b4").alpha(0.8);
    /// assert_eq!(plate.color.as_deref(), Some("#4682b4"));
    /// ```
    pub fn new(name: impl Into<String>, mesh: impl Into<Arc<Mesh>>) -> Self {
        Part {
            name: name.into(),
            mesh: mesh.into(),
            color: None,
            alpha: 1.0,
            location: None,
        }
    }

    /// The colour as `#rrggbb`.
    pub fn color(mut self, color: impl Into<String>) -> Self {
        self.color = Some(color.into());
        self
    }

    /// Opacity from 0 (invisible) to 1 (opaque).
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha.clamp(0.0, 1.0);
        self
    }

    /// Places the part (relative to its group).
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Mesh, Part};
    /// use ocp_notebook::model::types::Location;
    ///
    /// let pin = Part::new("pin", Mesh::cylinder(2.0, 10.0, 24)).at(Location::translation(0.0, 0.0, 5.0));
    /// assert_eq!(pin.location.unwrap().0, [0.0, 0.0, 5.0]);
    /// ```
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }
}

/// A child of a group.
#[derive(Debug, Clone)]
pub enum Item {
    Part(Part),
    Group(Group),
}

impl From<Part> for Item {
    fn from(part: Part) -> Self {
        Item::Part(part)
    }
}

impl From<Group> for Item {
    fn from(group: Group) -> Self {
        Item::Group(group)
    }
}

/// A named, placed collection of parts and groups: an assembly.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub location: Option<Location>,
    pub children: Vec<Item>,
}

impl Group {
    /// An empty group.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ocp_notebook::model::builder::{Group, Mesh, Part};
    /// use ocp_notebook::model::types::Location;
    ///
    /// let pillar = Arc::new(Mesh::cylinder(2.0, 20.0, 32));
    /// let mut table = Group::new("table").with(Part::new("top", Mesh::cuboid(50.0, 50.0, 2.0)));
    /// for (x, y) in [(-20.0, -20.0), (20.0, -20.0), (20.0, 20.0), (-20.0, 20.0)] {
    ///     table = table.with(Part::new("leg", pillar.clone()).at(Location::translation(x, y, -11.0)));
    /// }
    /// let message = table.to_message();
    /// let json = message.to_json();
    /// assert!(json.contains("\"/table/leg_3\"")); // duplicate names are made unique
    /// // The pillar mesh is sent once for the four legs.
    /// let ocp_notebook::model::types::Geometry::Instanced { instances, .. } = &message.data else { panic!() };
    /// assert_eq!(instances.len(), 2);
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Group {
            name: name.into(),
            location: None,
            children: Vec::new(),
        }
    }

    /// Adds a part or a group.
    pub fn with(mut self, item: impl Into<Item>) -> Self {
        self.children.push(item.into());
        self
    }

    /// Adds a part or a group in place.
    pub fn push(&mut self, item: impl Into<Item>) {
        self.children.push(item.into());
    }

    /// Places the group (relative to its parent).
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Group, Mesh, Part};
    /// use ocp_notebook::model::types::Location;
    ///
    /// let raised = Group::new("raised")
    ///     .with(Part::new("cube", Mesh::cuboid(2.0, 2.0, 2.0)))
    ///     .at(Location::translation(0.0, 0.0, 10.0));
    /// let bb = raised.bounds().unwrap();
    /// assert_eq!((bb.zmin, bb.zmax), (9.0, 11.0));
    /// ```
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// The box around every part, placed as the group is.
    pub fn bounds(&self) -> Option<BoundingBox> {
        bounds_of(self, &Location::IDENTITY)
    }

    /// The instanced form with base64 buffers, in an ocp_vscode message.
    pub fn to_message(&self) -> Message {
        self.to_message_with(Encoding::Base64, Map::new())
    }

    /// The message with arrays encoded as `encoding` and viewer settings `config`.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Group, Mesh, Part};
    /// use ocp_notebook::model::types::Encoding;
    ///
    /// let scene = Group::new("demo").with(Part::new("ball", Mesh::sphere(1.0, 8)));
    /// let mut config = serde_json::Map::new();
    /// config.insert("axes".into(), true.into());
    /// let json = scene.to_message_with(Encoding::Plain, config).to_json();
    /// assert!(json.contains("\"vertices\":[") && json.contains("\"axes\":true"));
    /// ```
    pub fn to_message_with(&self, encoding: Encoding, config: Map<String, Value>) -> Message {
        let mut writer = Writer {
            encoding,
            meshes: HashMap::new(),
            instances: Vec::new(),
        };
        let root_id = format!("/{}", self.name);
        let mut shapes = writer.group(self, root_id, &Location::IDENTITY);
        shapes.version = Some(3);
        shapes.extra.insert("normal_len".into(), 0.into());
        Message::new(
            Geometry::Instanced {
                instances: writer.instances,
                shapes,
            },
            config,
        )
    }
}

/// Writes a [`Group`] as the format's tree, collecting shared meshes.
struct Writer {
    encoding: Encoding,
    /// Instance index of each mesh already written, by address.
    meshes: HashMap<*const Mesh, usize>,
    instances: Vec<types::Shape>,
}

impl Writer {
    fn group(&mut self, group: &Group, id: String, parent: &Location) -> types::Group {
        let world = group.location.unwrap_or(Location::IDENTITY).within(parent);
        let parts = group
            .children
            .iter()
            .zip(group.child_names())
            .map(|(child, name)| match child {
                Item::Group(g) => Node::Group(self.group(g, format!("{id}/{name}"), &world)),
                Item::Part(p) => Node::Leaf(self.leaf(p, format!("{id}/{name}"), name, &world)),
            })
            .collect();
        types::Group {
            version: None,
            name: id.rsplit('/').next().unwrap_or_default().to_string(),
            id,
            loc: group.location,
            bb: bounds_of(group, parent),
            parts,
            extra: Map::new(),
        }
    }

    fn leaf(&mut self, part: &Part, id: String, name: String, parent: &Location) -> Leaf {
        let key = Arc::as_ptr(&part.mesh);
        let index = match self.meshes.get(&key) {
            Some(index) => *index,
            None => {
                self.instances.push(part.mesh.to_shape(self.encoding));
                self.meshes.insert(key, self.instances.len() - 1);
                self.instances.len() - 1
            }
        };
        let world = part.location.unwrap_or(Location::IDENTITY).within(parent);
        Leaf {
            id,
            name,
            kind: LeafKind::Shapes,
            subtype: Some("solid".into()),
            state: [1, 1],
            color: Some(part.color.clone().unwrap_or_else(|| "#e8b024".into())),
            alpha: Some(part.alpha),
            loc: part.location,
            bb: part.mesh.bounds().map(|b| b.placed(&world)),
            shape: ShapeRef::Ref { index },
            extra: Map::new(),
        }
    }
}

impl Group {
    /// The names its children are stored under: their own, made unique among siblings (`leg`,
    /// `leg_2`, ...), as ids and the viewer's tree show them.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Group, Mesh, Part};
    ///
    /// let posts = (0..3).fold(Group::new("posts"), |g, _| g.with(Part::new("post", Mesh::cuboid(1.0, 1.0, 4.0))));
    /// assert_eq!(posts.child_names(), ["post", "post_2", "post_3"]);
    /// ```
    pub fn child_names(&self) -> Vec<String> {
        let mut names = UniqueNames::default();
        self.children
            .iter()
            .map(|child| match child {
                Item::Group(g) => names.claim(&g.name),
                Item::Part(p) => names.claim(&p.name),
            })
            .collect()
    }
}

impl Group {
    /// Renames every child, at every depth, to the unique name it is stored under, so that a
    /// part keeps its name (and its path) when a sibling is removed: the third `leg` stays
    /// `leg_3` after `leg_2` goes.
    ///
    /// ```
    /// use ocp_notebook::model::builder::{Group, Mesh, Part};
    ///
    /// let mut legs = (0..3).fold(Group::new("legs"), |g, _| g.with(Part::new("leg", Mesh::cuboid(1.0, 1.0, 4.0))));
    /// legs.make_names_unique();
    /// legs.children.remove(1);
    /// assert_eq!(legs.child_names(), ["leg", "leg_3"]);
    /// ```
    pub fn make_names_unique(&mut self) {
        let names = self.child_names();
        for (child, name) in self.children.iter_mut().zip(names) {
            match child {
                Item::Group(group) => {
                    group.name = name;
                    group.make_names_unique();
                }
                Item::Part(part) => part.name = name,
            }
        }
    }
}

/// Gives each name once per group: `leg`, `leg_2`, `leg_3`, ... (ids must be unique).
#[derive(Default)]
struct UniqueNames {
    counts: HashMap<String, usize>,
    taken: HashSet<String>,
}

impl UniqueNames {
    fn claim(&mut self, name: &str) -> String {
        let base = if name.is_empty() {
            "part".to_string()
        } else {
            name.replace('/', "_")
        };
        let count = self.counts.entry(base.clone()).or_insert(0);
        *count += 1;
        let mut candidate = if *count == 1 {
            base.clone()
        } else {
            format!("{base}_{count}")
        };
        while self.taken.contains(&candidate) {
            *count += 1;
            candidate = format!("{base}_{count}");
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

fn bounds_of(group: &Group, parent: &Location) -> Option<BoundingBox> {
    let world = group.location.unwrap_or(Location::IDENTITY).within(parent);
    group
        .children
        .iter()
        .filter_map(|child| match child {
            Item::Group(g) => bounds_of(g, &world),
            Item::Part(p) => {
                let at = p.location.unwrap_or(Location::IDENTITY).within(&world);
                p.mesh.bounds().map(|b| b.placed(&at))
            }
        })
        .reduce(|a, b| a.union(&b))
}

impl Mesh {
    /// This mesh as a one-part model named `name`.
    ///
    /// ```
    /// use ocp_notebook::model::builder::Mesh;
    ///
    /// let json = Mesh::torus(10.0, 2.0, 32).into_message("ring").to_json();
    /// assert!(json.contains("\"/ring/ring\""));
    /// ```
    pub fn into_message(self, name: &str) -> Message {
        Group::new(name).with(Part::new(name, self)).to_message()
    }
}

/// Reads a JSON file of any three-cad-viewer / ocp_vscode form into a [`Message`].
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bracket.json");
/// let message = ocp_notebook::model::builder::load_json(path).unwrap();
/// assert_eq!(message.data.resolved().unwrap().parts.len(), 1);
/// ```
pub fn load_json(path: impl AsRef<std::path::Path>) -> Result<Message, BuildError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| BuildError::Io(path.display().to_string(), e))?;
    Message::from_json(&bytes)
        .map_err(|e| BuildError::Format(path.display().to_string(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::builder::{Mesh, Part};

    /// The cases both notebook bridges' tests read (`tests/fixtures/rules.json`).
    #[test]
    fn names_are_made_unique_by_the_rule_the_bridges_share() {
        let rules: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rules.json"
        )))
        .unwrap();
        for case in rules["unique_names"].as_array().unwrap() {
            let names = case["names"].as_array().unwrap();
            let group = names.iter().fold(Group::new("g"), |group, name| {
                group.with(Part::new(
                    name.as_str().unwrap(),
                    Mesh::cuboid(1.0, 1.0, 1.0),
                ))
            });
            assert_eq!(
                serde_json::json!(group.child_names()),
                case["unique"],
                "{case}"
            );
        }
    }
}
