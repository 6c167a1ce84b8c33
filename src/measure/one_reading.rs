//! The property that makes [`Skeleton`] the one reading of a model: every model validation
//! accepts, however it is written (whitespace, key order, keys the format does not name), gives
//! measurement and animation the same parts, faces and edges as the model written plainly.

use proptest::prelude::*;
use serde_json::Value;

use super::mesh;
use super::pick::Topology;
use crate::model::skeleton::{Limits, Skeleton, Unread};
use crate::model::{parse_upload, TreeSummary};

/// What each reader sees of a model: validation's summary, and every node's path with, for a
/// part, its faces, edges and vertices as measurement counts them (animation addresses the
/// same paths).
type Census = (TreeSummary, Vec<(String, Option<[usize; 3]>)>);

/// The census of an upload, `None` when validation refuses it. Read from the geometry as the
/// stores give it back: its tree form with its parts put back in.
fn census(body: Vec<u8>) -> Option<Census> {
    let upload = parse_upload(body, &Limits::default()).ok()?;
    let (tree, parts) = upload.parted().unwrap();
    let part = |hash: &_| parts.iter().find(|(h, _)| h == hash).unwrap().1.clone();
    let geometry = String::from_utf8(tree.assemble(part).concat()).unwrap();
    assert_eq!(geometry.as_bytes(), upload.geometry());
    let skeleton: Skeleton<Unread> = Skeleton::read(&geometry, "$", &Limits::stored()).unwrap();
    let nodes = skeleton
        .paths()
        .into_iter()
        .map(|path| {
            let counts = match skeleton.find(path) {
                Some((node, _)) if node.shape.is_some() => {
                    let part = mesh::part(&skeleton, &|_| None, path)
                        .unwrap_or_else(|_| panic!("{path}: accepted but not readable"));
                    Some([Topology::Face, Topology::Edge, Topology::Vertex].map(|t| part.count(t)))
                }
                _ => None,
            };
            (path.to_string(), counts)
        })
        .collect();
    Some((upload.summary, nodes))
}

/// Keys no reader knows, added to objects inside the body. `data` and `shapes_` name the body's
/// parts elsewhere; inside a tree they must mean nothing.
const EXTRA_KEYS: [&str; 5] = ["note", "data", "Ref", "shapes_", "_meta"];
/// Values of the extra keys, as text: some that no `serde_json::Value` holds (a number out of
/// f64's range, nesting deeper than serde_json reads into a `Value`).
static EXTRA_VALUES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let mut values: Vec<String> = ["null", "1", "\"x\"", "{\"a\": [1]}", "1e999", "-0.0e-400"]
        .map(str::to_string)
        .to_vec();
    values.push(format!("{}1{}", "[".repeat(200), "]".repeat(200)));
    values
});
const SPACES: [&str; 6] = ["", " ", "\n", "\n        ", "\t", "\r\n  "];

/// Writes JSON with choices drawn from a seed: whitespace between tokens, the order of keys,
/// and extra keys below the top level.
struct Writer {
    state: u64,
    extra_keys: bool,
    out: String,
}

impl Writer {
    fn next(&mut self, below: usize) -> usize {
        // xorshift64*: all the randomness a rewrite needs, reproducible from the seed.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % below
    }

    fn space(&mut self) {
        let space = SPACES[self.next(SPACES.len())];
        self.out.push_str(space);
    }

    fn value(&mut self, value: &Value, depth: usize) {
        self.space();
        match value {
            Value::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(item, depth + 1);
                }
                self.space();
                self.out.push(']');
            }
            Value::Object(map) => {
                let mut entries: Vec<(String, Result<Value, String>)> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), Ok(v.clone())))
                    .collect();
                if self.extra_keys && depth > 0 && self.next(3) == 0 {
                    let key = EXTRA_KEYS[self.next(EXTRA_KEYS.len())];
                    if !map.contains_key(key) {
                        let extra = EXTRA_VALUES[self.next(EXTRA_VALUES.len())].clone();
                        entries.push((key.to_string(), Err(extra)));
                    }
                }
                for i in (1..entries.len()).rev() {
                    let j = self.next(i + 1);
                    entries.swap(i, j);
                }
                self.out.push('{');
                for (i, (key, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.space();
                    self.out.push_str(&serde_json::to_string(key).unwrap());
                    self.space();
                    self.out.push(':');
                    match item {
                        Ok(item) => self.value(item, depth + 1),
                        Err(raw) => self.out.push_str(raw),
                    }
                }
                self.space();
                self.out.push('}');
            }
            scalar => self.out.push_str(&scalar.to_string()),
        }
        self.space();
    }
}

fn rewrite(model: &Value, seed: u64, extra_keys: bool) -> Vec<u8> {
    let mut writer = Writer {
        state: seed | 1,
        extra_keys,
        out: String::new(),
    };
    writer.value(model, 0);
    writer.out.into_bytes()
}

/// Nodes and meshes written as arrays (serde reads a struct from its fields in order): refused
/// by validation, which reads only objects, as the renderer does.
#[test]
fn a_node_or_mesh_written_as_an_array_is_refused() {
    let tree = |shape: &str| {
        format!(
            r#"{{"shapes": {{"id": "/G", "name": "G", "parts": [{{"id": "/G/a", "name": "a",
            "state": [1, 1], "shape": {shape}}}]}}}}"#
        )
    };
    let mesh = r#"{"vertices": [0,0,0, 1,0,0, 0,1,0], "triangles": [0, 1, 2], "edges": []}"#;
    assert!(census(tree(mesh).into_bytes()).is_some());
    assert!(census(tree("[null, [0,0,0, 1,0,0, 0,1,0]]").into_bytes()).is_none());
    let node_as_array = r#"{"shapes": {"id": "/G", "name": "G", "parts": [["/G/a", "a"]]}}"#;
    assert!(census(node_as_array.as_bytes().to_vec()).is_none());
}

/// The fixtures (build123d and ocp_vscode payloads: plain, encoded, instanced, an assembly) and
/// a generated model, each as a message and wrapped in `{"shapes": ...}`.
fn models() -> &'static [Value] {
    static MODELS: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    MODELS.get_or_init(read_models)
}

fn read_models() -> Vec<Value> {
    let mut models = Vec::new();
    for name in [
        "box.json",
        "box.plain.json",
        "bracket.json",
        "assembly.json",
    ] {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let model: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        models.push(serde_json::json!({ "shapes": model["data"].clone() }));
        models.push(model);
    }
    let sphere = crate::model::synthetic::sphere_message(300);
    models.push(serde_json::from_slice(&sphere).unwrap());
    models
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_accepted_model_reads_the_same_however_it_is_written(
        which in 0usize..9,
        seed in any::<u64>(),
        extra_keys in any::<bool>(),
    ) {
        let model = &models()[which % models().len()];
        let plain = census(serde_json::to_vec(model).unwrap()).expect("the fixture is accepted");
        if let Some(rewritten) = census(rewrite(model, seed, extra_keys)) {
            prop_assert_eq!(rewritten, plain);
        } else {
            // Only a key that the format knows may be refused, never whitespace or order.
            prop_assert!(extra_keys, "refused without any extra key");
        }
    }
}
