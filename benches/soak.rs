//! The soak run: mixed load on one server for a while, on the memory store and on Redis (with
//! redis-server restarted once in the middle), reporting requests served, events delivered,
//! events missed (which must be 0) and the server's RSS at the start, at its highest and at the
//! end.
//!
//! The load: fixture uploads to 8 viewers; 200 pages following them, each dropping its stream at
//! random and resuming with `Last-Event-ID`, and reporting status; screenshot requests answered
//! by a real page in headless Chromium (`web/test/follow.mjs`); one hostile request a second.
//!
//! `SOAK_SECS=600 cargo bench --features redis --bench soak` (the default is 60 s per store). Needs Chromium,
//! Node with `web/node_modules` (as the browser tests do) and redis-server.

#[path = "../tests/cluster/mod.rs"]
mod cluster;
#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cluster::{free_port, redis, server, Process};
use common::processes::{first_line, memory_of};
use common::{fixture, SseReader, TestServer};
use serde_json::{json, Value};

const VIEWERS: usize = 8;
const PAGES: usize = 200;
const TOKEN: &str = "soak";

/// The models stored for one viewer, in order (its uploader appends, its pages read).
type Log = Arc<Mutex<Vec<String>>>;

/// What one page saw: every model id it received (in `model_update` or `resync`), and how much
/// of its viewer's log its resyncs covered (a page resynced to model M need not have seen the
/// models before M; one resynced to none, after the store was emptied, those before that moment).
#[derive(Default)]
struct Seen {
    models: HashSet<String>,
    covered: usize,
    resyncs: usize,
    events: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    failed: AtomicU64,
    screenshots: AtomicU64,
}

fn rss(pid: u32) -> u64 {
    memory_of(pid).1
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// POSTs with the token; answers the status (0 if no answer came) and the JSON answer.
async fn send(base: &str, path: &str, body: Vec<u8>, counters: &Counters) -> (u16, Value) {
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let response = http()
        .post(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// POSTs a request that should succeed; counts it as refused when it does not.
async fn post(base: &str, path: &str, body: Vec<u8>, counters: &Counters) -> Option<Value> {
    let (status, answer) = send(base, path, body, counters).await;
    if (200..300).contains(&status) {
        Some(answer)
    } else {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// A page: follows `viewer`, drops its stream every 5 to 30 s and resumes with its last id,
/// and reports a status now and then.
fn page(
    base: String,
    viewer: String,
    log: Log,
    seen: Arc<Mutex<Seen>>,
    counters: Arc<Counters>,
    until: Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let server = TestServer::at(&base);
        let mut last: Option<String> = None;
        let mut n: u64 = 0;
        while Instant::now() < until {
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = http()
                .get(server.url(&format!("/api/viewer/{viewer}/events")))
                .timeout(Duration::from_secs(3600));
            if let Some(id) = &last {
                request = request.header("Last-Event-ID", id);
            }
            let Ok(response) = request.send().await else {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            if response.status() != 200 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let mut reader = SseReader::from_response(response).await;
            n += 1;
            let hold =
                Duration::from_millis(5_000 + (n * 7_919 + viewer.len() as u64 * 104_729) % 25_000);
            let drop_at = Instant::now() + hold;
            loop {
                let left = drop_at
                    .min(until + Duration::from_secs(20))
                    .saturating_duration_since(Instant::now());
                let Ok(Some(event)) = tokio::time::timeout(left, reader.next_message()).await
                else {
                    break;
                };
                if let Some(id) = &event.id {
                    last = Some(id.clone());
                }
                {
                    let mut seen = seen.lock().unwrap();
                    seen.events += 1;
                    let model = event.data["model_id"].as_str().map(str::to_string);
                    match event.kind() {
                        "model_update" => {
                            seen.models.extend(model);
                        }
                        "resync" => {
                            let log = log.lock().unwrap();
                            let covered = match &model {
                                Some(m) => log.iter().position(|s| s == m).unwrap_or(0),
                                None => log.len(),
                            };
                            seen.covered = seen.covered.max(covered);
                            seen.resyncs += 1;
                            seen.models.extend(model);
                        }
                        _ => {}
                    }
                }
                if event.kind() == "model_update" && n.is_multiple_of(3) {
                    let report = json!({"zoom": {"old": 1, "new": n}})
                        .to_string()
                        .into_bytes();
                    post(
                        &base,
                        &format!("/api/viewer/{viewer}/status"),
                        report,
                        &counters,
                    )
                    .await;
                }
            }
        }
    })
}

/// One hostile request of the kinds, in turn.
async fn hostile(base: &str, n: u64, counters: &Counters) {
    let (path, body): (&str, Vec<u8>) = match n % 4 {
        0 => (
            "/api/viewer/v0/status",
            format!("{{\"a\": [{}0]}}", "0,".repeat(400_000)).into_bytes(),
        ),
        1 => (
            "/api/model",
            format!(
                "{{\"instances\": [{}{{}}], \"shapes\": {{}}}}",
                "{},".repeat(1_000_000)
            )
            .into_bytes(),
        ),
        2 => (
            "/api/screenshot",
            json!({"viewer_id": "v0", "data": "A".repeat(8 << 20)})
                .to_string()
                .into_bytes(),
        ),
        _ => {
            let mut model: Value = serde_json::from_slice(&fixture("box.json")).unwrap();
            model["data"]["shapes"]["bb"] = json!({"xmin": "X"});
            let text = model.to_string().replace("\"X\"", "1e999");
            ("/api/model?viewer=v0", text.into_bytes())
        }
    };
    // 0: the server answered before the body was all sent and closed the connection (413).
    let (status, answer) = send(base, path, body, counters).await;
    assert!(
        status == 0 || (400..500).contains(&status) || status == 503,
        "a hostile request to {path} got {status}: {answer}"
    );
}

/// A real page in headless Chromium following `viewer`, which answers screenshot requests.
fn browser_page(base: &str, viewer: &str) -> std::process::Child {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new("node")
        .arg(format!("{root}/web/test/follow.mjs"))
        .arg(format!("{base}/viewer/{viewer}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs web/test/follow.mjs");
    assert_eq!(
        first_line(&mut child),
        "connected",
        "the page follows its viewer"
    );
    child
}

async fn soak(store: &str, seconds: u64, redis_port: Option<u16>, mut outage: Option<Process>) {
    let store_args: Vec<String> = match redis_port {
        Some(port) => vec!["--store".into(), format!("redis://127.0.0.1:{port}")],
        None => vec![],
    };
    let mut args: Vec<&str> = vec!["--token", TOKEN, "--max-pages", "1000"];
    args.extend(store_args.iter().map(String::as_str));
    let (process, base) = server(&args);
    let pid = process.0.id();
    let start_rss = rss(pid);
    let max_rss = Arc::new(AtomicU64::new(start_rss));
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);

    let viewers: Vec<String> = (0..VIEWERS).map(|i| format!("v{i}")).collect();
    for viewer in &viewers {
        post(
            &base,
            &format!("/api/model?viewer={viewer}"),
            fixture("box.json"),
            &counters,
        )
        .await;
    }
    let mut chromium = browser_page(&base, &viewers[0]);

    let logs: HashMap<String, Log> = viewers
        .iter()
        .map(|viewer| (viewer.clone(), Log::default()))
        .collect();
    let mut pages = Vec::new();
    for i in 0..PAGES {
        let viewer = viewers[i % VIEWERS].clone();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let log = logs[&viewer].clone();
        let task = page(
            base.clone(),
            viewer.clone(),
            log,
            seen.clone(),
            counters.clone(),
            until,
        );
        pages.push((viewer, seen, task));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Uploads: one uploader per viewer, the fixtures in turn; what was stored, in order.
    let fixtures = ["box.json", "bracket.json", "assembly.json"];
    let uploaders: Vec<_> = viewers
        .iter()
        .map(|viewer| {
            let (base, viewer, counters) = (base.clone(), viewer.clone(), counters.clone());
            let log = logs[&viewer].clone();
            tokio::spawn(async move {
                let mut n = 0usize;
                while Instant::now() < until {
                    let mut model: Value =
                        serde_json::from_slice(&fixture(fixtures[n % 3])).unwrap();
                    model["config"]["upload"] = json!(n);
                    let body = serde_json::to_vec(&model).unwrap();
                    if let Some(answer) = post(
                        &base,
                        &format!("/api/model?viewer={viewer}"),
                        body,
                        &counters,
                    )
                    .await
                    {
                        log.lock()
                            .unwrap()
                            .push(answer["model_id"].as_str().unwrap().to_string());
                    }
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
            })
        })
        .collect();

    // Once a second: one hostile request, a memory sample, and every 5 s a screenshot.
    let mut tick = 0u64;
    let mut restarted = false;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tick += 1;
        max_rss.fetch_max(rss(pid), Ordering::Relaxed);
        hostile(&base, tick, &counters).await;
        if tick.is_multiple_of(5) {
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let shot = http()
                .post(format!("{base}/api/viewer/v0/screenshot?timeout=20"))
                .bearer_auth(TOKEN)
                .send()
                .await;
            if shot.is_ok_and(|r| r.status() == 200) {
                counters.screenshots.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let (Some(port), false) = (redis_port, restarted) {
            if started.elapsed() > Duration::from_secs(seconds / 2) {
                restarted = true;
                drop(outage.take());
                tokio::time::sleep(Duration::from_secs(2)).await;
                outage = Some(redis(port));
                eprintln!("redis-server restarted at {:?}", started.elapsed());
            }
        }
    }

    for uploader in uploaders {
        uploader.await.unwrap();
    }
    // Let the last events arrive, then stop the pages.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (_, _, task) in &pages {
        task.abort();
    }
    let mut delivered = 0;
    let mut missed = 0;
    let mut resyncs = 0;
    for (viewer, seen, _) in &pages {
        let seen = seen.lock().unwrap();
        delivered += seen.events;
        resyncs += seen.resyncs;
        let stored = logs[viewer].lock().unwrap();
        missed += stored
            .iter()
            .enumerate()
            .filter(|(i, id)| *i >= seen.covered && !seen.models.contains(*id))
            .count();
    }
    drop(chromium.stdin.take());
    let _ = chromium.kill();
    let _ = chromium.wait();
    let end_rss = rss(pid);
    let uploaded: usize = logs.values().map(|log| log.lock().unwrap().len()).sum();
    println!(
        "| {store} | {seconds} s | {} | {} | {uploaded} | {delivered} | {missed} | {resyncs} | {} | {} / {} / {} MiB |",
        counters.requests.load(Ordering::Relaxed),
        counters.failed.load(Ordering::Relaxed),
        counters.screenshots.load(Ordering::Relaxed),
        start_rss >> 20,
        max_rss.load(Ordering::Relaxed) >> 20,
        end_rss >> 20,
    );
    drop(process);
    drop(outage);
}

fn main() {
    let seconds: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("| store | time | requests | refused (non-hostile) | uploads | events delivered | events missed | resyncs | screenshots | RSS start / max / end |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    runtime.block_on(soak("memory", seconds, None, None));
    let port = free_port();
    let redis_server = redis(port);
    runtime.block_on(soak(
        "redis, restarted midway",
        seconds,
        Some(port),
        Some(redis_server),
    ));
}
