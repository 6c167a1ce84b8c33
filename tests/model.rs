//! The model types and builder against the validator: whatever the builder makes passes, what
//! is encoded decodes to the same values, and the real fixtures survive a round trip.

use std::sync::Arc;

use ocp_notebook::model::builder::{Group, Mesh, Part};
use ocp_notebook::model::types::{Array, Encoding, Geometry, Location, Message, Node, ShapeRef};
use ocp_notebook::model::validate::{check, Limits};
use proptest::prelude::*;

fn validate(message: &Message) -> ocp_notebook::model::TreeSummary {
    let geometry = serde_json::to_string(&message.data).unwrap();
    check(&geometry, "$.data", &Limits::default()).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn every_primitive_makes_a_valid_part() {
    for (name, mesh) in [
        ("box", Mesh::cuboid(10.0, 20.0, 30.0)),
        ("cylinder", Mesh::cylinder(5.0, 10.0, 48)),
        ("cone", Mesh::cone(5.0, 2.0, 10.0, 48)),
        ("tip", Mesh::cone(5.0, 0.0, 10.0, 48)),
        ("sphere", Mesh::sphere(5.0, 48)),
        ("torus", Mesh::torus(10.0, 2.0, 48)),
    ] {
        let triangles = mesh.triangle_count();
        for encoding in [Encoding::Base64, Encoding::Plain] {
            let message = Group::new(name)
                .with(Part::new(name, mesh.clone()))
                .to_message_with(encoding, Default::default());
            assert_eq!(validate(&message).triangles, triangles, "{name}");
        }
    }
}

#[test]
fn an_assembly_instances_shared_meshes_and_places_its_parts() {
    let pillar = Arc::new(Mesh::cylinder(2.0, 20.0, 32));
    let mut pillars = Group::new("pillars").at(Location::translation(0.0, 0.0, 12.0));
    for (x, y) in [(-20.0, -20.0), (20.0, -20.0), (20.0, 20.0), (-20.0, 20.0)] {
        pillars.push(Part::new("pillar", pillar.clone()).at(Location::translation(x, y, 0.0)));
    }
    let scene = Group::new("assembly")
        .with(Part::new("base", Mesh::cuboid(60.0, 60.0, 4.0)).color("#808080"))
        .with(pillars)
        .with(
            Part::new("top", Mesh::cuboid(60.0, 60.0, 4.0))
                .alpha(0.6)
                .at(Location::translation(0.0, 0.0, 24.0)),
        );
    let message = scene.to_message();
    let summary = validate(&message);
    assert_eq!(
        (summary.groups, summary.leaves, summary.instances),
        (2, 6, 3)
    );

    let Geometry::Instanced { shapes, .. } = &message.data else {
        panic!("instanced")
    };
    let Node::Group(group) = &shapes.parts[1] else {
        panic!("pillars are a group")
    };
    let ids: Vec<String> = group
        .parts
        .iter()
        .map(|n| match n {
            Node::Leaf(l) => l.id.clone(),
            Node::Group(g) => g.id.clone(),
        })
        .collect();
    assert_eq!(
        ids,
        [
            "/assembly/pillars/pillar",
            "/assembly/pillars/pillar_2",
            "/assembly/pillars/pillar_3",
            "/assembly/pillars/pillar_4"
        ]
    );
    let bb = shapes.bb.unwrap();
    assert!(
        (bb.zmax - 26.0).abs() < 1e-4 && (bb.zmin + 2.0).abs() < 1e-4,
        "{bb:?}"
    );
    let Node::Leaf(top) = &shapes.parts[2] else {
        panic!()
    };
    assert_eq!(top.alpha, Some(0.6));
    assert!(matches!(top.shape, ShapeRef::Ref { index: 2 }));
}

#[test]
fn the_real_fixtures_round_trip_through_the_types() {
    for name in ["box", "bracket", "assembly"] {
        let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let message = ocp_notebook::model::builder::load_json(&path).unwrap();
        validate(&message);
        let again = Message::from_json(message.to_json().as_bytes()).unwrap();
        assert_eq!(again, message, "{name}");
        let resolved = message.data.resolved().unwrap();
        assert!(!resolved.parts.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Encoding then decoding gives back the values exactly, in both encodings.
    #[test]
    fn arrays_round_trip(floats in prop::collection::vec(-1e6f32..1e6, 0..200), ints in prop::collection::vec(any::<u32>(), 0..200)) {
        for encoding in [Encoding::Base64, Encoding::Plain] {
            let f = Array::new(floats.clone(), encoding);
            let back: Array<f32> = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
            prop_assert_eq!(&back.values, &floats);
            let i = Array::new(ints.iter().map(|v| v >> 1).collect::<Vec<u32>>(), encoding);
            let back: Array<u32> = serde_json::from_str(&serde_json::to_string(&i).unwrap()).unwrap();
            prop_assert_eq!(back.values, i.values);
        }
    }

    /// Any triangle soup the builder accepts comes out as a valid model.
    #[test]
    fn built_meshes_always_validate(
        points in prop::collection::vec(prop::array::uniform3(-100f32..100.0), 3..40),
        picks in prop::collection::vec(prop::array::uniform3(0usize..1000), 1..60),
        smooth in any::<bool>(),
    ) {
        let triangles: Vec<[u32; 3]> = picks.iter().map(|t| t.map(|i| (i % points.len()) as u32)).collect();
        let normals = if smooth { ocp_notebook::model::builder::Normals::Smooth { crease_degrees: 40.0 } } else { ocp_notebook::model::builder::Normals::Flat };
        let mesh = Mesh::from_triangles_with(points, triangles.clone(), normals, 30.0).unwrap();
        prop_assert_eq!(mesh.triangle_count(), triangles.len());
        validate(&mesh.into_message("soup"));
    }
}

/// Inputs the fuzzer once crashed or hung on (fuzz/run copies new ones here): each must now get
/// an answer, a model or a 4xx error.
#[test]
fn fuzzer_findings_stay_fixed() {
    let dir = format!("{}/tests/fixtures/fuzz", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        if let Err(error) = ocp_notebook::model::parse_upload(bytes, &Limits::default()) {
            // Every error is the client's (400 or 422 by its kind) and says what is wrong.
            assert!(!error.message.is_empty(), "{}: {error:?}", path.display());
        }
    }
}
