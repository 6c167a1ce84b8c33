//! What a measurement costs the server: the distance between two faces of a big stored model,
//! answered from the mesh (`measure::measure`: the tree read with its meshes left unread, the two
//! picked parts decoded, a bounding-volume walk). The server reads a stored model's tree form
//! and the picked parts alone; beside it in the same run, the same answer from the whole
//! geometry (how it read models before they were stored by content), and reading the model
//! whole into typed arrays (`Message::from_json`), which any answer that started from the parsed
//! model would pay first. Run with `cargo bench --bench measure`.

mod timing;

use std::collections::HashMap;
use std::time::Duration;

use timing::median_secs;

use ocp_notebook::ids::PartHash;
use ocp_notebook::measure::{measure, Pick, Tool};
use ocp_notebook::model::builder::{Group, Mesh, Part};
use ocp_notebook::model::parts::split;
use ocp_notebook::model::skeleton::Body;
use ocp_notebook::model::types::{Encoding, Location, Message};

/// The time each case is given.
const BUDGET: Duration = Duration::from_secs(2);

fn main() {
    println!(
        "| model | triangles | MB | distance of two faces (stored form) | from the whole geometry | parse whole | ratio to parse |"
    );
    println!("|---|---|---|---|---|---|---|");
    // The usual case: two faces of a big assembly (11 x 11 balls on a plate).
    let ball = std::sync::Arc::new(Mesh::sphere(4.0, 64));
    let mut grid = Group::new("grid");
    for i in 0..11 {
        for j in 0..11 {
            let at = Location::translation(10.0 * i as f64, 10.0 * j as f64, 0.0);
            grid.push(Part::new(format!("ball_{i}_{j}"), Mesh::clone(&ball)).at(at));
        }
    }
    let json = grid
        .to_message_with(Encoding::Base64, Default::default())
        .to_json()
        .into_bytes();
    let picks = [
        "/grid/ball_5_5/faces/faces_0",
        "/grid/ball_5_6/faces/faces_0",
    ]
    .map(|id| Pick::parse(id).unwrap());
    let answer = measure(geometry(&json), &|_| None, Tool::Distance, &picks).unwrap();
    assert!(
        (answer["distance"].as_f64().unwrap() - 2.0).abs() < 0.01,
        "{answer}"
    );
    report(
        "121 balls, two of them",
        121 * ball.triangle_count(),
        &json,
        &picks,
    );
    // The worst case: the two faces are the model.
    for segments in [64, 256, 512] {
        // Two spheres side by side and a plate under them: each sphere is one face.
        let ball = Mesh::sphere(10.0, segments);
        let triangles = 2 * ball.triangle_count() + 2;
        let json = Group::new("scene")
            .with(Part::new("left", ball.clone()))
            .with(Part::new("right", ball).at(Location::translation(25.0, 3.0, 0.0)))
            .with(
                Part::new("plate", Mesh::cuboid(80.0, 40.0, 2.0))
                    .at(Location::translation(10.0, 0.0, -15.0)),
            )
            .to_message_with(Encoding::Base64, Default::default())
            .to_json()
            .into_bytes();
        let picks = ["/scene/left/faces/faces_0", "/scene/right/faces/faces_0"]
            .map(|id| Pick::parse(id).unwrap());
        let answer = measure(geometry(&json), &|_| None, Tool::Distance, &picks).unwrap();
        assert!(
            (answer["distance"].as_f64().unwrap() - (25.0f64.powi(2) + 9.0).sqrt() + 20.0).abs()
                < 0.1
        );
        report(
            "two balls (the picks) and a plate",
            triangles,
            &json,
            &picks,
        );
    }
}

/// The geometry of a message, as the server hands it to a measurement.
fn geometry(json: &[u8]) -> &str {
    Body::read(json).unwrap().geometry
}

fn report(name: &str, triangles: usize, json: &[u8], picks: &[Pick]) {
    let whole = geometry(json);
    // As the server keeps it: the tree form, and each big mesh by its hash.
    let stored = split(whole).unwrap();
    let tree = std::str::from_utf8(&stored.tree.text).unwrap();
    let parts: HashMap<PartHash, &str> = (stored.tree.holes.iter())
        .zip(&stored.meshes)
        .map(|(hole, range)| (hole.part, &whole[range.clone()]))
        .collect();
    let from_parts = median_secs(BUDGET, || {
        measure(
            tree,
            &|hash| parts.get(hash).copied(),
            Tool::Distance,
            picks,
        )
        .unwrap();
    });
    let from_whole = median_secs(BUDGET, || {
        measure(whole, &|_| None, Tool::Distance, picks).unwrap();
    });
    let parsed = median_secs(BUDGET, || {
        Message::from_json(json).unwrap();
    });
    println!(
        "| {name} | {triangles} | {:.1} | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} |",
        json.len() as f64 / 1e6,
        from_parts * 1e3,
        from_whole * 1e3,
        parsed * 1e3,
        from_parts / parsed
    );
}
