//! The notebook bridge against a real server on loopback: what a notebook cell does and what it
//! reads back, errors included. (Whole notebooks run in `tests/notebooks.rs`.)

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use ocp_notebook::model::builder::{Group, Mesh, Part};
use ocp_notebook::notebook::{json, server, Error, Viewer};
use ocp_notebook::Settings;

fn viewer_on(server: &TestServer) -> Viewer {
    Viewer::builder()
        .server(&server.base)
        .display(false)
        .build()
        .expect("the viewer connects")
}

fn stored(server: &TestServer, model_id: &str) -> serde_json::Value {
    let body = reqwest::blocking::get(server.url(&format!("/api/model/{model_id}")))
        .unwrap()
        .bytes()
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn leaf_names(model: &serde_json::Value) -> Vec<String> {
    fn walk(node: &serde_json::Value, out: &mut Vec<String>) {
        match node["parts"].as_array() {
            Some(parts) => parts.iter().for_each(|p| walk(p, out)),
            None => out.push(node["name"].as_str().unwrap_or_default().to_string()),
        }
    }
    let mut out = Vec::new();
    walk(&model["data"]["shapes"], &mut out);
    out
}

#[test]
fn a_scene_is_built_part_by_part_and_read_back() {
    let server = TestServer::start();
    let viewer = viewer_on(&server);
    assert!(viewer.id().starts_with("v-"));
    assert_eq!(
        viewer.url(),
        server.url(&format!("/viewer/{}", viewer.id()))
    );
    let status = viewer.status().expect("a new viewer is registered");
    assert_eq!(status.model_id, None);

    let shown = viewer
        .show(Part::new("box", Mesh::cuboid(10.0, 20.0, 5.0)).color("#e8b024"))
        .unwrap();
    assert_eq!((shown.parts, shown.triangles), (1, 12));
    assert_eq!(
        viewer.status().unwrap().model_id.as_deref(),
        Some(shown.model_id.as_str())
    );

    viewer
        .add(Part::new("base", Mesh::cuboid(50.0, 50.0, 4.0)))
        .unwrap();
    viewer
        .add(Group::new("post").with(Part::new("pin", Mesh::cylinder(2.0, 20.0, 24))))
        .unwrap();
    let shown = viewer
        .add(Part::new("ball", Mesh::sphere(5.0, 16)))
        .unwrap();
    assert_eq!(
        leaf_names(&stored(&server, &shown.model_id)),
        ["box", "base", "pin", "ball"],
        "what show() put there stays when parts are added, as in the Python bridge"
    );

    let shown = viewer.remove("post/pin").unwrap();
    assert_eq!(
        leaf_names(&stored(&server, &shown.model_id)),
        ["box", "base", "ball"]
    );
    let err = viewer.remove("bolt").unwrap_err();
    assert!(
        matches!(err, Error::NotInScene { .. })
            && err.to_string().contains("box, base, post, ball"),
        "{err}"
    );

    let config = viewer
        .config(json!({"axes": true, "theme": "dark"}))
        .unwrap();
    assert_eq!(
        (config["axes"].clone(), config["theme"].clone()),
        (json!(true), json!("dark"))
    );
    assert_eq!(viewer.status().unwrap().config["theme"], "dark");

    viewer.clear().unwrap();
    assert_eq!(viewer.status().unwrap().model_id, None);
    assert!(viewer.scene().children.is_empty());
}

/// Parts with the same name are stored as `post`, `post_2`, `post_3`, and each is removed by
/// that path, the one the viewer's tree shows.
#[test]
fn parts_with_one_name_are_addressed_by_their_unique_paths() {
    let server = TestServer::start();
    let viewer = viewer_on(&server);
    viewer
        .add(Part::new("plate", Mesh::cuboid(50.0, 50.0, 4.0)))
        .unwrap();
    let posts = (0..3).fold(Group::new("posts"), |group, _| {
        group.with(Part::new("post", Mesh::cylinder(2.0, 20.0, 16)))
    });
    let shown = viewer.add(posts).unwrap();
    let stored_ids = |model_id: &str| {
        let model = stored(&server, model_id);
        let parts = model["data"]["shapes"]["parts"][1]["parts"]
            .as_array()
            .unwrap()
            .clone();
        parts
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        stored_ids(&shown.model_id),
        [
            "/scene/posts/post",
            "/scene/posts/post_2",
            "/scene/posts/post_3"
        ]
    );
    let shown = viewer.remove("posts/post_2").unwrap();
    assert_eq!(
        leaf_names(&stored(&server, &shown.model_id)),
        ["plate", "post", "post_3"],
        "the second post went; the third keeps its name"
    );
    let err = viewer.remove("posts/post_2").unwrap_err();
    assert!(
        err.to_string().contains("posts/post, posts/post_3, posts"),
        "the error lists paths that can be used: {err}"
    );
    viewer.remove("posts/post_3").unwrap();
    let shown = viewer
        .add(Part::new("post", Mesh::cylinder(2.0, 20.0, 16)))
        .unwrap();
    assert_eq!(
        leaf_names(&stored(&server, &shown.model_id)),
        ["plate", "post", "post"],
        "a new top-level post is named among its own siblings"
    );
}

#[test]
fn notebook_errors_say_what_and_where() {
    let server = TestServer::with(Settings {
        screenshot_timeout_secs: 1,
        ..Settings::default()
    });
    let viewer = viewer_on(&server);

    let mut broken: serde_json::Value = serde_json::from_slice(&fixture("box.json")).unwrap();
    broken["data"]["instances"][0]["triangles"] = json!([0, 1, 900]);
    let err = viewer.show(&broken).unwrap_err();
    match &err {
        Error::InvalidModel { path, .. } => assert_eq!(path, "$.data.instances[0].triangles"),
        other => panic!("expected an invalid model, got {other:?}"),
    }
    assert!(err.to_string().contains("out of range"), "{err}");
    assert!(matches!(
        viewer.show("{not json"),
        Err(Error::Server { status: 400, .. })
    ));

    let err = viewer.screenshot().unwrap_err();
    assert!(matches!(err, Error::NoPage(_)), "{err:?}");
    assert!(err.to_string().contains("no page is showing"), "{err}");

    let err = Viewer::builder()
        .id("<script>")
        .server(&server.base)
        .display(false)
        .build();
    assert!(err.unwrap_err().to_string().contains("not a valid id"));

    let err = Viewer::builder()
        .server("http://127.0.0.1:9")
        .display(false)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be reached"), "{err}");
}

#[test]
fn a_viewer_deleted_on_the_server_is_reported_closed() {
    let server = TestServer::start();
    let viewer = viewer_on(&server);
    let deleted = reqwest::blocking::Client::new()
        .delete(server.url(&format!("/api/viewer/{}", viewer.id())))
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let err = viewer.status().unwrap_err();
    assert!(matches!(err, Error::ViewerClosed(_)), "{err:?}");
}

/// Light mode's child server: started from a "kernel" process, it answers, and it exits when
/// that process is killed (nothing else tells it to).
#[test]
fn a_child_server_exits_with_its_parent() {
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "kernel_that_starts_a_child_server",
            "--nocapture",
        ])
        .env("OCP_NOTEBOOK_TEST_PARENT", "1")
        .env(server::BIN_VAR, env!("CARGO_BIN_EXE_ocp-notebook"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let url = BufReader::new(parent.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("child at ").map(str::to_string))
        .expect("the parent reports its child's URL");
    // A started server wants a token for writes (any local user reaches loopback ports); its
    // URL carries it, and pages need none.
    let (base, token) = url.split_once("/?token=").expect("the URL carries a token");
    assert_eq!(token.len(), 32, "{url}");
    let http = reqwest::blocking::Client::new();
    let push = |token: Option<&str>| {
        let mut request = http
            .post(format!("{base}/api/model?viewer=t"))
            .header("Content-Type", "application/json")
            .body(fixture("box.json"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().unwrap().status().as_u16()
    };
    assert_eq!(push(None), 401, "a write without the token is refused");
    assert_eq!(push(Some(token)), 201);
    let page = http.get(format!("{base}/viewer/t")).send().unwrap();
    assert_eq!(page.status(), 200, "pages need no token");
    let report = http
        .post(format!("{base}/api/viewer/t/status"))
        .header("Content-Type", "application/json")
        .body(r#"{"zoom": 2}"#)
        .send()
        .unwrap();
    assert_eq!(report.status(), 200, "nor do their reports");

    let url = format!("{base}/");
    let health = |url: &str| reqwest::blocking::get(format!("{url}health")).is_ok();
    assert!(health(&url), "the child server answers at {url}");

    parent.kill().unwrap(); // SIGKILL: the parent gets no chance to clean up
    parent.wait().unwrap();
    let start = Instant::now();
    while health(&url) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the child server outlived its parent"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The parent process of the test above (run only by it).
#[test]
#[ignore = "helper process for a_child_server_exits_with_its_parent"]
fn kernel_that_starts_a_child_server() {
    if std::env::var_os("OCP_NOTEBOOK_TEST_PARENT").is_none() {
        return;
    }
    let url = server::start_child(&server::binary()).expect("the child starts");
    println!("child at {url}");
    std::thread::sleep(Duration::from_secs(600));
}

#[test]
fn scenes_are_saved_and_embedded_from_the_viewer() {
    let server = TestServer::start();
    let viewer = viewer_on(&server);
    let err = viewer.save_html("unused.html").unwrap_err();
    assert!(
        err.to_string().contains("shows no model yet"),
        "a viewer without a model says so: {err}"
    );

    viewer
        .show(Part::new("ring", Mesh::torus(20.0, 5.0, 48)).color("#e8b024"))
        .unwrap();
    let folder = std::env::temp_dir().join(format!("ocp-scene-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let saved = viewer.save_html(folder.join("ring.html")).unwrap();
    let html = std::fs::read_to_string(&saved.path).unwrap();
    assert_eq!(saved.bytes, html.len());
    assert!(saved.to_string().contains("opens offline"), "{saved}");
    assert!(html.contains(&format!("<title>{}</title>", viewer.id())));
    assert!(html.contains("id=\"ocp-model\"") && html.contains("DecompressionStream"));
    assert!(!html.contains(&server.base), "the scene names no server");

    let embedding = Viewer::builder()
        .server(&server.base)
        .display(false)
        .embed(true)
        .build()
        .unwrap();
    let shown = embedding
        .show(Part::new("box", Mesh::cuboid(10.0, 10.0, 10.0)))
        .unwrap();
    let scene = shown
        .scene
        .expect("an embedding viewer's push holds the scene");
    assert!(
        scene.png().is_none(),
        "no page is open, so there is no frame to photograph"
    );
    assert!(
        scene.to_string().contains("kept in the notebook"),
        "{scene}"
    );
    assert!(
        viewer
            .show(Part::new("ring", Mesh::torus(20.0, 5.0, 48)))
            .unwrap()
            .scene
            .is_none(),
        "viewers embed only when asked"
    );
    std::fs::remove_dir_all(&folder).unwrap();
}

/// What the page reports when the user picks with the measure tools comes back as picks, the
/// server measures them, and animations are checked against the scene.
#[test]
fn picks_are_read_back_measured_and_parts_animated() {
    use ocp_notebook::notebook::{Animation, Pick, Tool, Topology};

    let server = TestServer::start();
    let viewer = viewer_on(&server);
    assert_eq!(viewer.selection().unwrap(), Vec::<Pick>::new());
    viewer
        .show(Group::new("rig").with(Part::new("brick", Mesh::cuboid(10.0, 20.0, 30.0))))
        .unwrap();
    // What the page posts after two faces were clicked with the distance tool.
    let report = json!({
        "activeTool": {"old": "None", "new": "DistanceMeasurement"},
        "selectedShapeIDs": {"old": [], "new": ["/scene/rig/brick/faces/faces_2", "/scene/rig/brick/faces/faces_3"]},
    });
    let answer = reqwest::blocking::Client::new()
        .post(server.url(&format!("/api/viewer/{}/status", viewer.id())))
        .body(report.to_string())
        .header("Content-Type", "application/json")
        .send()
        .unwrap();
    assert!(answer.status().is_success());
    let picks = viewer.selection().unwrap();
    assert_eq!(picks.len(), 2);
    assert_eq!(
        (picks[0].path.as_str(), picks[0].kind, picks[0].index),
        ("/scene/rig/brick", Topology::Face, Some(2))
    );
    assert_eq!(picks[1].to_string(), "face 3 of /scene/rig/brick");
    let distance = viewer.measure(Tool::Distance, &picks).unwrap();
    assert_eq!(distance["distance"], 20.0);
    let face = viewer.measure(Tool::Properties, &picks[..1]).unwrap();
    assert_eq!(face["area"], 300.0);

    let swing = Animation::new().track("/scene/rig/brick", "rz", [0.0, 1.0], [0.0, 90.0]);
    viewer.animate(&swing).unwrap();
    assert_eq!(
        viewer.config(json!({})).unwrap()["animation"]["duration"],
        1.0
    );
    let wrong = Animation::new().track("/scene/rig/nothing", "rz", [0.0, 1.0], [0.0, 90.0]);
    match viewer.animate(&wrong).unwrap_err() {
        Error::InvalidRequest { path, message } => {
            assert_eq!(path, "$.tracks[0].path");
            assert!(message.contains("/scene/rig/brick"), "{message}");
        }
        other => panic!("{other}"),
    }
    viewer.stop_animation().unwrap();
    assert!(viewer.config(json!({})).unwrap()["animation"].is_null());
    viewer.animate(&swing).unwrap();
    // A new model ends the animation made for the old one.
    viewer
        .show(Part::new("other", Mesh::cuboid(1.0, 1.0, 1.0)))
        .unwrap();
    assert!(viewer.config(json!({})).unwrap()["animation"].is_null());
}

/// Re-running a cell with one edit: the notebook lists the versions, says what changed, and
/// puts an earlier one back on screen.
#[test]
fn a_notebook_steps_through_versions_and_reads_what_changed() {
    use ocp_notebook::model::types::Location;
    let server = TestServer::start();
    let viewer = viewer_on(&server);
    let scene = |width: f32, post_x: f64, with_ball: bool| {
        let mut group = Group::new("bench")
            .with(Part::new("plate", Mesh::cuboid(width, 50.0, 4.0)))
            .with(
                Part::new("post", Mesh::cylinder(2.0, 20.0, 48))
                    .at(Location::translation(post_x, 0.0, 0.0)),
            )
            .with(Part::new("cap", Mesh::sphere(3.0, 24)).color("#ff0000"));
        if with_ball {
            group.push(Part::new("ball", Mesh::sphere(5.0, 16)));
        }
        group
    };
    let first = viewer.show(scene(50.0, 0.0, true)).unwrap();
    assert!(
        viewer.diff().unwrap().changes.added.len() == 4,
        "everything is new at first"
    );
    let second = viewer.show(scene(60.0, 10.0, false)).unwrap();

    let history = viewer.history().unwrap();
    let ids: Vec<&str> = history
        .versions
        .iter()
        .map(|v| v.model_id.as_str())
        .collect();
    assert_eq!(ids, [first.model_id.as_str(), second.model_id.as_str()]);
    assert_eq!(history.model_id.as_deref(), Some(second.model_id.as_str()));
    assert!(history.to_string().contains("2 versions kept"), "{history}");

    let diff = viewer.diff().unwrap();
    assert_eq!(diff.from.as_deref(), Some(first.model_id.as_str()));
    assert_eq!(diff.changes.changed, ["/scene/bench/plate"]);
    assert_eq!(diff.changes.moved, ["/scene/bench/post"]);
    assert_eq!(diff.changes.removed, ["/scene/bench/ball"]);
    assert_eq!(diff.changes.unchanged, ["/scene/bench/cap"]);
    assert!(
        diff.to_string().contains("removed: /scene/bench/ball"),
        "{diff}"
    );

    viewer.show_version(&first.model_id).unwrap();
    assert_eq!(
        viewer.status().unwrap().model_id.as_deref(),
        Some(first.model_id.as_str())
    );
    let back = viewer
        .diff_between(Some(&second.model_id), Some(&first.model_id))
        .unwrap();
    assert_eq!(back.changes.added, ["/scene/bench/ball"]);
    let err = viewer.show_version("no-such-version").unwrap_err();
    assert!(err.to_string().contains("keeps no version"), "{err}");

    let folder = std::env::temp_dir().join(format!("ocp-versions-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let plain = viewer.save_html(folder.join("plain.html")).unwrap();
    let stepping = viewer
        .save_html_with_history(folder.join("steps.html"))
        .unwrap();
    let carries = |path: &std::path::Path| {
        String::from_utf8(std::fs::read(path).unwrap())
            .unwrap()
            .contains("id=\"ocp-history\"")
    };
    assert!(carries(&stepping.path) && !carries(&plain.path));
    assert!(stepping.bytes > plain.bytes);
    std::fs::remove_dir_all(&folder).unwrap();
}
