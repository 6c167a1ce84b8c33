//! Every endpoint over a real socket: what a client sends and what it gets back, including each
//! class of bad input (and that bad input changes nothing).

mod common;

use common::*;
use ocp_notebook::Settings;
use serde_json::{json, Value};

crate::contract!(
    a_posted_model_is_stored_and_served_back_byte_for_byte,
    models_are_gzipped_when_asked,
    the_three_body_forms_are_accepted,
    bad_uploads_get_precise_json_errors_and_change_nothing,
    unknown_and_invalid_ids_are_json_errors,
    evicted_models_answer_410,
    status_reports_merge_and_read_back,
    server_defaults_and_viewer_config,
    viewers_are_listed_cleared_and_deleted,
    health_reports_counts_and_limits,
    viewers_are_listed_most_recently_active_first,
    a_deleted_viewer_stays_deleted_for_its_pages,
    concurrent_reports_cannot_pass_the_settings_limit_together,
    thumbnails_are_kept_per_viewer_and_go_with_it,
    the_measure_tools_are_answered_from_the_stored_model,
    an_accepted_model_is_measured_and_animated_however_it_is_written,
    a_cell_script_holds_the_scene_and_nothing_a_page_could_run,
    animations_are_checked_kept_sent_and_ended_by_a_new_model,
    a_kernel_answers_measurements_exactly_and_the_mesh_stands_in,
);

/// A small valid PNG (1x1), as a page's thumbnail stands in for.
const TINY_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// What `/viewers` shows: the last frame a page posted, the model's counts; one thumbnail per
/// viewer, bounded, refused for viewers that do not exist, and gone with its viewer.
async fn thumbnails_are_kept_per_viewer_and_go_with_it(store: Store) {
    let server = store.with(Settings {
        thumbnail_limit: rocket::data::ByteUnit::Byte(1024),
        ..Settings::default()
    });
    let (status, answer) = post(
        &server,
        "/api/viewer/nobody/thumbnail",
        json!({ "data": format!("data:image/png;base64,{TINY_PNG}") }).to_string(),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("viewer_not_found")),
        "{answer}"
    );

    post(
        &server,
        "/api/model?viewer=pictured",
        fixture("bracket.json"),
    )
    .await;
    let (status, _) = get_json(&server, "/api/viewer/pictured/thumbnail").await;
    assert_eq!(status, 404, "no page has drawn it yet");
    let (status, answer) = post(
        &server,
        "/api/viewer/pictured/thumbnail",
        json!({ "data": format!("data:image/png;base64,{TINY_PNG}") }).to_string(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let response = client()
        .get(server.url("/api/viewer/pictured/thumbnail"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(TINY_PNG)
        .unwrap();
    assert_eq!(response.bytes().await.unwrap(), png);

    let (_, list) = get_json(&server, "/api/viewers").await;
    let listed = &list["viewers"][0];
    assert_eq!(
        (&listed["parts"], &listed["triangles"], &listed["thumbnail"]),
        (&json!(1), &json!(2764), &json!(true)),
        "{listed}"
    );

    for (data, code) in [
        ("data:image/gif;base64,R0lGODlh".to_string(), "invalid"),
        (format!("data:image/jpeg;base64,{TINY_PNG}"), "invalid"),
        ("data:image/png;base64,%%%".to_string(), "invalid"),
    ] {
        let (status, answer) = post(
            &server,
            "/api/viewer/pictured/thumbnail",
            json!({ "data": data }).to_string(),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some(code)),
            "{data}: {answer}"
        );
        assert_eq!(answer["error"]["path"], "$.data");
    }
    let mut big = base64::engine::general_purpose::STANDARD
        .decode(TINY_PNG)
        .unwrap();
    big.resize(1500, 0);
    let big = base64::engine::general_purpose::STANDARD.encode(big);
    let (status, answer) = post(
        &server,
        "/api/viewer/pictured/thumbnail",
        json!({ "data": format!("data:image/png;base64,{big}") }).to_string(),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--thumbnail-limit"),
        "{answer}"
    );

    client()
        .delete(server.url("/api/viewer/pictured"))
        .send()
        .await
        .unwrap();
    let (status, answer) = get_json(&server, "/api/viewer/pictured/thumbnail").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (410, Some("viewer_deleted")),
        "{answer}"
    );
    let (status, _) = post(
        &server,
        "/api/viewer/pictured/thumbnail",
        json!({ "data": TINY_PNG }).to_string(),
    )
    .await;
    assert_eq!(status, 410, "a deleted viewer's page cannot bring it back");
}

/// The list a person reads top down: the viewer used last comes first, whatever the store.
async fn viewers_are_listed_most_recently_active_first(store: Store) {
    let server = store.start();
    for viewer in ["a", "c", "b"] {
        let (status, _) = post(
            &server,
            &format!("/api/model?viewer={viewer}"),
            fixture("box.json"),
        )
        .await;
        assert_eq!(status, 201);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (status, list) = get_json(&server, "/api/viewers").await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b", "c", "a"], "{}", store.name());
}

/// A deleted viewer's pages get 204 and their reports 410: only a write brings it back.
async fn a_deleted_viewer_stays_deleted_for_its_pages(store: Store) {
    let server = store.start();
    post(&server, "/api/model?viewer=v", fixture("box.json")).await;
    let response = client()
        .delete(server.url("/api/viewer/v"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, answer) = post(
        &server,
        "/api/viewer/v/status",
        json!({"zoom": 1}).to_string(),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (410, Some("viewer_deleted")),
        "{answer}"
    );
    let (_, list) = get_json(&server, "/api/viewers").await;
    assert_eq!(
        list["viewers"],
        json!([]),
        "the report did not bring it back"
    );
    let (status, _) = post(&server, "/api/model?viewer=v", fixture("box.json")).await;
    assert_eq!(status, 201);
    let (status, _) = post(
        &server,
        "/api/viewer/v/status",
        json!({"zoom": 1}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "a push started it again");
}

/// Each report alone fits `--settings-limit`; merged they would not. Sent at once, the limit is
/// checked where the merge happens, so the status stays within it.
async fn concurrent_reports_cannot_pass_the_settings_limit_together(store: Store) {
    let server = store.with(Settings {
        settings_limit: "64KiB".parse().unwrap(),
        ..Settings::default()
    });
    post(&server, "/api/model?viewer=s", fixture("box.json")).await;
    let reports = (0..12).map(|i| {
        let body = json!({ format!("key{i}"): "x".repeat(40_000) }).to_string();
        let url = server.url("/api/viewer/s/status");
        tokio::spawn(async move {
            client()
                .post(url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    });
    let mut statuses = Vec::new();
    for report in reports.collect::<Vec<_>>() {
        statuses.push(report.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 413),
        "{statuses:?}"
    );
    let (_, read) = get_json(&server, "/api/viewer/s/status").await;
    assert!(
        read["status"].to_string().len() <= 64 * 1024,
        "{}",
        store.name()
    );
}

/// A shared store that goes away: every route that needs it answers 503 `store_unavailable`
/// (no made-up answer, no lost write), and all heal when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_is_503_everywhere_and_heals() {
    let Some(store) = Store::redis() else { return };
    let Store::Redis(redis) = &store else {
        unreachable!()
    };
    let server = store.start();
    post(&server, "/api/model?viewer=o", fixture("box.json")).await;
    redis.stop();
    let writes: [(&str, String); 5] = [
        ("/api/config", json!({"theme": "dark"}).to_string()),
        (
            "/api/model?viewer=o",
            String::from_utf8(fixture("box.json")).unwrap(),
        ),
        ("/api/viewer/o/config", json!({"axes": true}).to_string()),
        ("/api/viewer/o/status", json!({"zoom": 2}).to_string()),
        ("/api/viewer/o/clear", String::new()),
    ];
    for (path, body) in &writes {
        let (status, answer) = post(&server, path, body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (503, Some("store_unavailable")),
            "POST {path}: {answer}"
        );
    }
    for path in [
        "/api/config",
        "/api/viewers",
        "/api/viewer/o/status",
        "/health",
    ] {
        let (status, answer) = get_json(&server, path).await;
        assert_eq!(status, 503, "GET {path}: {answer}");
    }
    let page = client().get(server.url("/viewers")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    let stream = SseReader::request(&server, "o", None).await;
    assert_eq!(stream.status(), 503);

    redis.restart();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (status, _) = get_json(&server, "/health").await;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the store came back");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, config) = post(&server, "/api/config", json!({"theme": "dark"}).to_string()).await;
    assert_eq!((status, config["theme"].as_str()), (200, Some("dark")));
    let (status, _) = get_json(&server, "/api/viewers").await;
    assert_eq!(status, 200);
}

async fn a_posted_model_is_stored_and_served_back_byte_for_byte(store: Store) {
    let server = store.start();
    let fixture = fixture("bracket.json");
    let (status, answer) = post(&server, "/api/model?viewer=bracket", fixture.clone()).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["viewer_id"], "bracket");
    let model_id = answer["model_id"].as_str().unwrap().to_string();
    assert_eq!(answer["url"], server.url(&format!("/api/model/{model_id}")));
    assert_eq!(answer["viewer_url"], server.url("/viewer/bracket"));

    let response = client()
        .get(answer["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len() as u64, answer["bytes"].as_u64().unwrap());
    let stored: Value = serde_json::from_slice(&body).unwrap();
    let original: Value = serde_json::from_slice(&fixture).unwrap();
    assert_eq!(stored["data"], original["data"]);
    assert_eq!(stored["config"], original["config"]);
    assert_eq!(stored["model_id"], model_id.as_str());

    // The geometry bytes are the posted bytes (no float re-formatting): the instances array of
    // the fixture appears verbatim in the served body.
    let text = String::from_utf8(fixture).unwrap();
    let start = text.find("\"instances\"").unwrap();
    let snippet = &text[start..start + 2000];
    assert!(String::from_utf8_lossy(&body).contains(snippet));

    // Conditional requests: the ETag answers 304.
    let again = client()
        .get(server.url(&format!("/api/model/{model_id}")))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

async fn models_are_gzipped_when_asked(store: Store) {
    let server = store.start();
    let (_, answer) = post(&server, "/api/model", fixture("bracket.json")).await;
    let url = answer["url"].as_str().unwrap();
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let response = raw
        .get(url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "Accept-Encoding");
    let compressed = response.bytes().await.unwrap();
    assert!(compressed.len() < answer["bytes"].as_u64().unwrap() as usize);

    let plain = raw.get(url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut decoded,
    )
    .unwrap();
    assert_eq!(decoded, plain);
}

async fn the_three_body_forms_are_accepted(store: Store) {
    let server = store.start();
    let message: Value = serde_json::from_slice(&fixture("box.plain.json")).unwrap();
    let tree = message["data"]["shapes"].clone();
    let instanced = message["data"].clone();

    let ours = json!({"viewer_id": "forms", "shapes": instanced, "config": {"axes": true}});
    let (status, answer) = post(&server, "/api/model", ours.to_string()).await;
    assert_eq!(
        (status, answer["viewer_id"].as_str()),
        (201, Some("forms")),
        "{answer}"
    );
    let (_, status) = get_json(&server, "/api/viewer/forms/status").await;
    assert_eq!(
        status["config"]["axes"], true,
        "the model's config reaches the viewer"
    );

    let (status, answer) = post(&server, "/api/model?viewer=forms", message.to_string()).await;
    assert_eq!(
        (status, answer["viewer_id"].as_str()),
        (201, Some("forms")),
        "{answer}"
    );

    // A bare instanced form, and a bare tree whose refs were resolved by the client.
    let (status, answer) = post(&server, "/api/model", instanced.to_string()).await;
    assert_eq!(
        (status, answer["viewer_id"].as_str()),
        (201, Some("default")),
        "{answer}"
    );
    let mut resolved = tree.clone();
    resolved["parts"][0]["shape"] = message["data"]["instances"][0].clone();
    let (status, answer) = post(&server, "/api/model", resolved.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["instances"], 0);
}

/// Each class of bad input: the status, a JSON error with a code and message, a path where the
/// problem is in the body, and nothing stored.
async fn bad_uploads_get_precise_json_errors_and_change_nothing(store: Store) {
    let server = store.with(Settings {
        body_limit: "1MiB".parse().unwrap(),
        ..Settings::default()
    });
    let huge = vec![b' '; 2 << 20];
    let cases: Vec<(&str, Vec<u8>, u16, Option<&str>)> = vec![
        ("/api/model", b"{\"shapes\": {".to_vec(), 400, None),
        ("/api/model", b"".to_vec(), 400, None),
        ("/api/model", b"[]".to_vec(), 422, Some("$")),
        ("/api/model", b"{\"shapes\": {\"id\": \"/G\", \"name\": \"G\", \"parts\": [{\"id\": \"/G/a\", \"name\": \"a\", \"shape\": {}}]}}".to_vec(), 422, Some("$.shapes.parts[0]")),
        ("/api/model", b"{\"type\": \"data\", \"data\": {\"instances\": [], \"shapes\": {\"id\": \"/G\", \"name\": \"G\", \"parts\": [{\"id\": \"/G/a\", \"name\": \"a\", \"state\": [1,1], \"shape\": {\"ref\": 0}}]}}}".to_vec(), 422, Some("$.data.shapes.parts[0].shape.ref")),
        ("/api/model", b"{\"viewer_id\": \"<script>\", \"shapes\": {}}".to_vec(), 422, Some("$.viewer_id")),
        ("/api/model", b"{\"shapes\": {}, \"config\": [1]}".to_vec(), 422, Some("$.config")),
        ("/api/model?viewer=..%2Fetc", fixture("box.json"), 400, None),
        ("/api/model", huge, 413, None),
    ];
    for (path, body, status, json_path) in cases {
        let (got, answer) = post(&server, path, body).await;
        assert_eq!(got, status, "{path}: {answer}");
        let error = &answer["error"];
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{answer}"
        );
        assert_eq!(error["path"].as_str(), json_path, "{answer}");
    }
    let (_, answer) = post(&server, "/api/model", vec![b' '; 2 << 20]).await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1MiB"),
        "the limit is named"
    );

    let wrong_type = client()
        .post(server.url("/api/model"))
        .header("Content-Type", "text/plain")
        .body(fixture("box.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);

    let (_, health) = get_json(&server, "/health").await;
    assert_eq!(health["models"], 0, "nothing was stored: {health}");
    assert_eq!(health["viewers"], 0, "no viewer was created: {health}");
}

async fn unknown_and_invalid_ids_are_json_errors(store: Store) {
    let server = store.start();
    for (path, status, code) in [
        ("/api/model/0123456789abcdef", 404, "model_not_found"),
        ("/api/model/bad.id", 400, "invalid_id"),
        ("/api/viewer/nobody/status", 404, "viewer_not_found"),
        ("/api/screenshot/nothing", 404, "screenshot_not_found"),
        ("/api/nothing-here", 404, "not_found"),
    ] {
        let (got, answer) = get_json(&server, path).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {answer}"
        );
    }
    let response = client()
        .delete(server.url("/api/viewer/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

async fn evicted_models_answer_410(store: Store) {
    let server = store.with(Settings {
        model_memory: "250KiB".parse().unwrap(),
        ..Settings::default()
    });
    let (_, first) = post(&server, "/api/model?viewer=a", fixture("bracket.json")).await;
    // The viewer's next model takes the room of its last one, which then answers 410.
    let (status, _) = post(&server, "/api/model?viewer=a", fixture("assembly.json")).await;
    assert_eq!(status, 201);
    let (status, answer) = get_json(
        &server,
        &format!("/api/model/{}", first["model_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 410, "{}", answer["error"]);
    assert_eq!(answer["error"]["code"], "model_evicted");

    // Another viewer's model on screen is never evicted: the upload is refused instead, naming
    // the flag, and what is on screen stays.
    let (status, answer) = post(&server, "/api/model?viewer=b", fixture("bracket.json")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (503, Some("model_memory_full")),
        "{answer}"
    );
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--model-memory"));
    let (_, a) = get_json(&server, "/api/viewer/a/status").await;
    let (status, _) = get_json(
        &server,
        &format!("/api/model/{}", a["model_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200);

    // A model larger than the whole budget is refused up front.
    let (status, answer) = post(
        &server,
        "/api/model",
        ocp_notebook::model::synthetic::sphere_message(20_000),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let (_, health) = get_json(&server, "/health").await;
    assert!(health["model_bytes"].as_u64().unwrap() <= 250 * 1024);
}

async fn status_reports_merge_and_read_back(store: Store) {
    let server = store.start();
    post(&server, "/api/model?viewer=s", fixture("box.json")).await;
    let (status, _) = post(
        &server,
        "/api/viewer/s/status",
        json!({"camera_position": {"old": [0, 0, 1], "new": [1, 2, 3]}, "axes": {"new": true}})
            .to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, merged) = post(
        &server,
        "/api/viewer/s/status",
        json!({"zoom": 2.5}).to_string(),
    )
    .await;
    assert_eq!(merged["status"]["camera_position"], json!([1, 2, 3]));
    assert_eq!(merged["status"]["axes"], true);

    let (status, read) = get_json(&server, "/api/viewer/s/status").await;
    assert_eq!(status, 200);
    assert_eq!(
        read["status"],
        json!({"camera_position": [1, 2, 3], "axes": true, "zoom": 2.5})
    );
    assert!(read["model_id"].is_string());

    let (status, answer) = post(&server, "/api/viewer/s/status", "[1]").await;
    assert_eq!((status, answer["error"]["path"].as_str()), (422, Some("$")));
    let (status, _) = post(&server, "/api/viewer/s/status", "{").await;
    assert_eq!(status, 400);
}

async fn server_defaults_and_viewer_config(store: Store) {
    let server = store.start();
    let (status, defaults) = get_json(&server, "/api/config").await;
    assert_eq!(status, 200);
    assert_eq!(defaults["theme"], "browser");
    let (status, merged) = post(
        &server,
        "/api/config",
        json!({"theme": "dark", "grid": [true, false, false]}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (merged["theme"].as_str(), merged["ortho"].as_bool()),
        (Some("dark"), Some(true))
    );

    let (status, answer) = post(
        &server,
        "/api/viewer/c/config",
        json!({"axes": true}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            answer["config"]["axes"].as_bool(),
            answer["config"]["theme"].as_str()
        ),
        (Some(true), Some("dark"))
    );

    // A known setting with a value the page does not take is refused at its key, naming what it
    // takes, on both configs; nothing of the change is kept. Unknown keys pass (ocp_vscode's).
    for path in ["/api/config", "/api/viewer/c/config"] {
        let (status, answer) = post(
            &server,
            path,
            json!({"pinning": true, "theme": "purple"}).to_string(),
        )
        .await;
        assert_eq!(status, 422, "{path}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid");
        assert_eq!(answer["error"]["path"], "$.theme");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(r#""light", "dark", "browser""#),
            "{message}"
        );
        let (status, answer) = post(&server, path, json!({"grid": [true]}).to_string()).await;
        assert_eq!(
            (status, answer["error"]["path"].as_str()),
            (422, Some("$.grid"))
        );
    }
    let (_, defaults) = get_json(&server, "/api/config").await;
    assert_eq!(
        (defaults["theme"].as_str(), defaults.get("pinning")),
        (Some("dark"), None)
    );
    let (_, status) = get_json(&server, "/api/viewer/c/status").await;
    assert_eq!(status["config"]["pinning"], Value::Null, "{status}");
    let (status, answer) = post(
        &server,
        "/api/viewer/c/config",
        json!({"_splash": false, "deviation": 0.1, "theme": null}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["config"]["deviation"], 0.1);
}

async fn viewers_are_listed_cleared_and_deleted(store: Store) {
    let server = store.start();
    let (_, first) = post(&server, "/api/model?viewer=one", fixture("box.json")).await;
    post(&server, "/api/model?viewer=two", fixture("box.json")).await;
    let (_, list) = get_json(&server, "/api/viewers").await;
    let viewers = list["viewers"].as_array().unwrap();
    assert_eq!(viewers.len(), 2);
    let one = viewers.iter().find(|v| v["id"] == "one").unwrap();
    assert_eq!(one["model_id"], first["model_id"]);
    assert_eq!(one["subscribers"], 0);
    assert!(one["created"].as_str().unwrap().ends_with('Z'));

    let (status, _) = post(&server, "/api/viewer/one/clear", "").await;
    assert_eq!(status, 200);
    let (_, status) = get_json(&server, "/api/viewer/one/status").await;
    assert!(status["model_id"].is_null());

    let response = client()
        .delete(server.url("/api/viewer/two"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, list) = get_json(&server, "/api/viewers").await;
    assert_eq!(list["viewers"].as_array().unwrap().len(), 1);
    let (_, health) = get_json(&server, "/health").await;
    assert_eq!(
        health["models"], 1,
        "the deleted viewer's model went with it: {health}"
    );
}

async fn health_reports_counts_and_limits(store: Store) {
    let server = store.start();
    post(&server, "/api/model", fixture("box.json")).await;
    let (status, health) = get_json(&server, "/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        (health["viewers"].as_u64(), health["models"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(health["model_bytes"].as_u64().unwrap() > 2500);
    assert_eq!(health["limits"]["body_bytes"], 256 * 1024 * 1024);
    // Every bound of the memory model, so a client can check before it sends.
    assert_eq!(health["limits"]["settings_bytes"], 256 * 1024);
    assert_eq!(health["limits"]["screenshot_bytes"], 4 * 1024 * 1024);
    assert_eq!(
        (
            health["limits"]["max_viewers"].as_u64(),
            health["limits"]["max_pages"].as_u64()
        ),
        (Some(512), Some(4096))
    );
    assert!(health["uptime_seconds"].as_f64().unwrap() >= 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_escape_nothing_because_ids_are_checked() {
    let server = TestServer::start();
    let response = client()
        .get(server.url("/viewer/%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let page = client()
        .get(server.url("/viewer/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers().get("x-frame-options").is_none(),
        "notebooks can frame the viewer"
    );
    assert!(page.text().await.unwrap().contains("abc"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_framable_by_notebooks_and_run_only_their_own_scripts() {
    let server = TestServer::start();
    let page = client()
        .get(server.url("/viewer/abc"))
        .send()
        .await
        .unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    let ancestors = policy.split("frame-ancestors ").nth(1).unwrap();
    for allowed in [
        "http://localhost:*",
        "http://127.0.0.1:*",
        "vscode-webview:",
    ] {
        assert!(
            ancestors.split(' ').any(|s| s == allowed),
            "loopback default: {policy}"
        );
    }
    assert!(
        !ancestors
            .split(' ')
            .any(|s| s == "*" || s.starts_with("https://*")),
        "pages elsewhere may not frame a loopback server's viewers: {policy}"
    );

    let strict = TestServer::with(Settings {
        frame_ancestors: Some("https://hub.example.org".into()),
        ..Settings::default()
    });
    let page = client().get(strict.url("/")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.ends_with("frame-ancestors https://hub.example.org"),
        "{policy}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_options_reach_the_page_and_bad_ones_are_named() {
    let server = TestServer::start();
    let page = client()
        .get(server.url("/viewer/q?theme=dark&tree_width=320&glass=false&height=400&_=17"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"data-options="{&quot;theme&quot;:&quot;dark&quot;,&quot;treeWidth&quot;:320,&quot;glass&quot;:false,&quot;height&quot;:400}""#),
        "{html}"
    );
    for (query, path) in [
        ("theme=purple", "?theme"),
        ("tree_width=wide", "?tree_width"),
        ("height=5", "?height"),
        ("glass=maybe", "?glass"),
    ] {
        let (status, answer) = get_json(&server, &format!("/viewer/q?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(answer["error"]["path"], path, "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renderer_is_served_from_the_binary_with_caching() {
    let server = TestServer::start();
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let url = server.url("/static/three-cad-viewer.js");
    let plain = raw.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["content-type"], "text/javascript");
    assert_eq!(
        plain.headers()["cache-control"],
        "no-cache",
        "unversioned links revalidate"
    );
    let etag = plain.headers()["etag"].to_str().unwrap().to_string();
    let bundle = plain.bytes().await.unwrap();
    assert!(
        bundle.len() > 500_000,
        "the whole renderer: {} bytes",
        bundle.len()
    );
    assert!(String::from_utf8_lossy(&bundle).contains("Viewer"));

    let zipped = raw
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert!(zipped.bytes().await.unwrap().len() < bundle.len() / 3);
    let again = raw
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let hash = etag.trim_matches('"');
    let versioned = raw.get(format!("{url}?v={hash}")).send().await.unwrap();
    assert!(versioned.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));

    let css = raw
        .get(server.url("/static/three-cad-viewer.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2FCargo.toml",
        "/static/package.json",
    ] {
        let response = raw.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
    }
}

/// `GET /viewer/ID/scene.js`: the scene as a notebook cell keeps it, a script whose every string
/// is JSON with `<`, `>` and `&` escaped (it may stand in a page's `<script>` element).
async fn a_cell_script_holds_the_scene_and_nothing_a_page_could_run(store: Store) {
    let server = store.start();
    let get = |path: &str| client().get(server.url(path)).send();
    let answer = get("/viewer/cell/scene.js").await.unwrap();
    assert_eq!(answer.status(), 404, "no model yet");
    let (_, posted) = post(&server, "/api/model?viewer=cell", fixture("box.json")).await;
    assert!(posted["model_id"].is_string());
    let answer = get("/viewer/cell/scene.js?width=640&height=300")
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    let script = answer.text().await.unwrap();
    assert!(
        script.contains(r#"frame.setAttribute("width", "640px");"#),
        "{}",
        &script[..900]
    );
    assert!(script.contains(r#"frame.setAttribute("height", "300");"#));
    assert!(
        script.contains(r#"\u003ctitle\u003ecell\u003c/title\u003e"#),
        "the scene file, escaped"
    );
    let code: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    assert!(
        !code.contains('<'),
        "nothing that could close a page's <script> element"
    );
    for (query, path) in [
        ("width=wide", "?width"),
        ("width=0%", "?width"),
        ("height=9", "?height"),
        ("image=%3C%2Fscript%3E", "?image"),
    ] {
        let answer = get(&format!("/viewer/cell/scene.js?{query}"))
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{query}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["error"]["path"], path, "{query}: {error}");
    }
}

/// Validation, measurement and animation read a model one way: whitespace, key order and keys
/// the format does not name change what none of them sees. (A pretty-printed model used to be
/// accepted and then measured as "0 faces", and so did a `{"ref": n}` with a key beside it.)
async fn an_accepted_model_is_measured_and_animated_however_it_is_written(store: Store) {
    let server = store.start();
    let bracket: Value = serde_json::from_slice(&fixture("bracket.json")).unwrap();
    let mut annotated = bracket.clone();
    annotated["data"]["shapes"]["parts"][0]["shape"]["note"] = json!("a key beside ref");
    // Keys that name the body's parts elsewhere mean nothing inside a tree.
    annotated["data"]["shapes"]["data"] = json!({"parts": []});
    annotated["data"]["shapes"]["parts"][0]["shapes"] = json!(null);
    let forms = [
        serde_json::to_vec_pretty(&bracket).unwrap(),
        serde_json::to_vec(&annotated).unwrap(),
        serde_json::to_vec_pretty(&json!({"shapes": annotated["data"]})).unwrap(),
    ];
    for (i, body) in forms.into_iter().enumerate() {
        let viewer = format!("written-{i}");
        let (status, posted) = post(&server, &format!("/api/model?viewer={viewer}"), body).await;
        assert_eq!(status, 201, "form {i}: {posted}");
        let (status, face) = post(
            &server,
            &format!("/api/viewer/{viewer}/measure"),
            json!({"tool": "properties", "ids": ["/Group/bracket/faces/faces_3"]}).to_string(),
        )
        .await;
        assert_eq!(status, 200, "form {i}: {face}");
        assert!(face["area"].as_f64().unwrap() > 0.0, "form {i}: {face}");
        let track = json!({"model_id": posted["model_id"], "duration": 1,
            "tracks": [{"path": "/Group/bracket", "action": "rz", "times": [0, 1], "values": [0, 90]}]});
        let (status, animated) = post(
            &server,
            &format!("/api/viewer/{viewer}/animation"),
            track.to_string(),
        )
        .await;
        assert_eq!(status, 200, "form {i}: {animated}");
    }
}

/// What a page in measure mode gets for its picks: the renderer's `tool_response`, computed from
/// the model the store holds (build123d's Box(10, 20, 30): faces 0 and 1 are the two x sides).
async fn the_measure_tools_are_answered_from_the_stored_model(store: Store) {
    let server = store.start();
    let measure = |body: Value| {
        let server = &server;
        async move { post(server, "/api/viewer/m/measure", body.to_string()).await }
    };
    let (status, _) =
        measure(json!({"tool": "PropertiesMeasurement", "ids": ["/Group/box"]})).await;
    assert_eq!(status, 404, "no model yet");

    let (_, posted) = post(&server, "/api/model?viewer=m", fixture("box.json")).await;
    let faces = json!(["/Group/box/faces/faces_0", "/Group/box/faces/faces_1"]);
    let (status, answer) = measure(json!({"tool": "DistanceMeasurement", "ids": faces})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["subtype"], "tool_response");
    assert_eq!(answer["tool_type"], "DistanceMeasurement");
    let distance = answer["distance"].as_f64().unwrap();
    assert!((distance - 10.0).abs() < 1e-5, "{answer}");
    let x = |key: &str| answer[key][0].as_f64().unwrap();
    assert!(((x("point2") - x("point1")).abs() - 10.0).abs() < 1e-5);

    let (_, solid) = measure(json!({"tool": "PropertiesMeasurement", "ids": ["/Group/box"]})).await;
    assert!(
        (solid["volume"].as_f64().unwrap() - 6000.0).abs() < 1e-2,
        "{solid}"
    );
    assert!((solid["area"].as_f64().unwrap() - 2200.0).abs() < 1e-2);
    let (_, angle) = measure(json!({"tool": "AngleMeasurement",
        "ids": ["/Group/box/faces/faces_0", "/Group/box/faces/faces_2"], "model_id": posted["model_id"]})).await;
    assert_eq!(angle["angle"], 90.0, "{angle}");
    // The way people name the tools is taken too.
    let (_, short) = measure(json!({"tool": "distance", "ids": faces})).await;
    assert_eq!(short["distance"], answer["distance"], "{short}");

    // Each kind of bad request names what is wrong and where.
    for (body, code, path) in [
        (json!({"tool": "Ruler", "ids": []}), "invalid", "$.tool"),
        (
            json!({"tool": "PropertiesMeasurement", "ids": ["faces_1"]}),
            "invalid",
            "$.ids[0]",
        ),
        (
            json!({"tool": "DistanceMeasurement", "ids": ["/Group/box", "/Group/box/faces/faces_60"]}),
            "invalid",
            "$.ids[1]",
        ),
        (
            json!({"tool": "AngleMeasurement", "ids": ["/Group/box", "/Group/box/faces/faces_0"]}),
            "invalid",
            "$.ids[0]",
        ),
        (
            json!({"tool": "PropertiesMeasurement", "ids": ["/Group/box"], "model_id": "../x"}),
            "invalid",
            "$.model_id",
        ),
    ] {
        let (status, answer) = measure(body.clone()).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], code, "{body} -> {answer}");
        assert_eq!(answer["error"]["path"], path, "{body} -> {answer}");
    }
    let (status, answer) =
        measure(json!({"tool": "DistanceMeasurement", "ids": ["/Group/box"]})).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("not_measurable"))
    );
    let (status, _) = measure(
        json!({"tool": "PropertiesMeasurement", "ids": ["/Group/box"], "model_id": "m-unknown"}),
    )
    .await;
    assert_eq!(status, 404);

    // What the page reported as picked, read into parts, faces, edges and vertices.
    let picked =
        json!({"selectedShapeIDs": {"new": ["/Group/box/edges/edges_4", "/Group/box", "junk"]}});
    post(&server, "/api/viewer/m/status", picked.to_string()).await;
    let (status, selection) = get_json(&server, "/api/viewer/m/selection").await;
    assert_eq!(status, 200);
    assert_eq!(
        selection["picks"],
        json!([
            {"id": "/Group/box/edges/edges_4", "path": "/Group/box", "kind": "edge", "index": 4},
            {"id": "/Group/box", "path": "/Group/box", "kind": "solid", "index": null},
        ])
    );
}

/// An animation is checked against the model on screen, sent to pages as an `animation` event,
/// kept for pages opened later (the viewer's `animation` setting), and ended by a new model.
async fn animations_are_checked_kept_sent_and_ended_by_a_new_model(store: Store) {
    let server = store.start();
    let tracks = json!({"tracks": [["/assembly/gears/gear_left", "rz", [0, 1, 2], [0, 90, 180]]]});
    let (status, _) = post(&server, "/api/viewer/an/animation", tracks.to_string()).await;
    assert_eq!(status, 404, "nothing to animate yet");
    let (_, first) = post(&server, "/api/model?viewer=an", fixture("assembly.json")).await;
    let mut page = SseReader::open(&server, "an", None).await;
    assert_eq!(page.next().await.kind(), "model_update");

    let (status, answer) = post(&server, "/api/viewer/an/animation", tracks.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["animation"]["duration"], 2.0);
    let event = page.next().await;
    assert_eq!(event.kind(), "animation");
    assert_eq!(event.data["model_id"], first["model_id"]);
    assert_eq!(
        event.data["animation"]["tracks"][0]["path"],
        "/assembly/gears/gear_left"
    );
    // A page opened now gets it with the model.
    let mut later = SseReader::open(&server, "an", None).await;
    let state = later.next().await;
    assert_eq!(
        state.data["config"]["animation"]["tracks"][0]["action"],
        "rz"
    );

    for (body, path) in [
        (
            json!({"tracks": [["/assembly/nothing", "rz", [0, 1], [0, 1]]]}),
            "$.tracks[0].path",
        ),
        (
            json!({"tracks": [["/assembly/base", "spin", [0, 1], [0, 1]]]}),
            "$.tracks[0].action",
        ),
        (
            json!({"tracks": [["/assembly/base", "t", [0, 1], [[0, 0, 0], 1]]]}),
            "$.tracks[0].values[1]",
        ),
        (json!({"tracks": "none"}), "$.tracks"),
        (json!({"tracks": [], "colour": 1}), "$.colour"),
    ] {
        let (status, answer) = post(&server, "/api/viewer/an/animation", body.to_string()).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["error"]["path"], path, "{body} -> {answer}");
    }

    let (_, second) = post(&server, "/api/model?viewer=an", fixture("box.json")).await;
    let (_, read) = get_json(&server, "/api/viewer/an/status").await;
    assert!(
        read["config"]["animation"].is_null(),
        "a new model ends the animation: {read}"
    );
    // The stored model says so too, and is the body the push answered for.
    let stored = client()
        .get(server.url(&format!(
            "/api/model/{}",
            second["model_id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let message: Value = serde_json::from_slice(&stored).unwrap();
    assert!(
        message["config"]["animation"].is_null(),
        "{}",
        message["config"]
    );
    assert_eq!(second["bytes"].as_u64(), Some(stored.len() as u64));
    // Tracks made for the old model are refused, naming both.
    let stale =
        json!({"model_id": first["model_id"], "tracks": [["/Group/box", "rz", [0, 1], [0, 1]]]});
    let (status, answer) = post(&server, "/api/viewer/an/animation", stale.to_string()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("model_changed")),
        "{answer}"
    );
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains(second["model_id"].as_str().unwrap()));
    let stop = client()
        .delete(server.url("/api/viewer/an/animation"))
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 200);
}

/// The model the kernel mark of `viewer` names (its status's `measureBackend`).
async fn marked_model(server: &TestServer, viewer: &str) -> Value {
    let (_, status) = get_json(server, &format!("/api/viewer/{viewer}/status")).await;
    status["status"]["measureBackend"]["model_id"].clone()
}

/// The exact-measurement hand-off, as a kernel drives it: while it polls, a page's measurement
/// goes to it (picks already read) and its answer reaches the page, checked and escaped; a bad
/// answer is refused at its path, a late one finds nothing waiting, and a kernel that stops or
/// says nothing leaves the page with the mesh's answer.
async fn a_kernel_answers_measurements_exactly_and_the_mesh_stands_in(store: Store) {
    let server = store.start();
    let (_, box_model) = post(&server, "/api/model?viewer=k", fixture("box.json")).await;
    let shown = box_model["model_id"].as_str().unwrap().to_string();
    let faces = json!({"tool": "DistanceMeasurement", "ids": ["/Group/box/faces/faces_0", "/Group/box/faces/faces_1"]});
    // A kernel that showed another model is not asked: the mesh answers at once and says why.
    get_json(&server, "/api/viewer/k/tool-requests?wait=0&model=m-other").await;
    let (_, mesh) = post(&server, "/api/viewer/k/measure", faces.to_string()).await;
    assert_eq!(mesh["source"], "mesh");
    assert!(
        mesh["note"]
            .as_str()
            .unwrap()
            .contains("showed model m-other"),
        "{mesh}"
    );
    let (_, first) = get_json(
        &server,
        &format!("/api/viewer/k/tool-requests?wait=0&model={shown}&kernel=one"),
    )
    .await;
    assert_eq!(first["requests"], json!([]));
    let (_, status) = get_json(&server, "/api/viewer/k/status").await;
    assert!(
        status["status"]["measureBackend"]["polled_ms"].is_u64(),
        "{status}"
    );
    // The same kernel's background poll sent before that mark (naming the model before) keeps
    // the live mark; another kernel's replaces it, as it cannot answer for that model.
    get_json(
        &server,
        "/api/viewer/k/tool-requests?wait=0&model=m-other&renew=1&kernel=one",
    )
    .await;
    assert_eq!(marked_model(&server, "k").await, shown);
    get_json(
        &server,
        "/api/viewer/k/tool-requests?wait=0&model=m-other&renew=1&kernel=two",
    )
    .await;
    assert_eq!(marked_model(&server, "k").await, "m-other");
    get_json(
        &server,
        &format!("/api/viewer/k/tool-requests?wait=0&model={shown}&kernel=one"),
    )
    .await;
    assert_eq!(marked_model(&server, "k").await, shown);
    for (query, path) in [("renew=maybe", "?renew"), ("kernel=a%20b", "?kernel")] {
        let (code, refused) = get_json(
            &server,
            &format!("/api/viewer/k/tool-requests?wait=0&{query}"),
        )
        .await;
        assert_eq!(
            (code, refused["error"]["path"].as_str()),
            (422, Some(path)),
            "{refused}"
        );
    }

    let page = {
        let server_url = server.url("/api/viewer/k/measure");
        let body = faces.to_string();
        tokio::spawn(async move {
            let answer = client()
                .post(server_url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            answer.json::<Value>().await.unwrap()
        })
    };
    let after = first["last_event_id"]
        .as_str()
        .map(|id| format!("&after={id}"))
        .unwrap_or_default();
    let (_, work) = get_json(
        &server,
        &format!("/api/viewer/k/tool-requests?wait=5&model={shown}{after}"),
    )
    .await;
    let request = &work["requests"][0];
    assert_eq!(request["tool"], "DistanceMeasurement");
    assert_eq!(
        request["picks"][1],
        json!({"id": "/Group/box/faces/faces_1", "path": "/Group/box", "kind": "face", "index": 1})
    );
    let request_id = request["request_id"].as_str().unwrap();
    // A page's screenshot cannot take a kernel's request.
    let shot = json!({"viewer_id": "k", "request_id": request_id, "data": format!("data:image/png;base64,{TINY_PNG}")});
    let (status, _) = post(&server, "/api/screenshot", shot.to_string()).await;
    assert_eq!(status, 201);
    let answer_path = format!("/api/viewer/k/tool-requests/{request_id}");
    let (status, refused) = post(&server, &answer_path, json!({"tool_type": "DistanceMeasurement", "distance": "far", "point1": [0, 0, 0], "point2": [0, 0, 0]}).to_string()).await;
    assert_eq!(
        (status, refused["error"]["path"].as_str()),
        (422, Some("$.distance")),
        "{refused}"
    );
    let exact = json!({"tool_type": "DistanceMeasurement", "distance": 10.0, "point1": [-5, 0, 0], "point2": [5, 0, 0],
        "info": "<img src=x onerror=alert(1)>", "script": "dropped"});
    let (status, _) = post(&server, &answer_path, exact.to_string()).await;
    assert_eq!(status, 200);
    let shown = page.await.unwrap();
    assert_eq!(shown["source"], "exact", "{shown}");
    assert_eq!(shown["distance"], 10.0);
    assert!(shown.get("script").is_none());
    assert!(
        !shown["center_info"].as_str().unwrap().contains("<img"),
        "{shown}"
    );
    let (status, late) = post(&server, &answer_path, exact.to_string()).await;
    assert_eq!(
        (status, late["error"]["code"].as_str()),
        (404, Some("no_request"))
    );

    // A kernel that polls but does not answer: the page waits its 5 s, then gets the mesh's.
    let (status, mesh) = post(&server, "/api/viewer/k/measure", faces.to_string()).await;
    assert_eq!((status, mesh["source"].as_str()), (200, Some("mesh")));
    assert!(
        mesh["note"].as_str().unwrap().contains("did not answer"),
        "{mesh}"
    );
    // Only the server says a kernel polls: a page reporting one is not believed.
    post(&server, "/api/model?viewer=k2", fixture("box.json")).await;
    let spoof = json!({"measureBackend": {"polled_ms": u64::MAX}});
    post(&server, "/api/viewer/k2/status", spoof.to_string()).await;
    let (_, read) = get_json(&server, "/api/viewer/k2/status").await;
    assert!(read["status"].get("measureBackend").is_none(), "{read}");
    // A kernel that stopped: the mesh answers at once.
    let stop = client()
        .delete(server.url("/api/viewer/k/tool-requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(stop.status(), 200);
    let started = std::time::Instant::now();
    let (_, mesh) = post(&server, "/api/viewer/k/measure", faces.to_string()).await;
    assert_eq!(mesh["source"], "mesh");
    assert!(mesh.get("note").is_none() && started.elapsed().as_secs() < 3);
}
