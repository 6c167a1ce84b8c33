//! The memory store's own bounds (the contract suite covers the rest on both stores).

use futures_util::StreamExt;
use serde_json::{json, Value};

use super::super::{EventKind, Hub, SubscribeOutcome};
use super::*;

fn hub(event_history: usize) -> (Hub, Arc<MemoryStore>) {
    let limits = HubLimits {
        model_budget: 1 << 20,
        history: 32,
        event_history,
        inline_limit: 1024,
        settings_bytes: 1 << 16,
        max_viewers: 100,
    };
    let store = Arc::new(MemoryStore::new(limits, JsonObject::new()));
    (Hub::new(store.clone(), limits), store)
}

fn kind_of(event: &Event) -> String {
    let text = std::str::from_utf8(&event.frame).unwrap();
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    serde_json::from_str::<Value>(data).unwrap()["type"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_slow_subscriber_gets_one_resync_instead_of_a_backlog() {
    let (hub, _) = hub(1000);
    let viewer = ViewerId::new("slow").unwrap();
    let SubscribeOutcome::Subscribed(mut slow) = hub.subscribe(&viewer, None).await.unwrap() else {
        panic!("subscribed");
    };
    for i in 0..LIVE_BUFFER * 2 {
        hub.update_config(&viewer, json!({ "i": i }).as_object().unwrap().clone())
            .await
            .unwrap();
    }
    let first = slow.live.next().await.unwrap();
    assert_eq!(kind_of(&first), EventKind::Resync.as_str());
    assert!(std::str::from_utf8(&first.frame)
        .unwrap()
        .contains(&format!("\"i\":{}", LIVE_BUFFER * 2 - 1)));

    hub.clear(&viewer).await.unwrap();
    let next = slow.live.next().await.unwrap();
    assert_eq!(
        kind_of(&next),
        EventKind::Clear.as_str(),
        "nothing older than the resync follows it"
    );
}

#[tokio::test]
async fn history_is_bounded_and_ids_increase() {
    let (hub, store) = hub(3);
    let viewer = ViewerId::new("h").unwrap();
    for _ in 0..10 {
        hub.clear(&viewer).await.unwrap();
    }
    let state = store.lock();
    let history = &state.viewers[&viewer].history;
    assert_eq!(history.len(), 3);
    assert!(history
        .iter()
        .zip(history.iter().skip(1))
        .all(|(a, b)| a.event_id() < b.event_id()));
}

#[tokio::test]
async fn idle_viewers_without_pages_are_collected_with_their_models() {
    let (hub, _) = hub(10);
    let idle = ViewerId::new("idle").unwrap();
    let watched = ViewerId::new("watched").unwrap();
    let tree = bytes::Bytes::from_static(b"{}").into();
    let model = StoredModel::new(
        ModelId::random(),
        idle.clone(),
        (tree, Vec::new()),
        JsonObject::new(),
        Default::default(),
    );
    let model = hub.publish_model(model).await.unwrap();
    let _page = hub.subscribe(&watched, None).await.unwrap();
    assert_eq!(hub.collect_idle(Duration::ZERO).await.unwrap(), 1);
    assert!(hub.status(&idle).await.is_err());
    assert!(
        hub.status(&watched).await.is_ok(),
        "a viewer with a page stays"
    );
    assert!(matches!(
        hub.model(&model.id).await,
        Err(HubError::ModelGone(_))
    ));
}
