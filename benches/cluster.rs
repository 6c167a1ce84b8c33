//! The hub on Redis against the embedded one, one run, side by side: upload -> event latency
//! (one page) and fan-out (200 pages, spread over the instances by nginx) for
//!
//! - the embedded hub (one process, `--store memory`), reached directly;
//! - the Redis hub with one instance, reached directly;
//! - the Redis hub with three instances behind nginx (round robin).
//!
//! `cargo bench --features redis --bench cluster` (needs redis-server and nginx, as the scale-out tests do).

#[path = "../tests/cluster/mod.rs"]
mod cluster;
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use cluster::{free_port, instance, nginx, redis, server, Process};
use common::{fixture, post, SseReader, TestServer};

const LATENCY_UPLOADS: usize = 60;
const FAN_OUT_PAGES: usize = 200;
const FAN_OUT_UPLOADS: usize = 20;

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)]
}

/// Milliseconds from the start of each POST to its event at one page: p50, p90.
async fn latency(front: &str, viewer: &str) -> (f64, f64) {
    let server = TestServer::at(front);
    let mut page = SseReader::open(&server, viewer, None).await;
    let body = fixture("box.json");
    let mut times = Vec::new();
    for _ in 0..LATENCY_UPLOADS {
        let start = Instant::now();
        upload(&server, viewer, &body).await;
        next_model(&mut page).await;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    (percentile(&mut times, 0.5), percentile(&mut times, 0.9))
}

async fn upload(server: &TestServer, viewer: &str, body: &[u8]) {
    let (status, answer) = post(
        server,
        &format!("/api/model?viewer={viewer}"),
        body.to_vec(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
}

/// Waits for the page's next `model_update`.
async fn next_model(page: &mut SseReader) {
    while page.next().await.kind() != "model_update" {}
}

/// The bracket to `FAN_OUT_PAGES` pages: ms until the last page has each upload (p50), and
/// events delivered per second over the whole run.
async fn fan_out(front: &str, viewer: &str) -> (f64, f64) {
    let server = TestServer::at(front);
    let mut pages = Vec::new();
    for _ in 0..FAN_OUT_PAGES {
        pages.push(SseReader::open(&server, viewer, None).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = fixture("bracket.json");
    let mut last_page = Vec::new();
    let run = Instant::now();
    for _ in 0..FAN_OUT_UPLOADS {
        let start = Instant::now();
        upload(&server, viewer, &body).await;
        futures_util::future::join_all(pages.iter_mut().map(next_model)).await;
        last_page.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let rate = (FAN_OUT_PAGES * FAN_OUT_UPLOADS) as f64 / run.elapsed().as_secs_f64();
    (percentile(&mut last_page, 0.5), rate)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let redis_port = free_port();
    let _redis = redis(redis_port);
    println!(
        "upload -> event: {LATENCY_UPLOADS} box uploads to 1 page; fan-out: {FAN_OUT_UPLOADS} bracket uploads \
         (182 KB, inlined in the event) to {FAN_OUT_PAGES} pages\n"
    );
    println!("| hub | upload -> event p50 / p90 | fan-out: last page p50 | events delivered / s |");
    println!("|---|---|---|---|");

    let report = |name: &str, (p50, p90): (f64, f64), (last, rate): (f64, f64)| {
        println!("| {name} | {p50:.1} / {p90:.1} ms | {last:.1} ms | {rate:.0} |");
    };

    {
        let (_node, base) = server(&[]);
        report(
            "embedded (memory), 1 instance",
            latency(&base, "lat").await,
            fan_out(&base, "fan").await,
        );
    }
    {
        let (_node, base) = instance(redis_port, "bench1:", &[]);
        report(
            "Redis, 1 instance",
            latency(&base, "lat").await,
            fan_out(&base, "fan").await,
        );
    }
    {
        let nodes: Vec<(Process, String)> = (0..3)
            .map(|_| instance(redis_port, "bench3:", &[]))
            .collect();
        let upstreams: Vec<String> = nodes.iter().map(|(_, base)| base.clone()).collect();
        let (_nginx, front, _dir) = nginx(&upstreams);
        report(
            "Redis, 3 instances behind nginx",
            latency(&front, "lat").await,
            fan_out(&front, "fan").await,
        );
    }
}
