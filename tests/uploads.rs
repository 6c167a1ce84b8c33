//! Big models: a ~40 MB upload fans out to several pages from one stored copy, and a slow upload
//! does not hold up anything else.

mod common;

use std::time::Duration;

use common::*;
use ocp_notebook::model::synthetic;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forty_megabyte_model_reaches_every_page() {
    let server = TestServer::start();
    let message = synthetic::sphere_message(1_250_000);
    assert!(message.len() > 38_000_000, "{} bytes", message.len());
    let mut pages = Vec::new();
    for _ in 0..3 {
        pages.push(SseReader::open(&server, "big", None).await);
    }
    let (status, answer) = post(&server, "/api/model?viewer=big", message.clone()).await;
    assert_eq!(status, 201, "{answer}");
    for page in pages.iter_mut() {
        let event = page.next().await;
        assert_eq!(event.data["model_id"], answer["model_id"]);
        assert!(
            event.data.get("model").is_none(),
            "big models are not inlined"
        );
        let body = client()
            .get(server.url(event.data["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len() as u64, answer["bytes"].as_u64().unwrap());
        // The geometry is the posted text, unchanged.
        let geometry_start = message
            .windows(12)
            .position(|w| w == b"\"instances\":")
            .unwrap();
        let tail = &message[geometry_start..geometry_start + 100_000];
        assert!(body.windows(tail.len()).any(|w| w == tail));
    }
    let (_, health) = get_json(&server, "/health").await;
    assert_eq!(health["models"], 1);
    let stored = health["model_bytes"].as_u64().unwrap();
    assert!(
        stored < message.len() as u64 + 1000,
        "one copy is stored: {stored}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_big_upload_holds_up_nothing() {
    let server = TestServer::start();
    let message = synthetic::sphere_message(400_000);
    let (half, rest) = message.split_at(message.len() / 2);
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first: Vec<u8> = half.to_vec();
    let second: Vec<u8> = rest.to_vec();
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(
        futures_util::stream::once(async move {
            let _ = released.await;
            Ok(second)
        }),
    );
    use futures_util::StreamExt;
    let big = tokio::spawn({
        let url = server.url("/api/model?viewer=slow");
        let length = message.len();
        async move {
            client()
                .post(url)
                .header("Content-Type", "application/json")
                .header("Content-Length", length)
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Half of the big body is in; the server answers everyone else meanwhile.
    let mut page = SseReader::open(&server, "other", None).await;
    let (status, small) = post(&server, "/api/model?viewer=other", fixture("bracket.json")).await;
    assert_eq!(status, 201);
    assert_eq!(page.next().await.data["model_id"], small["model_id"]);
    let (status, _) = get_json(&server, "/health").await;
    assert_eq!(status, 200);
    assert!(
        !big.is_finished(),
        "the big upload is still waiting for its second half"
    );

    release.send(()).unwrap();
    let response = big.await.unwrap();
    assert_eq!(response.status(), 201);
}
