//! Every push a version: parts stored once by content, the parts a page lacks, each viewer's
//! history and what changed between two versions. The contract suite: both stores.

mod common;

use common::*;
use ocp_notebook::Settings;
use serde_json::{json, Value};

crate::contract!(
    pushing_the_same_model_again_keeps_no_second_copy,
    a_changed_part_is_all_a_version_adds_and_all_a_page_fetches,
    parts_are_served_by_hash_immutable_and_errors_say_what,
    model_memory_counts_each_part_once,
    the_history_keeps_the_newest_versions_and_shows_one_again,
    the_diff_names_each_part_by_what_changed,
    parts_shared_with_a_deleted_viewer_stay_for_the_others,
    a_viewer_at_its_history_makes_room_from_its_own_versions_first,
);

/// The assembly fixture (four shared meshes, nine parts) as ocp_vscode sends it.
fn assembly() -> Value {
    serde_json::from_slice(&fixture("assembly.json")).unwrap()
}

/// The assembly with its gear mesh (shared mesh 2) edited: one vertex moved.
fn with_gear_edited(mut model: Value, by: f64) -> Value {
    let gear = &mut model["data"]["instances"][2]["vertices"];
    edit_first_number(gear, by);
    model
}

/// Adds `by` to the first number of an array, plain or base64 (a float32 buffer).
fn edit_first_number(array: &mut Value, by: f64) {
    if let Some(numbers) = array.as_array_mut() {
        numbers[0] = json!(numbers[0].as_f64().unwrap() + by);
        return;
    }
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine.decode(array["buffer"].as_str().unwrap()).unwrap();
    let first = f32::from_le_bytes(bytes[..4].try_into().unwrap()) + by as f32;
    bytes[..4].copy_from_slice(&first.to_le_bytes());
    array["buffer"] = json!(engine.encode(bytes));
}

async fn push(server: &TestServer, viewer: &str, model: &Value) -> Value {
    let (status, answer) = post(
        server,
        &format!("/api/model?viewer={viewer}"),
        model.to_string(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    answer
}

/// The path of a pushed model (`/api/model/<id>`).
fn path_of(pushed: &Value) -> String {
    format!("/api/model/{}", pushed["model_id"].as_str().unwrap())
}

async fn model_bytes(server: &TestServer) -> u64 {
    get_json(server, "/health").await.1["model_bytes"]
        .as_u64()
        .unwrap()
}

async fn get_bytes(server: &TestServer, path: &str) -> (u16, Vec<u8>) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn history(server: &TestServer, viewer: &str) -> Value {
    let (status, history) = get_json(server, &format!("/api/viewer/{viewer}/history")).await;
    assert_eq!(status, 200, "{history}");
    history
}

/// What a user sees re-running an unchanged cell: the server keeps the parts once, and each
/// version still reads back byte for byte.
async fn pushing_the_same_model_again_keeps_no_second_copy(store: Store) {
    let server = store.start();
    let model = assembly();
    let first = push(&server, "v", &model).await;
    let once = model_bytes(&server).await;
    for _ in 0..9 {
        push(&server, "v", &model).await;
    }
    let ten = model_bytes(&server).await;
    let history = history(&server, "v").await;
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 10, "{history}");
    let tree_bytes = versions[9]["new_bytes"].as_u64().unwrap();
    assert_eq!(
        ten - once,
        9 * tree_bytes,
        "each push after the first adds its tree alone"
    );
    assert!(
        tree_bytes < once / 20,
        "a push of the same model adds its tree alone: {tree_bytes} bytes, against {once}"
    );
    assert_eq!(versions[0]["new_bytes"].as_u64(), Some(once));
    assert_eq!(history["model_id"], versions[9]["model_id"]);

    // Every version is still the model as posted.
    let (_, stored) = get_json(&server, &path_of(&first)).await;
    assert_eq!(stored["data"], model["data"]);
    let last = versions[9]["model_id"].as_str().unwrap();
    let (_, stored) = get_json(&server, &format!("/api/model/{last}")).await;
    assert_eq!(stored["data"], model["data"]);
}

/// A one-part edit of an assembly: the version adds that part and its tree, and a page that
/// shows the version before fetches that part alone.
async fn a_changed_part_is_all_a_version_adds_and_all_a_page_fetches(store: Store) {
    let server = store.start();
    let before = push(&server, "v", &assembly()).await;
    let after = push(&server, "v", &with_gear_edited(assembly(), 0.5)).await;
    let (before, after) = (
        before["model_id"].as_str().unwrap(),
        after["model_id"].as_str().unwrap(),
    );
    let (status, tree) = get_json(&server, &format!("/api/model/{after}/tree")).await;
    assert_eq!(status, 200, "{tree}");
    let parts = tree["parts"].as_object().unwrap();
    assert_eq!(
        parts.len(),
        4,
        "the four shared meshes are parts: {parts:?}"
    );
    let gear_hash = tree["data"]["instances"][2]["part"].as_str().unwrap();
    assert_eq!(
        tree["data"]["shapes"]["id"], "/assembly",
        "names and places stay in the tree"
    );

    let (status, lacking) =
        get_json(&server, &format!("/api/model/{after}/parts?since={before}")).await;
    assert_eq!(status, 200, "{lacking}");
    let lacking = lacking.as_object().unwrap();
    assert_eq!(lacking.keys().collect::<Vec<_>>(), [gear_hash]);
    assert_eq!(
        lacking[gear_hash],
        with_gear_edited(assembly(), 0.5)["data"]["instances"][2]
    );

    let (_, all) = get_json(&server, &format!("/api/model/{after}/parts")).await;
    assert_eq!(all.as_object().unwrap().len(), 4);

    let history = history(&server, "v").await;
    let versions = history["versions"].as_array().unwrap();
    let (first, second) = (
        versions[0]["new_bytes"].as_u64().unwrap(),
        versions[1]["new_bytes"].as_u64().unwrap(),
    );
    let gear = parts[gear_hash].as_u64().unwrap();
    assert!(
        second > gear && second < gear + first / 10,
        "the edit added {second} bytes: the gear is {gear}, the first version {first}"
    );
}

async fn parts_are_served_by_hash_immutable_and_errors_say_what(store: Store) {
    let server = store.start();
    let pushed = push(&server, "v", &assembly()).await;
    let id = pushed["model_id"].as_str().unwrap();
    let (_, tree) = get_json(&server, &format!("/api/model/{id}/tree")).await;
    let hash = tree["data"]["instances"][0]["part"]
        .as_str()
        .unwrap()
        .to_string();
    let response = client()
        .get(server.url(&format!("/api/part/{hash}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let etag = headers["etag"].to_str().unwrap().to_string();
    let part: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(part, assembly()["data"]["instances"][0]);
    let again = client()
        .get(server.url(&format!("/api/part/{hash}")))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let missing = "0".repeat(64);
    for (path, status, code) in [
        (format!("/api/part/{missing}"), 404, "part_not_found"),
        ("/api/part/ABC".to_string(), 400, "invalid_id"),
        (
            format!("/api/part/{}", hash.to_uppercase()),
            400,
            "invalid_id",
        ),
        (
            "/api/model/nothing/tree".to_string(),
            404,
            "model_not_found",
        ),
        (format!("/api/model/{id}/parts?since=a%20b"), 422, "invalid"),
        (
            format!("/api/model/{id}/parts?since=a&since=b"),
            400,
            "bad_request",
        ),
        (
            "/api/viewer/nobody/history".to_string(),
            404,
            "viewer_not_found",
        ),
        ("/api/viewer/v/diff?from=..".to_string(), 422, "invalid"),
        (
            "/api/viewer/v/diff?to=unknown".to_string(),
            404,
            "version_not_kept",
        ),
        (
            format!("/api/viewer/other/diff?to={id}"),
            404,
            "viewer_not_found",
        ),
    ] {
        let (got, answer) = get_json(&server, &path).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {answer}"
        );
    }
    // A page that has a model no longer kept is sent every part.
    let (_, all) = get_json(&server, &format!("/api/model/{id}/parts?since=gone")).await;
    assert_eq!(all.as_object().unwrap().len(), 4);

    // Another viewer's version is not this one's to compare.
    push(&server, "w", &assembly()).await;
    let (status, answer) = get_json(&server, &format!("/api/viewer/w/diff?from={id}")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("version_not_kept")),
        "{answer}"
    );
    let response = client()
        .delete(server.url("/api/viewer/w"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, answer) = get_json(&server, "/api/viewer/w/history").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (410, Some("viewer_deleted")),
        "{answer}"
    );
}

/// `--model-memory` holds many versions of one model: each adds its tree, not a copy.
async fn model_memory_counts_each_part_once(store: Store) {
    let size = fixture("assembly.json").len() as u64;
    let server = store.with(Settings {
        model_memory: rocket::data::ByteUnit::Byte(size * 3 / 2),
        ..Settings::default()
    });
    let model = assembly();
    let first = push(&server, "v", &model).await;
    for _ in 0..10 {
        push(&server, "v", &model).await;
    }
    let (status, _) = get_json(&server, &path_of(&first)).await;
    assert_eq!(status, 200, "the first version is still kept");
    assert_eq!(
        history(&server, "v").await["versions"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    assert!(model_bytes(&server).await <= size * 3 / 2);

    // Edits that each add a whole mesh make room by dropping the oldest versions.
    for step in 1..=6 {
        push(&server, "v", &with_gear_edited(assembly(), step as f64)).await;
        assert!(
            model_bytes(&server).await <= size * 3 / 2,
            "within --model-memory"
        );
    }
    let (status, answer) = get_json(&server, &path_of(&first)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (410, Some("model_evicted"))
    );
}

async fn the_history_keeps_the_newest_versions_and_shows_one_again(store: Store) {
    let server = store.with(Settings {
        history: 3,
        ..Settings::default()
    });
    let mut ids = Vec::new();
    for step in 0..5 {
        let answer = push(&server, "v", &with_gear_edited(assembly(), step as f64)).await;
        ids.push(answer["model_id"].as_str().unwrap().to_string());
    }
    let history = history(&server, "v").await;
    let kept: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|version| version["model_id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, &ids[2..], "the newest three, oldest first");
    assert_eq!(history["limit"], 3);
    let (status, _) = get_json(&server, &format!("/api/model/{}", ids[0])).await;
    assert_eq!(status, 410);

    let mut page = SseReader::open(&server, "v", None).await;
    assert_eq!(
        page.next().await.data["model_id"].as_str(),
        Some(ids[4].as_str())
    );
    let (status, answer) = post(
        &server,
        "/api/viewer/v/show",
        json!({ "model_id": ids[2] }).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let event = page.next().await;
    assert_eq!(event.kind(), "model_update");
    assert_eq!(event.data["model_id"].as_str(), Some(ids[2].as_str()));
    assert!(event.data["tree_url"].as_str().unwrap().ends_with("/tree"));
    let (_, status) = get_json(&server, "/api/viewer/v/status").await;
    assert_eq!(status["model_id"].as_str(), Some(ids[2].as_str()));
    assert_eq!(
        history_ids(&server).await,
        &ids[2..],
        "showing a version keeps the order"
    );

    // A scene file may carry the kept versions.
    let (status, scene) = get_bytes(&server, "/viewer/v/scene.html?history=1").await;
    assert_eq!(status, 200);
    let (_, plain) = get_bytes(&server, "/viewer/v/scene.html").await;
    let carries = |html: &[u8]| String::from_utf8_lossy(html).contains("id=\"ocp-history\"");
    assert!(carries(&scene) && !carries(&plain));
    // A clear keeps the versions: a scene of them opens on the newest.
    let (status, _) = post(&server, "/api/viewer/v/clear", "").await;
    assert_eq!(status, 200);
    let (status, _) = get_bytes(&server, "/viewer/v/scene.html").await;
    assert_eq!(status, 404, "no model on screen");
    let (status, scene) = get_bytes(&server, "/viewer/v/scene.html?history=1").await;
    assert_eq!(status, 200);
    assert!(carries(&scene));
    let (status, answer) = get_json(&server, "/viewer/v/scene.html?history=maybe").await;
    assert_eq!(
        (status, answer["error"]["path"].as_str()),
        (422, Some("?history")),
        "{answer}"
    );

    for (body, status, code) in [
        (json!({ "model_id": ids[0] }), 404, "version_not_kept"),
        (json!({ "model_id": 3 }), 422, "invalid"),
        (json!({}), 422, "invalid"),
    ] {
        let (got, answer) = post(&server, "/api/viewer/v/show", body.to_string()).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
}

async fn history_ids(server: &TestServer) -> Vec<String> {
    history(server, "v").await["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|version| version["model_id"].as_str().unwrap().to_string())
        .collect()
}

/// A viewer at its `--history` drops its own oldest version with each push: that room counts
/// before any other viewer's kept versions go for `--model-memory`.
async fn a_viewer_at_its_history_makes_room_from_its_own_versions_first(store: Store) {
    let edit = |step| with_gear_edited(assembly(), step as f64);
    // What the four versions below keep, and what a fifth adds (each edit adds its gear mesh).
    let measure = store.with(Settings::default());
    for (viewer, step) in [("b", 1), ("b", 2), ("a", 3), ("a", 4)] {
        push(&measure, viewer, &edit(step)).await;
    }
    let four = model_bytes(&measure).await;
    push(&measure, "a", &edit(5)).await;
    let fifth = model_bytes(&measure).await - four;

    // Room for the fifth only once one of the four goes.
    let server = store.with(Settings {
        history: 2,
        model_memory: rocket::data::ByteUnit::Byte(four + fifth / 2),
        ..Settings::default()
    });
    let mut ids = Vec::new();
    for (viewer, step) in [("b", 1), ("b", 2), ("a", 3), ("a", 4), ("a", 5)] {
        ids.push(push(&server, viewer, &edit(step)).await["model_id"].clone());
    }
    let kept = |history: Value| -> Vec<Value> {
        let versions = history["versions"].as_array().unwrap();
        versions.iter().map(|v| v["model_id"].clone()).collect()
    };
    assert_eq!(
        kept(history(&server, "a").await),
        &ids[3..5],
        "a dropped its oldest"
    );
    assert_eq!(
        kept(history(&server, "b").await),
        &ids[0..2],
        "b keeps both its versions: a's own drop made the room"
    );
    assert!(model_bytes(&server).await <= four + fifth / 2);
}

async fn the_diff_names_each_part_by_what_changed(store: Store) {
    let server = store.start();
    let (status, answer) = post(
        &server,
        "/api/viewer/v/config",
        json!({"axes": true}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = get_json(&server, "/api/viewer/v/diff").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("no_model")),
        "{answer}"
    );

    let first = push(&server, "v", &assembly()).await;
    let (_, diff) = get_json(&server, "/api/viewer/v/diff").await;
    assert_eq!(diff["from"], Value::Null, "{diff}");
    assert_eq!(diff["added"].as_array().unwrap().len(), 8);

    let mut edited = with_gear_edited(assembly(), 0.5);
    let shapes = &mut edited["data"]["shapes"]["parts"];
    shapes[0]["color"] = json!("#ff0000"); // base: restyled
    shapes[1]["parts"][0]["loc"] = json!([[-45.0, -30.0, 2.5], [0.0, 0.0, 0.0, 1.0]]); // moved
    let top = shapes[3].take();
    shapes
        .as_array_mut()
        .unwrap()
        .retain(|part| !part.is_null()); // top_plate removed
    let mut extra = shapes[1]["parts"][0].clone();
    extra["id"] = json!("/assembly/pillars/pillar_4");
    extra["name"] = json!("pillar_4");
    shapes[1]["parts"].as_array_mut().unwrap().push(extra); // added
    assert_eq!(top["id"], "/assembly/top_plate");
    let second = push(&server, "v", &edited).await;

    let (status, diff) = get_json(&server, "/api/viewer/v/diff").await;
    assert_eq!(status, 200, "{diff}");
    assert_eq!(diff["from"], first["model_id"]);
    assert_eq!(diff["to"], second["model_id"]);
    let names = |key: &str| -> Vec<String> {
        diff[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|path| path.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("added"), ["/assembly/pillars/pillar_4"]);
    assert_eq!(names("removed"), ["/assembly/top_plate"]);
    assert_eq!(
        names("changed"),
        ["/assembly/gears/gear_left", "/assembly/gears/gear_right"],
        "both gears draw the edited mesh"
    );
    assert_eq!(names("moved"), ["/assembly/pillars/pillar_0"]);
    assert_eq!(names("restyled"), ["/assembly/base"]);
    assert_eq!(
        names("unchanged"),
        [
            "/assembly/pillars/pillar_1",
            "/assembly/pillars/pillar_2",
            "/assembly/pillars/pillar_3"
        ]
    );

    // Backwards, the other way round.
    let path = format!(
        "/api/viewer/v/diff?from={}&to={}",
        second["model_id"].as_str().unwrap(),
        first["model_id"].as_str().unwrap()
    );
    let (_, back) = get_json(&server, &path).await;
    assert_eq!(back["added"], json!(["/assembly/top_plate"]));
    assert_eq!(back["removed"], json!(["/assembly/pillars/pillar_4"]));
}

async fn parts_shared_with_a_deleted_viewer_stay_for_the_others(store: Store) {
    let server = store.start();
    push(&server, "a", &assembly()).await;
    let kept = push(&server, "b", &assembly()).await;
    let both = model_bytes(&server).await;
    let response = client()
        .delete(server.url("/api/viewer/a"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = kept["model_id"].as_str().unwrap();
    let (status, model) = get_json(&server, &format!("/api/model/{id}")).await;
    assert_eq!(status, 200, "{model}");
    assert_eq!(model["data"], assembly()["data"]);
    let one = model_bytes(&server).await;
    assert!(
        one < both && both - one < one / 10,
        "only a's tree went: {both} -> {one}"
    );
    let (_, all) = get_bytes(&server, &format!("/api/model/{id}/parts")).await;
    assert!(
        serde_json::from_slice::<Value>(&all)
            .unwrap()
            .as_object()
            .unwrap()
            .len()
            == 4
    );
}
