//! One order per viewer: writes that race each other (pushes, clears, evictions, from one
//! instance or two sharing a Redis) leave every page on the model the server calls current, and a
//! write that is refused changes nothing at all.

mod common;

use common::*;
use ocp_notebook::Settings;
use serde_json::{json, Value};

crate::contract!(
    racing_writes_leave_every_page_on_the_current_model,
    a_push_refused_for_memory_changes_nothing,
    a_push_refused_for_viewers_changes_nothing,
    a_config_refused_for_size_changes_nothing,
);

/// The box fixture, told apart by a config value.
fn numbered_box(n: usize) -> Vec<u8> {
    let mut message: Value = serde_json::from_slice(&fixture("box.json")).unwrap();
    message["config"]["upload"] = json!(n);
    serde_json::to_vec(&message).unwrap()
}

/// The model id the last model event names (`None` for `clear`), after `count` of them.
async fn last_model_seen(page: &mut SseReader, count: usize) -> Option<String> {
    let mut last = None;
    let mut seen = 0;
    while seen < count {
        let event = page.next().await;
        match event.kind() {
            "model_update" => last = event.data["model_id"].as_str().map(str::to_string),
            "clear" => last = None,
            _ => continue,
        }
        seen += 1;
    }
    last
}

async fn racing_writes_leave_every_page_on_the_current_model(store: Store) {
    // Room for two boxes: most pushes evict the viewer's own older model on the way.
    let first = store.with(Settings {
        model_memory: rocket::data::ByteUnit::Kilobyte(10),
        ..Settings::default()
    });
    // Behind a load balancer the writes and the pages reach different instances.
    let second = first.twin();
    let mut wrong = Vec::new();
    for round in 0..40 {
        let viewer = format!("race-{round}");
        let mut pages = [
            SseReader::open(&first, &viewer, None).await,
            SseReader::open(&second, &viewer, None).await,
        ];
        let path = format!("/api/model?viewer={viewer}");
        let clear = format!("/api/viewer/{viewer}/clear");
        let (a, b, c) = tokio::join!(
            post(&first, &path, numbered_box(2 * round)),
            post(&second, &path, numbered_box(2 * round + 1)),
            post(if round % 2 == 0 { &first } else { &second }, &clear, "{}"),
        );
        for (status, answer) in [a, b, c] {
            assert!(status < 300, "{status}: {answer}");
        }
        let (_, status) = get_json(&first, &format!("/api/viewer/{viewer}/status")).await;
        let current = status["model_id"].as_str().map(str::to_string);
        for (which, page) in pages.iter_mut().enumerate() {
            let seen = last_model_seen(page, 3).await;
            if seen != current {
                wrong.push(format!(
                    "{viewer}: page {which} shows {seen:?}, the server {current:?}"
                ));
            }
        }
        // Its models go with it, leaving the budget to the next round.
        let response = client()
            .delete(first.url(&format!("/api/viewer/{viewer}")))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
    assert!(wrong.is_empty(), "{} of 80 pages: {wrong:#?}", wrong.len());
}

/// Everything a client can read about the server's state, to compare before and after.
async fn state(server: &TestServer, models: &[&str]) -> Value {
    let (_, viewers) = get_json(server, "/api/viewers").await;
    let (_, health) = get_json(server, "/health").await;
    let mut fetched = Vec::new();
    for model in models {
        let response = client()
            .get(server.url(&format!("/api/model/{model}")))
            .send()
            .await
            .unwrap();
        fetched.push(response.status().as_u16());
    }
    json!({
        "viewers": viewers,
        "models": health["models"],
        "model_bytes": health["model_bytes"],
        "fetched": fetched,
    })
}

async fn a_push_refused_for_memory_changes_nothing(store: Store) {
    let server = store.with(Settings {
        model_memory: rocket::data::ByteUnit::Kilobyte(12),
        ..Settings::default()
    });
    // `keep` shows one box and keeps an older one it no longer shows, which eviction may take.
    let (_, older) = post(&server, "/api/model?viewer=keep", numbered_box(0)).await;
    let (_, shown) = post(&server, "/api/model?viewer=keep", numbered_box(1)).await;
    let models = [
        older["model_id"].as_str().unwrap(),
        shown["model_id"].as_str().unwrap(),
    ];
    let before = state(&server, &models).await;
    assert_eq!(before["fetched"], json!([200, 200]), "{before}");

    // Just under the budget alone (a padded config is kept with its model), so over it beside
    // the box `keep` shows, even once `keep`'s older box is gone: refused, since `keep` shows
    // the other. (The boxes share their mesh, which is kept once.)
    let mut big: Value = serde_json::from_slice(&numbered_box(2)).unwrap();
    big["config"]["pad"] = json!("x".repeat(12_000 - numbered_box(2).len() - 400));
    for viewer in ["newcomer", "keep-too"] {
        let (status, error) = post(
            &server,
            &format!("/api/model?viewer={viewer}"),
            serde_json::to_vec(&big).unwrap(),
        )
        .await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (503, Some("model_memory_full")),
            "{error}"
        );
        assert_eq!(
            state(&server, &models).await,
            before,
            "refused for {viewer}"
        );
    }
}

async fn a_push_refused_for_viewers_changes_nothing(store: Store) {
    let server = store.with(Settings {
        max_viewers: 2,
        model_memory: rocket::data::ByteUnit::Kilobyte(12),
        ..Settings::default()
    });
    let (_, one) = post(&server, "/api/model?viewer=one", numbered_box(0)).await;
    let (_, two) = post(&server, "/api/model?viewer=two", numbered_box(1)).await;
    let models = [
        one["model_id"].as_str().unwrap(),
        two["model_id"].as_str().unwrap(),
    ];
    let before = state(&server, &models).await;
    // A third viewer would need room too: neither the viewer nor the room is made.
    let (status, error) = post(&server, "/api/model?viewer=three", numbered_box(2)).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (429, Some("too_many_viewers")),
        "{error}"
    );
    assert_eq!(state(&server, &models).await, before);
}

async fn a_config_refused_for_size_changes_nothing(store: Store) {
    let server = store.with(Settings {
        settings_limit: rocket::data::ByteUnit::Kilobyte(4),
        ..Settings::default()
    });
    let (_, one) = post(&server, "/api/model?viewer=one", numbered_box(0)).await;
    let models = [one["model_id"].as_str().unwrap()];
    let before = state(&server, &models).await;
    for viewer in ["one", "fresh"] {
        let (status, error) = post(
            &server,
            &format!("/api/viewer/{viewer}/config"),
            json!({ "big": "x".repeat(8_000) }).to_string(),
        )
        .await;
        assert_eq!(status, 413, "{error}");
        assert_eq!(state(&server, &models).await, before, "config of {viewer}");
    }
}
