//! Several `ocp-notebook` processes sharing one Redis, behind nginx: any instance answers any
//! request, a killed instance's pages reconnect elsewhere and miss nothing, a Redis outage is a
//! clear error that heals, and a bounded load loses nothing. Needs `redis-server` and `nginx`
//! (`tests/run` installs them); every process is started here, on loopback.

mod cluster;
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::{free_port, instance, nginx, redis, Process};
use common::*;
use serde_json::{json, Value};

/// What a page recorded: (event id, event type, model id) of every event, in order.
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

fn prefix() -> String {
    format!("test-{}:", uuid::Uuid::new_v4().simple())
}

async fn upload(base: &str, viewer: &str, body: Vec<u8>) -> (u16, Value) {
    post(
        &TestServer::at(base),
        &format!("/api/model?viewer={viewer}"),
        body,
    )
    .await
}

/// The box fixture, made distinct by a config value so every upload is its own model.
fn numbered_box(n: usize) -> Vec<u8> {
    let mut message: Value = serde_json::from_slice(&fixture("box.json")).unwrap();
    message["config"]["upload"] = json!(n);
    serde_json::to_vec(&message).unwrap()
}

/// Follows a viewer through `base` like a page: reconnects with `Last-Event-ID` whenever the
/// stream ends, and records every event (id, type, model id) until told to stop.
fn follow(base: String, viewer: String, seen: Seen) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let server = TestServer::at(&base);
        let mut last: Option<String> = None;
        loop {
            let response = SseReader::request(&server, &viewer, last.as_deref()).await;
            if response.status() != 200 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let mut reader = SseReader::from_response(response).await;
            while let Some(event) = reader.next_message().await {
                let model = event.data["model_id"].as_str().map(str::to_string);
                if let Some(id) = &event.id {
                    last = Some(id.clone());
                }
                let id = event.id.clone().unwrap_or_default();
                seen.lock()
                    .unwrap()
                    .push((id, event.kind().to_string(), model));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn any_instance_answers_any_request() {
    let redis_port = free_port();
    let _redis = redis(redis_port);
    let prefix = prefix();
    // The bracket (182 KB) is over this inline limit: events announce it, pages fetch it.
    let small_inline = ["--inline-limit", "64KiB"];
    let nodes: Vec<(Process, String)> = (0..3)
        .map(|_| instance(redis_port, &prefix, &small_inline))
        .collect();
    let [a, b, c] = [&nodes[0].1, &nodes[1].1, &nodes[2].1];

    let mut page = SseReader::open(&TestServer::at(b), "shared", None).await;
    let (status, stored) = upload(a, "shared", fixture("bracket.json")).await;
    assert_eq!(status, 201, "{stored}");
    let model_id = stored["model_id"].as_str().unwrap();
    let event = page.next().await;
    assert_eq!(
        (event.kind(), event.data["model_id"].as_str()),
        ("model_update", Some(model_id))
    );
    assert!(event.data["model"].is_null(), "announced, not inlined");
    assert_eq!(event.data["bytes"], stored["bytes"]);
    // A page arriving later, on another instance, is told the current model the same way.
    let mut later = SseReader::open(&TestServer::at(c), "shared", None).await;
    let current = later.next().await;
    assert_eq!(current.data["model_id"], model_id);
    assert!(current.data["model"].is_null() && current.data["url"].is_string());

    // The model, byte for byte, from the third instance.
    let body = client()
        .get(format!("{c}/api/model/{model_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    let served: Value = serde_json::from_slice(&body.bytes().await.unwrap()).unwrap();
    let posted: Value = serde_json::from_slice(&fixture("bracket.json")).unwrap();
    assert_eq!(served["data"], posted["data"]);

    // Status posted to one, settings changed on another, read from the third.
    let (status, _) = post(
        &TestServer::at(c),
        "/api/viewer/shared/status",
        r#"{"zoom": {"old": 1, "new": 2.5}}"#,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &TestServer::at(a),
        "/api/viewer/shared/config",
        r#"{"axes": true}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page.next().await.kind(), "config_update");
    let (_, read) = get_json(&TestServer::at(b), "/api/viewer/shared/status").await;
    assert_eq!(read["status"]["zoom"], 2.5);
    assert_eq!(read["config"]["axes"], true);
    assert_eq!(read["model_id"], model_id);
    assert_eq!(
        read["subscribers"], 2,
        "the pages on the other two instances count"
    );
    let (_, viewers) = get_json(&TestServer::at(c), "/api/viewers").await;
    assert!(viewers.to_string().contains("shared"), "{viewers}");
    let (_, health) = get_json(&TestServer::at(a), "/health").await;
    assert_eq!(
        (health["viewers"].as_u64(), health["subscribers"].as_u64()),
        (Some(1), Some(2)),
        "/health counts every instance's pages, as it counts every instance's viewers: {health}"
    );

    // A page reconnecting to another instance with its Last-Event-ID misses nothing.
    let (_, second) = upload(c, "shared", numbered_box(2)).await;
    let seen = page.next().await;
    let last = seen.id.clone().unwrap();
    assert_eq!(seen.data["model_id"], second["model_id"]);
    drop(page);
    let (_, third) = upload(b, "shared", numbered_box(3)).await;
    let mut again = SseReader::open(&TestServer::at(a), "shared", Some(&last)).await;
    let replayed = again.next().await;
    assert_eq!(replayed.data["model_id"], third["model_id"]);

    // A screenshot asked of one instance, answered by the page through another.
    let ask = tokio::spawn({
        let c = c.clone();
        async move {
            client()
                .post(format!("{c}/api/viewer/shared/screenshot?timeout=10"))
                .send()
                .await
                .unwrap()
        }
    });
    let request = loop {
        let event = again.next().await;
        if event.kind() == "screenshot_request" {
            break event;
        }
    };
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let answer =
        json!({"viewer_id": "shared", "request_id": request.data["request_id"], "data": png});
    let (status, _) = post(&TestServer::at(b), "/api/screenshot", answer.to_string()).await;
    assert_eq!(status, 201);
    let shot = ask.await.unwrap();
    assert_eq!(shot.status(), 200);
    assert_eq!(&shot.bytes().await.unwrap()[1..4], b"PNG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_instance_loses_no_event_for_pages_behind_the_balancer() {
    let redis_port = free_port();
    let _redis = redis(redis_port);
    let prefix = prefix();
    let mut nodes: Vec<(Process, String)> =
        (0..3).map(|_| instance(redis_port, &prefix, &[])).collect();
    let upstreams: Vec<String> = nodes.iter().map(|(_, base)| base.clone()).collect();
    let (_nginx, front, _dir) = nginx(&upstreams);

    let pages: Vec<_> = (0..6)
        .map(|_| {
            let seen = Arc::new(Mutex::new(Vec::new()));
            (seen.clone(), follow(front.clone(), "v".into(), seen))
        })
        .collect();
    // Every page has its first (empty) subscription before the uploads start.
    let (status, _) = post(&TestServer::at(&front), "/api/viewer/v/config", "{}").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(800)).await;

    let mut uploaded = Vec::new();
    for n in 0..30 {
        if n == 10 {
            // Mid-stream, without warning: its pages must reconnect through nginx.
            let (mut killed, _) = nodes.remove(0);
            killed.0.kill().unwrap();
            killed.0.wait().unwrap();
        }
        let (status, answer) = upload(&front, "v", numbered_box(n)).await;
        if status == 201 {
            uploaded.push(answer["model_id"].as_str().unwrap().to_string());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        uploaded.len() >= 28,
        "uploads through the balancer mostly succeed: {}",
        uploaded.len()
    );

    // The truth: the viewer's whole stream, replayed from its start by a late page.
    let mut late = SseReader::open(&TestServer::at(&front), "v", Some("0-1")).await;
    let mut truth = Vec::new();
    // (Only models: a page that connected after the first config change was told nothing.)
    while truth.len() < uploaded.len() {
        let event = late.next().await;
        if event.kind() == "model_update" {
            truth.push((
                event.id.clone().unwrap(),
                event.data["model_id"].as_str().map(str::to_string),
            ));
        }
    }
    let truth_models: Vec<String> = truth.iter().filter_map(|(_, m)| m.clone()).collect();
    assert_eq!(
        truth_models, uploaded,
        "every stored upload is one event, in order"
    );

    let deadline = Instant::now() + PATIENCE;
    for (seen, task) in pages {
        loop {
            let got: Vec<(String, Option<String>)> = seen
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, kind, _)| kind == "model_update")
                .map(|(id, _, model)| (id.clone(), model.clone()))
                .collect();
            let ids: Vec<&String> = got.iter().map(|(id, _)| id).collect();
            let want: Vec<&String> = truth.iter().map(|(id, _)| id).collect();
            if ids == want {
                assert_eq!(got, truth, "same ids, same payloads");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a page missed events:\n got  {ids:?}\n want {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_outage_is_a_clear_error_and_heals() {
    let redis_port = free_port();
    let mut store = redis(redis_port);
    let prefix = prefix();
    let (_node, base) = instance(redis_port, &prefix, &[]);
    let server = TestServer::at(&base);
    assert_eq!(upload(&base, "o", fixture("box.json")).await.0, 201);

    store.0.kill().unwrap();
    store.0.wait().unwrap();
    let (status, answer) = upload(&base, "o", fixture("box.json")).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "store_unavailable");
    let health = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "store_unavailable");
    assert!(
        health["store_error"].as_str().unwrap().contains("redis"),
        "{health}"
    );

    let _back = redis(redis_port);
    let start = Instant::now();
    loop {
        let (status, _) = upload(&base, "o", fixture("box.json")).await;
        if status == 201 {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the instance did not recover: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, health) = get_json(&server, "/health").await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bounded_load_loses_nothing() {
    let redis_port = free_port();
    let _redis = redis(redis_port);
    let prefix = prefix();
    let nodes: Vec<(Process, String)> =
        (0..3).map(|_| instance(redis_port, &prefix, &[])).collect();
    let upstreams: Vec<String> = nodes.iter().map(|(_, base)| base.clone()).collect();
    let (_nginx, front, _dir) = nginx(&upstreams);

    let viewers: Vec<String> = (0..4).map(|i| format!("load{i}")).collect();
    let mut pages = HashMap::new();
    for viewer in &viewers {
        let _ = post(
            &TestServer::at(&front),
            &format!("/api/viewer/{viewer}/config"),
            "{}",
        )
        .await;
        for _ in 0..3 {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let task = follow(front.clone(), viewer.clone(), seen.clone());
            pages
                .entry(viewer.clone())
                .or_insert_with(Vec::new)
                .push((seen, task));
        }
    }
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Four uploaders, one per viewer, for a bounded time.
    let until = Instant::now() + Duration::from_secs(5);
    let uploaders: Vec<_> = viewers
        .iter()
        .map(|viewer| {
            let (front, viewer) = (front.clone(), viewer.clone());
            tokio::spawn(async move {
                let mut stored = Vec::new();
                let mut n = 0;
                while Instant::now() < until {
                    let (status, answer) = upload(&front, &viewer, numbered_box(n)).await;
                    assert_eq!(status, 201, "{answer}");
                    stored.push(answer["model_id"].as_str().unwrap().to_string());
                    n += 1;
                }
                (viewer, stored)
            })
        })
        .collect();
    let mut total = 0;
    for uploader in uploaders {
        let (viewer, stored) = uploader.await.unwrap();
        total += stored.len();
        let deadline = Instant::now() + PATIENCE;
        for (seen, task) in pages.remove(&viewer).unwrap() {
            loop {
                let got: Vec<String> = seen
                    .lock()
                    .unwrap()
                    .iter()
                    .filter_map(|(_, kind, model)| {
                        (kind == "model_update").then(|| model.clone()).flatten()
                    })
                    .collect();
                if got == stored {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{viewer}: a page got {} of {} models",
                    got.len(),
                    stored.len()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            task.abort();
        }
    }
    assert!(total > 40, "the load was real: {total} uploads");
}
