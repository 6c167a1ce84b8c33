//! The event streams as browsers use them: current state for late pages, live updates, exact
//! replay after a dropped connection, resync when too much was missed, many subscribers at once,
//! deletion, screenshots round trips and keep-alives.

mod common;

use common::*;
use ocp_notebook::Settings;
use serde_json::json;

crate::contract!(
    a_page_opened_after_the_push_gets_the_model,
    an_open_page_hears_every_change_in_order,
    a_reconnecting_page_gets_exactly_what_it_missed,
    a_page_that_missed_too_much_gets_a_resync,
    one_hundred_fifty_subscribers_all_get_the_model,
    deleting_a_viewer_closes_its_pages_for_good,
    screenshots_round_trip_through_the_page,
    idle_streams_get_keep_alives,
    one_shared_stream_carries_many_viewers_and_resumes_each,
    a_page_answers_screenshot_requests_of_its_own_viewer_only,
    the_history_keeps_at_most_16_mib_of_events,
    a_viewer_deleted_and_started_again_counts_its_pages_right,
    pages_alone_take_at_most_half_of_the_viewers,
);

async fn a_page_opened_after_the_push_gets_the_model(store: Store) {
    let server = store.start();
    let (_, small) = post(&server, "/api/model?viewer=late", fixture("box.json")).await;
    let mut page = SseReader::open(&server, "late", None).await;
    let event = page.next().await;
    assert_eq!(event.kind(), "model_update");
    assert_eq!(event.data["model_id"], small["model_id"]);
    assert_eq!(
        event.data["model"]["data"]["shapes"]["parts"][0]["name"], "box",
        "small models come inline"
    );
    assert_eq!(event.data["config"]["theme"], "browser");
    assert!(event.id.is_some());
    assert_eq!(
        page.retry,
        Some(1000),
        "the stream tells EventSource when to retry"
    );

    let big_model = ocp_notebook::model::synthetic::sphere_message(20_000);
    let (_, big) = post(&server, "/api/model?viewer=late2", big_model).await;
    let mut page = SseReader::open(&server, "late2", None).await;
    let event = page.next().await;
    assert_eq!(event.data["model_id"], big["model_id"]);
    assert!(
        event.data.get("model").is_none(),
        "larger models are fetched by url"
    );
    assert_eq!(
        event.data["url"],
        format!("/api/model/{}", big["model_id"].as_str().unwrap())
    );
}

async fn an_open_page_hears_every_change_in_order(store: Store) {
    let server = store.start();
    let mut page = SseReader::open(&server, "live", None).await;
    let (_, model) = post(&server, "/api/model?viewer=live", fixture("assembly.json")).await;
    post(
        &server,
        "/api/viewer/live/config",
        json!({"axes": true}).to_string(),
    )
    .await;
    post(&server, "/api/viewer/live/clear", "").await;

    let update = page.next().await;
    assert_eq!(
        (update.kind(), &update.data["model_id"]),
        ("model_update", &model["model_id"])
    );
    let config = page.next().await;
    assert_eq!(
        (config.kind(), &config.data["config"]),
        ("config_update", &json!({"axes": true}))
    );
    let clear = page.next().await;
    assert_eq!(clear.kind(), "clear");
    // Ids are opaque to pages, but ordered: a count (memory) or `<ms>-<seq>` (Redis streams).
    let ids: Vec<(u64, u64)> = [&update, &config, &clear]
        .iter()
        .map(|e| {
            let id = e.id.as_deref().unwrap();
            let (major, minor) = id.split_once('-').unwrap_or((id, "0"));
            (major.parse().unwrap(), minor.parse().unwrap())
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    let response = SseReader::request(&server, "live", None).await;
    assert_eq!(
        response.headers()["cache-control"],
        "no-cache, no-transform"
    );
    assert_eq!(response.headers()["x-accel-buffering"], "no");
}

async fn a_reconnecting_page_gets_exactly_what_it_missed(store: Store) {
    let server = store.start();
    post(&server, "/api/model?viewer=r", fixture("box.json")).await;
    let mut page = SseReader::open(&server, "r", None).await;
    let seen = page.next().await.id.unwrap();
    drop(page); // the connection drops

    let (_, model) = post(&server, "/api/model?viewer=r", fixture("bracket.json")).await;
    post(
        &server,
        "/api/viewer/r/config",
        json!({"grid": [true, false, false]}).to_string(),
    )
    .await;
    let mut page = SseReader::open(&server, "r", Some(&seen)).await;
    let first = page.next().await;
    assert_eq!(
        (first.kind(), &first.data["model_id"]),
        ("model_update", &model["model_id"])
    );
    let second = page.next().await;
    assert_eq!(second.kind(), "config_update");

    // Reconnecting with the newest id gets nothing old: the next event is new.
    let mut page = SseReader::open(&server, "r", second.id.as_deref()).await;
    post(&server, "/api/viewer/r/clear", "").await;
    assert_eq!(page.next().await.kind(), "clear");
}

async fn a_page_that_missed_too_much_gets_a_resync(store: Store) {
    let server = store.with(Settings {
        event_history: 4,
        ..Settings::default()
    });
    let mut page = SseReader::open(&server, "old", None).await;
    post(
        &server,
        "/api/viewer/old/config",
        json!({"custom": 7}).to_string(),
    )
    .await;
    let seen = page.next().await.id.unwrap();
    drop(page);
    let mut last = serde_json::Value::Null;
    for _ in 0..6 {
        last = post(&server, "/api/model?viewer=old", fixture("box.json"))
            .await
            .1;
    }
    let mut page = SseReader::open(&server, "old", Some(&seen)).await;
    let resync = page.next().await;
    assert_eq!(resync.kind(), "resync");
    assert_eq!(resync.data["model_id"], last["model_id"]);
    assert_eq!(
        resync.data["config"]["custom"], 7,
        "live settings survive later models"
    );

    // An id this server never issued (a page from before a restart) also resyncs.
    let mut page = SseReader::open(&server, "old", Some("99999999999999999")).await;
    assert_eq!(page.next().await.kind(), "resync");
}

async fn one_hundred_fifty_subscribers_all_get_the_model(store: Store) {
    let server = store.start();
    let mut pages = Vec::new();
    for _ in 0..150 {
        pages.push(SseReader::open(&server, "crowd", None).await);
    }
    let (_, health) = get_json(&server, "/health").await;
    assert_eq!(health["subscribers"], 150);
    let (_, model) = post(&server, "/api/model?viewer=crowd", fixture("bracket.json")).await;
    let received = futures_util::future::join_all(pages.iter_mut().map(|page| page.next())).await;
    for event in received {
        assert_eq!(event.data["model_id"], model["model_id"]);
    }
    // Other endpoints still answer while 150 streams are open.
    let (status, _) = get_json(&server, "/api/viewers").await;
    assert_eq!(status, 200);
    drop(pages);
}

async fn deleting_a_viewer_closes_its_pages_for_good(store: Store) {
    let server = store.start();
    let mut page = SseReader::open(&server, "gone", None).await;
    let response = client()
        .delete(server.url("/api/viewer/gone"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(page.next().await.kind(), "closed");
    page.expect_end().await;
    let again = SseReader::request(&server, "gone", None).await;
    assert_eq!(again.status(), 204, "EventSource stops retrying on 204");

    // Using the id again brings the viewer back.
    post(&server, "/api/model?viewer=gone", fixture("box.json")).await;
    let mut page = SseReader::open(&server, "gone", None).await;
    assert_eq!(page.next().await.kind(), "model_update");
}

async fn screenshots_round_trip_through_the_page(store: Store) {
    use base64::Engine as _;
    let server = store.start();
    let (status, answer) = post(&server, "/api/viewer/shot/screenshot", "").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (504, Some("no_page_answered"))
    );

    let mut page = SseReader::open(&server, "shot", None).await;
    let png = b"\x89PNG\r\n\x1a\n-pixels-".to_vec();
    let asker = tokio::spawn({
        let url = server.url("/api/viewer/shot/screenshot");
        async move { client().post(url).send().await.unwrap() }
    });
    let request = page.next().await;
    assert_eq!(request.kind(), "screenshot_request");
    let data = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    let upload =
        json!({"viewer_id": "shot", "request_id": request.data["request_id"], "data": data});
    let (status, stored) = post(&server, "/api/screenshot", upload.to_string()).await;
    assert_eq!(status, 201, "{stored}");

    let answer = asker.await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "image/png");
    assert_eq!(answer.bytes().await.unwrap().to_vec(), png);
    let kept = client()
        .get(server.url(stored["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(kept.bytes().await.unwrap().to_vec(), png);

    // A page that never answers: 504 after the timeout, however short (Redis reads a zero
    // wait as forever).
    let (status, _) = post(&server, "/api/viewer/shot/screenshot?timeout=0.3", "").await;
    assert_eq!(status, 504);
    let (status, _) = post(&server, "/api/viewer/shot/screenshot?timeout=1e-12", "").await;
    assert_eq!(status, 504);
}

async fn idle_streams_get_keep_alives(store: Store) {
    let server = store.with(Settings {
        heartbeat_secs: 1,
        ..Settings::default()
    });
    let mut page = SseReader::open(&server, "quiet", None).await;
    let before = page.comments;
    let nothing =
        tokio::time::timeout(std::time::Duration::from_millis(2500), page.next_message()).await;
    assert!(nothing.is_err(), "no message on a quiet viewer");
    assert!(page.comments > before, "but keep-alive comments arrive");
}

/// Twelve viewers over one connection (browsers allow six per host), resumed exactly after a drop.
async fn one_shared_stream_carries_many_viewers_and_resumes_each(store: Store) {
    let server = store.start();
    let names: Vec<String> = (0..12).map(|i| format!("cell{i}")).collect();
    let query: Vec<String> = names.iter().map(|n| format!("viewer={n}")).collect();
    let path = format!("/api/events?{}", query.join("&"));
    post(&server, "/api/model?viewer=cell0", fixture("box.json")).await;

    let mut shared = SseReader::open_path(&server, &path, None).await;
    let state = shared.next().await;
    assert_eq!(
        (state.kind(), state.data["viewer_id"].as_str()),
        ("model_update", Some("cell0"))
    );
    for name in &names {
        post(
            &server,
            &format!("/api/viewer/{name}/config"),
            json!({"who": name}).to_string(),
        )
        .await;
    }
    let mut seen = std::collections::HashSet::new();
    let mut last_id = String::new();
    for _ in 0..12 {
        let event = shared.next().await;
        assert_eq!(event.kind(), "config_update");
        assert_eq!(event.data["config"]["who"], event.data["viewer_id"]);
        seen.insert(event.data["viewer_id"].as_str().unwrap().to_string());
        last_id = event.id.unwrap();
    }
    assert_eq!(seen.len(), 12, "every viewer's event arrived");
    assert_eq!(
        last_id.split(',').count(),
        12,
        "the id names every viewer: {last_id}"
    );
    drop(shared);

    // While disconnected, two viewers change; the reconnect gets exactly those two.
    post(&server, "/api/viewer/cell3/clear", "").await;
    post(&server, "/api/model?viewer=cell7", fixture("box.json")).await;
    let mut shared = SseReader::open_path(&server, &path, Some(&last_id)).await;
    let first = shared.next().await;
    let second = shared.next().await;
    let mut got = [
        (
            first.data["viewer_id"].as_str().unwrap().to_string(),
            first.kind().to_string(),
        ),
        (
            second.data["viewer_id"].as_str().unwrap().to_string(),
            second.kind().to_string(),
        ),
    ];
    got.sort();
    assert_eq!(
        got,
        [
            ("cell3".to_string(), "clear".to_string()),
            ("cell7".to_string(), "model_update".to_string())
        ]
    );
    let quiet =
        tokio::time::timeout(std::time::Duration::from_millis(500), shared.next_message()).await;
    assert!(quiet.is_err(), "nothing else was missed");

    let (status, answer) = get_json(&server, "/api/events?viewer=..").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_id"))
    );
    let (status, _) = get_json(&server, "/api/events").await;
    assert_eq!(status, 400);
}

/// An upload naming a pending request answers it only if it is for the same viewer: a page of
/// one viewer cannot slip its picture into another's request.
async fn a_page_answers_screenshot_requests_of_its_own_viewer_only(store: Store) {
    use base64::Engine as _;
    let server = store.start();
    let mut page = SseReader::open(&server, "mine", None).await;
    let asker = tokio::spawn({
        let url = server.url("/api/viewer/mine/screenshot?timeout=15");
        async move { client().post(url).send().await.unwrap() }
    });
    let request = page.next().await;
    assert_eq!(request.kind(), "screenshot_request");
    let upload = |viewer: &str, pixels: &[u8]| {
        let data = base64::engine::general_purpose::STANDARD.encode(pixels);
        json!({"viewer_id": viewer, "request_id": request.data["request_id"], "data": data})
            .to_string()
    };
    let (status, _) = post(
        &server,
        "/api/screenshot",
        upload("other", b"\x89PNG\r\n\x1a\nother"),
    )
    .await;
    assert_eq!(status, 201, "stored for its own viewer");
    let (status, _) = post(
        &server,
        "/api/screenshot",
        upload("mine", b"\x89PNG\r\n\x1a\nmine"),
    )
    .await;
    assert_eq!(status, 201);
    let answer = asker.await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.bytes().await.unwrap().to_vec(),
        b"\x89PNG\r\n\x1a\nmine",
        "the request got its own viewer's picture ({})",
        store.name()
    );
}

/// Big inlined models fill the replay history by bytes long before its count: beyond 16 MiB the
/// oldest go, on both stores, and a page that last saw one of them gets a resync.
async fn the_history_keeps_at_most_16_mib_of_events(store: Store) {
    let server = store.with(Settings {
        inline_limit: "8MiB".parse().unwrap(),
        ..Settings::default()
    });
    let model = ocp_notebook::model::synthetic::sphere_message(120_000);
    assert!(model.len() > 3 << 20, "{} bytes", model.len());
    let (_, first) = post(&server, "/api/model?viewer=heavy", model.clone()).await;
    let mut page = SseReader::open(&server, "heavy", None).await;
    let seen = page.next().await;
    assert_eq!(seen.data["model_id"], first["model_id"]);
    drop(page);
    let mut last = serde_json::Value::Null;
    for _ in 0..5 {
        let (status, answer) = post(&server, "/api/model?viewer=heavy", model.clone()).await;
        assert_eq!(status, 201, "{answer}");
        last = answer;
    }
    let mut page = SseReader::open(&server, "heavy", seen.id.as_deref()).await;
    let resync = page.next().await;
    assert_eq!(
        (resync.kind(), &resync.data["model_id"]),
        ("resync", &last["model_id"]),
        "{}: 6 events of {} bytes are more than 16 MiB",
        store.name(),
        model.len()
    );
}

/// A page of a deleted viewer leaves; the viewer comes back with a push and a new page: it
/// counts one page, not zero (a late uncount) and not two (a stale count).
async fn a_viewer_deleted_and_started_again_counts_its_pages_right(store: Store) {
    let server = store.start();
    post(&server, "/api/model?viewer=again", fixture("box.json")).await;
    let mut page = SseReader::open(&server, "again", None).await;
    page.next().await;
    let deleted = client()
        .delete(server.url("/api/viewer/again"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(page.next().await.kind(), "closed");
    page.expect_end().await;
    drop(page);
    post(&server, "/api/model?viewer=again", fixture("box.json")).await;
    let mut page = SseReader::open(&server, "again", None).await;
    page.next().await;
    // Counts settle within a beat.
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (_, status) = get_json(&server, "/api/viewer/again/status").await;
        if status["subscribers"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: {status}",
            store.name()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Pages may make viewers without a token, but only half of `--max-viewers`: a push still
/// makes a new viewer when pages hold their half.
async fn pages_alone_take_at_most_half_of_the_viewers(store: Store) {
    let server = store.with(Settings {
        max_viewers: 4,
        ..Settings::default()
    });
    let first = SseReader::request(&server, "p1", None).await;
    let second = SseReader::request(&server, "p2", None).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = SseReader::request(&server, "p3", None).await;
    assert_eq!(third.status(), 429, "{}", store.name());
    let answer: serde_json::Value = third.json().await.unwrap();
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-viewers"),
        "{answer}"
    );
    let (status, answer) = post(&server, "/api/model?viewer=w1", fixture("box.json")).await;
    assert_eq!(status, 201, "{answer}");
    let (status, _) = post(&server, "/api/model?viewer=w2", fixture("box.json")).await;
    assert_eq!(status, 201);
    let (status, answer) = post(&server, "/api/model?viewer=w3", fixture("box.json")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (429, Some("too_many_viewers"))
    );
}
