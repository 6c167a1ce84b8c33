//! Measurements of primitives, whose exact values are known in closed form.

use std::f64::consts::PI;
use std::sync::Arc;

use serde_json::Value;

use super::*;
use crate::model::builder::{Group, Mesh, Part};
use crate::model::types::{Encoding, Location};

/// The geometry of a message.
fn geometry(json: &str) -> &str {
    crate::model::skeleton::Body::read(json.as_bytes())
        .unwrap()
        .geometry
}

/// The path of the first node under the root.
fn first_part(json: &str) -> String {
    let skeleton: crate::model::Skeleton<crate::model::skeleton::Unread> =
        crate::model::Skeleton::read(geometry(json), "$", &Default::default()).unwrap();
    skeleton.paths()[1].to_string()
}

fn ask(json: &str, tool: Tool, ids: &[&str]) -> Value {
    let picks: Vec<Pick> = ids.iter().map(|id| Pick::parse(id).unwrap()).collect();
    measure(geometry(json), &|_| None, tool, &picks).unwrap_or_else(|err| panic!("{ids:?}: {err}"))
}

fn number(answer: &Value, key: &str) -> f64 {
    answer[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key} in {answer}"))
}

fn near(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

fn brick() -> String {
    Mesh::cuboid(10.0, 20.0, 30.0)
        .into_message("brick")
        .to_json()
}

#[test]
fn a_box_measures_as_its_dimensions() {
    let json = brick();
    let face = |i: usize| format!("/brick/brick/faces/faces_{i}");
    // Faces come in pairs per axis: x, y, z.
    for (pair, gap) in [(0, 10.0), (2, 20.0), (4, 30.0)] {
        let answer = ask(&json, Tool::Distance, &[&face(pair), &face(pair + 1)]);
        assert_eq!(number(&answer, "distance"), gap);
        let (p1, p2) = (&answer["point1"], &answer["point2"]);
        let axis = pair / 2;
        assert_eq!(
            (p2[axis].as_f64().unwrap() - p1[axis].as_f64().unwrap()).abs(),
            gap
        );
    }
    let x_face = ask(&json, Tool::Properties, &[&face(0)]);
    assert_eq!(number(&x_face, "area"), 600.0);
    assert_eq!(x_face["geom_type"], "Plane");
    assert_eq!(x_face["normal"], serde_json::json!([-1.0, 0.0, 0.0]));
    assert_eq!(x_face["center"], serde_json::json!([-5.0, 0.0, 0.0]));
    assert_eq!(x_face["bb"]["size"], serde_json::json!([0.0, 20.0, 30.0]));

    let solid = ask(&json, Tool::Properties, &["/brick/brick"]);
    assert_eq!(number(&solid, "volume"), 6000.0);
    assert_eq!(number(&solid, "area"), 2200.0);
    assert_eq!(solid["center"], serde_json::json!([0.0, 0.0, 0.0]));

    let corner = ask(
        &json,
        Tool::Properties,
        &["/brick/brick/vertices/vertices7"],
    );
    assert_eq!(
        corner["vertex_coords"],
        serde_json::json!([5.0, 10.0, 15.0])
    );
    let edge = ask(&json, Tool::Properties, &["/brick/brick/edges/edges_0"]);
    assert_eq!(edge["geom_type"], "Line");
    assert!([10.0, 20.0, 30.0].contains(&number(&edge, "length")));

    assert_eq!(
        number(&ask(&json, Tool::Angle, &[&face(0), &face(2)]), "angle"),
        90.0
    );
    assert_eq!(
        number(&ask(&json, Tool::Angle, &[&face(0), &face(1)]), "angle"),
        180.0
    );
    assert_eq!(
        number(&ask(&json, Tool::Angle, &[&face(4), &face(5)]), "angle"),
        180.0
    );
    // Two edges from one corner are at right angles; a corner to the opposite corner is the diagonal.
    let edges = ask(
        &json,
        Tool::Angle,
        &["/brick/brick/edges/edges_0", "/brick/brick/edges/edges_1"],
    );
    assert_eq!(number(&edges, "angle"), 90.0);
    let diagonal = ask(
        &json,
        Tool::Distance,
        &[
            "/brick/brick/vertices/vertices0",
            "/brick/brick/vertices/vertices7",
        ],
    );
    assert!(near(
        number(&diagonal, "distance"),
        (100.0f64 + 400.0 + 900.0).sqrt(),
        1e-6
    ));
}

#[test]
fn curved_faces_and_edges_give_their_radius_and_areas_within_the_chord_error() {
    let json = Mesh::cylinder(2.0, 10.0, 48).into_message("pin").to_json();
    let side = ask(&json, Tool::Properties, &["/pin/pin/faces/faces_0"]);
    assert_eq!(side["geom_type"], "Cylinder");
    assert!(near(number(&side, "radius"), 2.0, 1e-5), "{side}");
    // The chord error of 48 segments is 1 - sin(pi/48)/(pi/48) of the area.
    let exact = 2.0 * PI * 2.0 * 10.0;
    assert!(near(number(&side, "area"), exact, exact * 0.0008), "{side}");
    let rim = ask(&json, Tool::Properties, &["/pin/pin/edges/edges_0"]);
    assert_eq!(rim["geom_type"], "Circle");
    assert!(near(number(&rim, "radius"), 2.0, 1e-5));
    assert!(near(number(&rim, "length"), 4.0 * PI, 4.0 * PI * 0.0008));
    let caps = ask(
        &json,
        Tool::Distance,
        &["/pin/pin/faces/faces_1", "/pin/pin/faces/faces_2"],
    );
    assert!(near(number(&caps, "distance"), 10.0, 1e-6));

    let ball = Mesh::sphere(3.0, 32).into_message("ball").to_json();
    let surface = ask(&ball, Tool::Properties, &["/ball/ball/faces/faces_0"]);
    assert_eq!(surface["geom_type"], "Sphere");
    assert!(near(number(&surface, "radius"), 3.0, 1e-5), "{surface}");
    // A curved face has no angle to measure.
    let picks =
        ["/pin/pin/faces/faces_0", "/pin/pin/faces/faces_1"].map(|id| Pick::parse(id).unwrap());
    let err = measure(geometry(&json), &|_| None, Tool::Angle, &picks).unwrap_err();
    assert!(err.to_string().contains("is not planar"), "{err}");
}

#[test]
fn placed_and_instanced_parts_are_measured_where_they_are_drawn() {
    // One mesh sent once, used twice: rotated a quarter turn about z and moved along x.
    let cube = Arc::new(Mesh::cuboid(2.0, 2.0, 2.0));
    let turned = Location::rotation([0.0, 0.0, 1.0], 90.0).moved(10.0, 0.0, 0.0);
    let model = Group::new("pair")
        .with(Part::new("a", cube.clone()))
        .with(
            Group::new("moved")
                .at(Location::translation(0.0, 0.0, 5.0))
                .with(Part::new("b", cube).at(turned)),
        )
        .to_message_with(Encoding::Base64, Default::default());
    let json = model.to_json();
    assert!(json.contains("instances"), "the mesh is shared");
    let solids = ask(&json, Tool::Distance, &["/pair/a", "/pair/moved/b"]);
    // a spans x -1..1, z -1..1; b spans x 9..11, z 4..6: 8 apart in x, 3 in z.
    assert!(
        near(number(&solids, "distance"), (64.0f64 + 9.0).sqrt(), 1e-6),
        "{solids}"
    );
    let b_center = ask(&json, Tool::Properties, &["/pair/moved/b"]);
    assert_eq!(b_center["center"], serde_json::json!([10.0, 0.0, 5.0]));
    // b's first face was normal to -x; turned a quarter about z it faces -y.
    let b_face = ask(&json, Tool::Properties, &["/pair/moved/b/faces/faces_0"]);
    let normal: Vec<f64> = b_face["normal"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        near(normal[1], -1.0, 1e-9) && near(normal[0], 0.0, 1e-9),
        "{normal:?}"
    );
}

#[test]
fn the_real_bracket_is_read_from_its_instanced_buffers() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bracket.json");
    let json = std::fs::read_to_string(path).unwrap();
    let part = first_part(&json);
    let solid = ask(&json, Tool::Properties, &[&part]);
    assert!(number(&solid, "volume") > 0.0 && number(&solid, "area") > 0.0);
    // Every face answers with a type, and the mesh's cylinders with a radius.
    for i in 0..29 {
        let face = ask(
            &json,
            Tool::Properties,
            &[&format!("{part}/faces/faces_{i}")],
        );
        assert!(face["geom_type"].is_string(), "{face}");
        if face["geom_type"] == "Cylinder" {
            assert!(number(&face, "radius") > 0.0);
        }
    }
}

#[test]
fn bad_picks_say_what_is_wrong() {
    let json = brick();
    let err = |tool, ids: &[&str]| {
        let picks: Vec<Pick> = ids.iter().map(|id| Pick::parse(id).unwrap()).collect();
        measure(geometry(&json), &|_| None, tool, &picks)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(Tool::Properties, &["/brick/brick/faces/faces_6"]),
        "face 6 of /brick/brick: the part has 6 faces"
    );
    assert_eq!(
        err(Tool::Properties, &["/brick/nothing"]),
        "the model has no part /brick/nothing"
    );
    assert_eq!(
        err(Tool::Properties, &["/brick"]),
        "/brick is a group, not a part"
    );
    assert_eq!(
        err(Tool::Distance, &["/brick/brick"]),
        "the distance tool measures 2 picks, not 1 pick"
    );
}

#[test]
fn an_edge_without_segments_is_an_error_not_a_panic() {
    use crate::model::builder::{Edge, EdgeType};

    let mut mesh = Mesh::cuboid(1.0, 1.0, 1.0);
    mesh.edges.push(Edge {
        points: vec![[0.0, 0.0, 0.0]],
        kind: EdgeType::Line,
    });
    let json = mesh.into_message("odd").to_json();
    for tool in [Tool::Angle, Tool::Distance] {
        let picks = ["/odd/odd/faces/faces_0", "/odd/odd/edges/edges_12"]
            .map(|id| Pick::parse(id).unwrap());
        match measure(geometry(&json), &|_| None, tool, &picks).unwrap_err() {
            MeasureError::Pick { index: 1, message } => {
                assert!(message.contains("no geometry"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn part_names_reach_the_info_box_escaped() {
    let json = Mesh::cuboid(1.0, 1.0, 1.0)
        .into_message("<img src=x onerror=alert(1)>")
        .to_json();
    let part = first_part(&json);
    let answer = ask(&json, Tool::Properties, &[&part]);
    let html = answer["center_info"].as_str().unwrap();
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img"));
}

#[test]
fn the_tool_names_are_the_ones_requests_may_give_and_answers_carry() {
    for name in Tool::NAMES {
        let tool: Tool = serde_json::from_value(name.into()).expect(name);
        let renderer = serde_json::to_value(tool).unwrap();
        assert!(
            Tool::NAMES[..3].contains(&renderer.as_str().unwrap()),
            "{name}"
        );
    }
    // Each tool (the match fails to compile when one is added) has its renderer's name listed.
    for tool in [Tool::Distance, Tool::Properties, Tool::Angle] {
        match tool {
            Tool::Distance | Tool::Properties | Tool::Angle => {}
        }
        let name = serde_json::to_value(tool).unwrap();
        assert!(Tool::NAMES.contains(&name.as_str().unwrap()), "{name}");
    }
}
