//! The validator against each violation it names, its limits and the real fixtures.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};

use super::*;
use crate::model::ModelErrorKind;

fn b64(kind: &str, bytes: Vec<u8>, len: usize) -> Value {
    json!({"shape": [len], "dtype": kind, "buffer": BASE64.encode(bytes), "codec": "b64"})
}

fn f32s(values: &[f32]) -> Value {
    b64(
        "float32",
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        values.len(),
    )
}

fn i32s(values: &[i32]) -> Value {
    b64(
        "int32",
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        values.len(),
    )
}

/// A valid instanced model: one triangle mesh (2 faces) used by two leaves, plus an edges leaf.
fn model() -> Value {
    let quad = json!({
        "vertices": f32s(&[0., 0., 0., 1., 0., 0., 1., 1., 0., 0., 1., 0.]),
        "normals": f32s(&[0., 0., 1., 0., 0., 1., 0., 0., 1., 0., 0., 1.]),
        "triangles": i32s(&[0, 1, 2, 0, 2, 3]),
        "triangles_per_face": i32s(&[1, 1]),
        "face_types": i32s(&[0, 0]),
        "edges": f32s(&[0., 0., 0., 1., 0., 0.]),
        "segments_per_edge": i32s(&[1]),
        "edge_types": i32s(&[0]),
        "obj_vertices": f32s(&[0., 0., 0., 1., 0., 0.]),
    });
    json!({
        "instances": [quad],
        "shapes": {"version": 3, "id": "/G", "name": "G", "loc": null, "parts": [
            {"id": "/G/a", "name": "a", "type": "shapes", "state": [1, 1], "color": "#ff0000",
             "alpha": 1.0, "loc": [[0, 0, 0], [0, 0, 0, 1]], "shape": {"ref": 0}},
            {"id": "/G/sub", "name": "sub", "parts": [
                {"id": "/G/sub/b", "name": "b", "state": [1, 1], "shape": {"ref": 0}},
                {"id": "/G/sub/e", "name": "e", "type": "edges", "state": [3, 1],
                 "shape": {"edges": [0, 0, 0, 0, 1, 0], "segments_per_edge": [1]}}
            ]}
        ]}
    })
}

fn error_for(mutate: impl FnOnce(&mut Value)) -> ModelError {
    let mut value = model();
    mutate(&mut value);
    check(&value.to_string(), "$.data", &Limits::default()).expect_err("invalid")
}

#[test]
fn a_valid_model_passes_and_is_counted() {
    let summary = check(&model().to_string(), "$.data", &Limits::default()).unwrap();
    assert_eq!(
        summary,
        TreeSummary {
            groups: 2,
            leaves: 3,
            instances: 1,
            triangles: 4
        }
    );
}

#[test]
fn each_violation_is_reported_at_its_path() {
    const I: &str = "/instances/0";
    type Mutation = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Mutation, &str, &str)> = vec![
        (
            Box::new(|v| {
                v.pointer_mut("/shapes/parts/0")
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove("state")
                    .map(|_| ())
                    .unwrap()
            }),
            "$.data.shapes.parts[0]",
            "missing \"state\"",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/1/parts/0/id").unwrap() = json!("/G/b")),
            "$.data.shapes.parts[1].parts[0].id",
            "does not follow its parent",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/1/id").unwrap() = json!("/G/a")),
            "$.data.shapes.parts[1].id",
            "does not follow its parent",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut("/shapes/parts/1/name").unwrap() = json!("a");
                *v.pointer_mut("/shapes/parts/1/id").unwrap() = json!("/G/a");
            }),
            "$.data.shapes.parts[1].id",
            "used twice",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/id").unwrap() = json!("G")),
            "$.data.shapes.id",
            "the root's id",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/0/shape/ref").unwrap() = json!(1)),
            "$.data.shapes.parts[0].shape.ref",
            "ref 1 out of range (1 instances)",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/triangles")).unwrap() = i32s(&[0, 1, 9, 0, 2, 3])
            }),
            "$.data.instances[0].triangles",
            "index 9 out of range (4 vertices)",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/triangles")).unwrap() = i32s(&[0, 1, 2, 0, 2])
            }),
            "$.data.instances[0].triangles",
            "not a multiple of 3",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/vertices")).unwrap() =
                    f32s(&[0., 0., 0., 1., 0., 0., 1., 1., 0., 0., 1., f32::NAN])
            }),
            "$.data.instances[0].vertices",
            "value 11 is not a finite number",
        ),
        (
            Box::new(|v| *v.pointer_mut(&format!("{I}/normals")).unwrap() = f32s(&[0., 0., 1.])),
            "$.data.instances[0].normals",
            "one normal per vertex",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/triangles_per_face")).unwrap() = i32s(&[1, 2])
            }),
            "$.data.instances[0].triangles_per_face",
            "add up to 3 but there are 2 triangles",
        ),
        (
            Box::new(|v| *v.pointer_mut(&format!("{I}/face_types")).unwrap() = i32s(&[0])),
            "$.data.instances[0].face_types",
            "1 types for 2 entries",
        ),
        (
            Box::new(|v| *v.pointer_mut(&format!("{I}/face_types")).unwrap() = i32s(&[0, 42])),
            "$.data.instances[0].face_types",
            "types must be 0 to 10",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/edges")).unwrap() = f32s(&[0., 0., 0., 1., 0.])
            }),
            "$.data.instances[0].edges",
            "not a multiple of 6",
        ),
        (
            Box::new(|v| *v.pointer_mut(&format!("{I}/segments_per_edge")).unwrap() = i32s(&[2])),
            "$.data.instances[0].segments_per_edge",
            "add up to 2 but there are 1 segments",
        ),
        (
            Box::new(|v| *v.pointer_mut(&format!("{I}/edge_types")).unwrap() = i32s(&[0, 0])),
            "$.data.instances[0].edge_types",
            "2 types for 1 entries",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/vertices/buffer")).unwrap() = json!("AAAA!!!!")
            }),
            "$.data.instances[0].vertices.buffer",
            "holds 6 bytes but shape [12]",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/triangles/buffer")).unwrap() =
                    json!(format!("{}#AAA", &BASE64.encode([0u8; 24])[..28]))
            }),
            "$.data.instances[0].triangles.buffer",
            "invalid byte '#' at offset 28",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut(&format!("{I}/triangles/dtype")).unwrap() = json!("float32")
            }),
            "$.data.instances[0].triangles.dtype",
            "counts and indices need int32",
        ),
        (
            Box::new(|v| *v.pointer_mut(&format!("{I}/vertices/codec")).unwrap() = json!("zlib")),
            "$.data.instances[0].vertices",
            "codec \"zlib\" is not supported",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut("/shapes/parts/1/parts/1/shape/edges")
                    .unwrap() = json!([0, 0, "x"])
            }),
            "$.data.shapes.parts[1].parts[1].shape.edges[2]",
            "invalid type",
        ),
        (
            Box::new(|v| {
                v.pointer_mut(I)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove("edges")
                    .map(|_| ())
                    .unwrap()
            }),
            "$.data.instances[0]",
            "missing \"edges\"",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/0/alpha").unwrap() = json!(1.5)),
            "$.data.shapes.parts[0].alpha",
            "outside 0..1",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/0/color").unwrap() = json!("red</style>")),
            "$.data.shapes.parts[0].color",
            "is not \"#rrggbb\"",
        ),
        (
            Box::new(|v| {
                *v.pointer_mut("/shapes/parts/0/loc").unwrap() = json!([[0, 0, 0], [0, 0, 0, 2]])
            }),
            "$.data.shapes.parts[0].loc",
            "quaternion has length 2",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/0/type").unwrap() = json!("solid")),
            "$.data.shapes.parts[0].type",
            "expected \"shapes\"",
        ),
        (
            Box::new(|v| *v.pointer_mut("/shapes/parts/0/state").unwrap() = json!([7, 1])),
            "$.data.shapes.parts[0].state",
            "each value must be 0",
        ),
    ];
    for (mutate, path, message) in cases {
        let err = error_for(mutate);
        assert_eq!(err.path.as_deref(), Some(path), "{err}");
        assert!(
            err.message.contains(message),
            "{err} (expected {message:?})"
        );
        assert_eq!(err.kind, ModelErrorKind::Invalid, "{err}");
    }
}

#[test]
fn limits_bound_depth_nodes_and_arrays() {
    let mut tree = json!({"id": "/G", "name": "G", "parts": []});
    let mut deep = &mut tree;
    for level in 0..10 {
        let id = format!("{}/g", deep["id"].as_str().unwrap());
        deep["parts"] = json!([{"id": id, "name": "g", "parts": []}]);
        deep = &mut deep["parts"][0];
        let _ = level;
    }
    let tight = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let err = check(&tree.to_string(), "$", &tight).unwrap_err();
    assert!(err.message.contains("deeper than 5"), "{err}");

    let few = Limits {
        max_nodes: 4,
        ..Limits::default()
    };
    let err = check(&tree.to_string(), "$", &few).unwrap_err();
    assert!(err.message.contains("more groups and parts"), "{err}");

    let short = Limits {
        max_array_len: 5,
        ..Limits::default()
    };
    let err = check(&model().to_string(), "$", &short).unwrap_err();
    assert!(err.message.contains("more than 5 elements"), "{err}");
    assert_eq!(
        err.path.as_deref(),
        Some("$.shapes.parts[1].parts[1].shape.edges")
    );
    let mut encoded_only = model();
    encoded_only["shapes"]["parts"][1]["parts"]
        .as_array_mut()
        .unwrap()
        .pop();
    let err = check(&encoded_only.to_string(), "$", &short).unwrap_err();
    assert!(
        err.message.contains("larger than this server accepts"),
        "{err}"
    );
    assert_eq!(err.path.as_deref(), Some("$.instances[0].vertices.shape"));
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    let depth = 100_000;
    let text = format!("{}{}", "{\"parts\":[".repeat(depth), "]}".repeat(depth));
    let err = check(&text, "$", &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ModelErrorKind::Invalid, "{err}");
    assert!(err.message.contains("deeper than 48 levels"), "{err}");
}

#[test]
fn the_real_fixtures_validate() {
    for name in ["box", "bracket", "assembly", "box.plain"] {
        let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let message: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let summary = check(&message["data"].to_string(), "$.data", &Limits::default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(summary.triangles >= 12, "{name}");
    }
}

#[test]
fn padding_inside_a_long_buffer_is_refused() {
    // 49151 bytes end a 64 KiB chunk of base64 with "="; 12 more bytes follow. The lengths add up
    // as if the buffer held 12291 floats, which it does not.
    let text = format!(
        "{}{}",
        BASE64.encode(vec![0u8; 49_151]),
        BASE64.encode([0u8; 12])
    );
    let err = error_for(|v| {
        v["instances"][0]["edges"] =
            json!({"shape": [12_291], "dtype": "float32", "buffer": text, "codec": "b64"});
    });
    assert_eq!(
        err.path.as_deref(),
        Some("$.data.instances[0].edges.buffer"),
        "{err}"
    );
    assert!(err.message.contains("padding"), "{err}");
}

#[test]
fn instances_count_toward_the_parts_limit_while_they_are_read() {
    let limits = Limits {
        max_nodes: 1000,
        ..Limits::default()
    };
    let many = format!(
        r#"{{"instances": [{}], "shapes": {{}}}}"#,
        vec!["{}"; 5000].join(",")
    );
    let err = check(&many, "$", &limits).unwrap_err();
    assert!(err.message.contains("more parts"), "{err}");
    assert_eq!(err.path.as_deref(), Some("$.instances"), "{err}");
}

#[test]
fn a_long_state_is_refused_without_keeping_it() {
    let err = error_for(|v| {
        v["shapes"]["parts"][0]["state"] = json!(vec![1; 100_000]);
    });
    assert_eq!(
        err.path.as_deref(),
        Some("$.data.shapes.parts[0].state"),
        "{err}"
    );
}

#[test]
fn numbers_out_of_range_beside_the_geometry_are_refused() {
    for (field, value) in [
        ("bb", r#"{"xmin": 1e999, "xmax": 1}"#),
        ("normal_len", "-1e400"),
    ] {
        let mut value_json = model();
        value_json["shapes"][field] = json!("PLACEHOLDER");
        let text = value_json.to_string().replace("\"PLACEHOLDER\"", value);
        let err = check(&text, "$.data", &Limits::default()).unwrap_err();
        assert!(
            err.message.contains("number out of range"),
            "{field}: {err}"
        );
    }
}
