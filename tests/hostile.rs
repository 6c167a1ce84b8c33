//! The attack suite: what a hostile or careless client sends to a real `ocp-notebook` process (a
//! release-like binary on loopback, with a token, as a shared JupyterHub machine would run it),
//! the clear answer each gets, and the server's memory staying within a stated bound throughout
//! (its peak RSS, read from /proc). Afterwards the server still serves a normal upload and stream.

mod cluster;
mod common;

use std::time::Duration;

use cluster::{server, Process};
use common::processes::memory_of;
use common::*;
use serde_json::{json, Value};

const TOKEN: &str = "t";
/// The most the server's resident memory may reach during the whole suite. The largest single
/// body is 40 MB; everything else is bounded far below it.
const PEAK_RSS_BOUND: u64 = 192 << 20;

/// A server under attack, and its process for reading its memory.
struct Target {
    _process: Process,
    pid: u32,
    base: String,
}

impl Target {
    fn start(extra: &[&str]) -> Self {
        let mut args = vec!["--token", TOKEN];
        args.extend_from_slice(extra);
        let (process, base) = server(&args);
        Target {
            pid: process.0.id(),
            _process: process,
            base,
        }
    }

    /// Peak and current resident memory, in bytes.
    fn memory(&self) -> (u64, u64) {
        memory_of(self.pid)
    }

    fn assert_bounded(&self, after: &str) {
        let (peak, now) = self.memory();
        assert!(
            peak < PEAK_RSS_BOUND,
            "after {after}: peak RSS {} MiB is over the bound of {} MiB",
            peak >> 20,
            PEAK_RSS_BOUND >> 20
        );
        eprintln!(
            "after {after}: peak RSS {} MiB, now {} MiB",
            peak >> 20,
            now >> 20
        );
    }

    fn server(&self) -> TestServer {
        TestServer::at(&self.base)
    }

    /// POSTs `body` with or without the token; answers the status and the JSON answer.
    async fn post(&self, path: &str, body: impl Into<reqwest::Body>, token: bool) -> (u16, Value) {
        let mut request = client()
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body);
        if token {
            request = request.bearer_auth(TOKEN);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let answer =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, answer)
    }

    async fn get(&self, path: &str, token: bool) -> (u16, String) {
        let mut request = client().get(format!("{}{path}", self.base));
        if token {
            request = request.bearer_auth(TOKEN);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The server still does its job: an upload reaches a page of a viewer it holds (new ones
    /// wait for the pages' viewers to be collected, a minute after their pages left).
    async fn still_serves(&self) {
        let mut page = SseReader::open(&self.server(), "f", None).await;
        assert_eq!(
            page.next().await.kind(),
            "model_update",
            "the current model first"
        );
        let (status, stored) = self
            .post("/api/model?viewer=f", fixture("bracket.json"), true)
            .await;
        assert_eq!(status, 201, "{stored}");
        let event = page.next().await;
        assert_eq!(event.data["model_id"], stored["model_id"]);
    }

    /// Sends `request` as raw bytes; answers what came back before the server closed or `wait`
    /// passed.
    fn raw(&self, request: &[u8], wait: Duration) -> String {
        raw_exchange(&self.base, request, wait).unwrap()
    }
}

/// Asserts an error answer: its status, its code, and that the message names `flag`.
fn assert_error(status: u16, answer: &Value, want: u16, code: &str, flag: &str) {
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (want, Some(code)),
        "{answer}"
    );
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(flag), "the answer names {flag}: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_request_gets_a_clear_answer_and_memory_stays_bounded() {
    let target = Target::start(&[
        "--model-memory",
        "64MiB",
        "--max-viewers",
        "40",
        "--body-timeout-secs",
        "2",
    ]);
    target.assert_bounded("start");

    // 40 status reports of 800 KB each, no token: each refused at the settings limit.
    let array = format!("{{\"a\": [{}0]}}", "0,".repeat(400_000));
    post_model_for_viewer(&target, "f").await;
    for _ in 0..40 {
        let (status, answer) = target
            .post("/api/viewer/f/status", array.clone(), false)
            .await;
        assert_error(status, &answer, 413, "too_large", "--settings-limit");
    }
    target.assert_bounded("40 status reports of 800 KB");

    // 3 million `{}` as shared meshes (9 MB): refused while read, at the parts limit.
    let instances = format!(
        "{{\"instances\": [{}{{}}], \"shapes\": {{\"id\": \"/G\", \"name\": \"G\", \"parts\": []}}}}",
        "{},".repeat(3_000_000)
    );
    let (status, answer) = target.post("/api/model", instances, true).await;
    assert_error(status, &answer, 422, "invalid", "--max-parts");
    target.assert_bounded("3 million shared meshes");

    // Eight uploads of a small model padded with 40 MB: what is kept is what is counted.
    let mut padded: Value = serde_json::from_slice(&fixture("box.json")).unwrap();
    padded["pad"] = json!("x".repeat(40 << 20));
    let padded = serde_json::to_vec(&padded).unwrap();
    for i in 0..8 {
        let (status, answer) = target
            .post(&format!("/api/model?viewer=pad{i}"), padded.clone(), true)
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let (_, health) = get_json(&target.server(), "/health").await;
    assert!(
        health["model_bytes"].as_u64().unwrap() < 100_000,
        "{health}"
    );
    target.assert_bounded("eight padded uploads");
    let (_, now) = target.memory();
    assert!(
        now < 128 << 20,
        "the padding is not kept: RSS {} MiB",
        now >> 20
    );

    // The HTML listing of viewers needs the token, as the API listing does.
    assert_eq!(target.get("/viewers", false).await.0, 401);
    assert_eq!(target.get("/viewers", true).await.0, 200);

    // A Host header with junk after the name.
    let answer = target.raw(
        b"GET /health HTTP/1.1\r\nHost: localhost:1.evil.example\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("host_not_allowed"), "{answer}");

    // A deleted viewer stays deleted for reports without the token.
    let deleted = client()
        .delete(format!("{}/api/viewer/pad0", target.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let (status, answer) = target
        .post("/api/viewer/pad0/status", "{\"zoom\": 1}", false)
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (410, Some("viewer_deleted"))
    );

    // A number out of range beside the geometry.
    let mut bounds: Value = serde_json::from_slice(&fixture("box.json")).unwrap();
    bounds["data"]["shapes"]["bb"] = json!({"xmin": "INFINITY"});
    let bounds = serde_json::to_string(&bounds)
        .unwrap()
        .replace("\"INFINITY\"", "1e999");
    let (status, answer) = target.post("/api/model", bounds, true).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("out of range"),
        "{answer}"
    );

    // Base64 padding that ends an inner 64 KiB chunk of a buffer.
    let mut padding: Value = serde_json::from_slice(&fixture("box.json")).unwrap();
    let text = format!("{}{}", base64_of(&vec![0u8; 49_151]), base64_of(&[0u8; 12]));
    padding["data"]["instances"][0]["edges"] =
        json!({"shape": [12_291], "dtype": "float32", "buffer": text, "codec": "b64"});
    let (status, answer) = target
        .post("/api/model", serde_json::to_vec(&padding).unwrap(), true)
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("padding"),
        "{answer}"
    );

    // A screenshot over its limit, without a token: refused from its declared length as soon as
    // its first bytes arrive (Rocket reads 14 before it routes), and, sent whole without a
    // length, at the limit while it arrives.
    let answer = target.raw(
        b"POST /api/screenshot HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 8388608\r\nConnection: close\r\n\r\n{\"viewer_id\": \"f\", \"data\": \"",
        Duration::from_secs(5),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("--screenshot-limit"), "{answer}");
    let huge = json!({"viewer_id": "f", "data": "A".repeat(8 << 20)}).to_string();
    let chunks = futures_util::stream::iter(
        huge.into_bytes()
            .chunks(1 << 20)
            .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = client()
        .post(format!("{}/api/screenshot", target.base))
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    // The server answers 413 at the limit and closes; the client may still be writing.
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    target.assert_bounded("screenshots");

    // Pages may create viewers without a token, but not past half of --max-viewers.
    let mut streams = Vec::new();
    let mut refused = None;
    for i in 0..60 {
        let response = SseReader::request(&target.server(), &format!("page{i}"), None).await;
        if response.status() != 200 {
            refused = Some(response);
            break;
        }
        streams.push(response);
    }
    let refused = refused.expect("the viewer limit is reached");
    assert_eq!(refused.status(), 429);
    let answer: Value = refused.json().await.unwrap();
    assert_error(429, &answer, 429, "too_many_viewers", "--max-viewers");
    assert!(
        streams.len() <= 20,
        "viewers only pages use take at most half of --max-viewers: {}",
        streams.len()
    );
    // They cannot lock writes out: a push still makes a new viewer.
    post_model_for_viewer(&target, "writer").await;
    drop(streams);

    // A declared length of 200 MB with 20 bytes sent: nothing is reserved for it, and the
    // request ends with 408 when the body stops arriving. (Rocket itself waits for the first 14
    // bytes of every body before routing, so a body must get that far to be timed.)
    let answer = target.raw(
        b"POST /api/model HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n\
          Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n{\"shapes\": {\"id\": ",
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--body-timeout-secs"), "{answer}");
    target.assert_bounded("a declared 200 MB that never came");

    // An id with a line break, echoed into the stream's id line, cannot add lines of its own.
    let answer = target.raw(
        b"GET /api/events?viewer=f&last_event_id=f:1%0Adata:%20injected HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        Duration::from_secs(2),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("injected"), "{answer}");

    // Scene files need no token and each costs about its model's size again: many asked for at
    // once are written two at a time, the others wait or get 503 `busy`.
    let sphere = ocp_notebook::model::synthetic::sphere_message(300_000);
    let (status, answer) = target.post("/api/model?viewer=scene", sphere, true).await;
    assert_eq!(status, 201, "{answer}");
    let asks = (0..12).map(|_| target.get("/viewer/scene/scene.html", false));
    let mut written = 0;
    for (status, body) in futures_util::future::join_all(asks).await {
        match status {
            200 => written += 1,
            503 => assert!(
                body.contains("\"busy\"") && body.contains("at once"),
                "{body}"
            ),
            other => panic!("a scene answered {other}: {}", &body[..body.len().min(300)]),
        }
    }
    assert!(written >= 2, "scenes are written, two at a time: {written}");
    target.assert_bounded("12 scene files of a 10 MB model asked for at once");

    // Measurements need no token either and each decodes the picked parts: the biggest face
    // there is, against itself, twelve times at once, shares those two slots.
    let face = "/Group/Sphere/faces/faces_0";
    let ask = serde_json::json!({"tool": "DistanceMeasurement", "ids": [face, face]}).to_string();
    let asks = (0..12).map(|_| target.post("/api/viewer/scene/measure", ask.clone(), false));
    let mut measured = 0;
    for (status, body) in futures_util::future::join_all(asks).await {
        match status {
            200 => measured += 1,
            503 => assert_eq!(body["error"]["code"], "busy", "{body}"),
            other => panic!("a measurement answered {other}: {body}"),
        }
    }
    assert!(
        measured >= 2,
        "measurements are answered, two at a time: {measured}"
    );
    target.assert_bounded("12 measurements of a 10 MB face asked for at once");

    target.still_serves().await;
    target.assert_bounded("the whole suite");
}

async fn post_model_for_viewer(target: &Target, viewer: &str) {
    let (status, answer) = target
        .post(
            &format!("/api/model?viewer={viewer}"),
            fixture("box.json"),
            true,
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
