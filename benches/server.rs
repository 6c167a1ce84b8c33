//! Side-by-side benchmark of `ocp-notebook` and the reference Flask + SSE server
//! (benches/flask_ref/app.py), both started here on 127.0.0.1 and measured by the same client in
//! one run. Run with `cargo bench --bench server` (needs `pip install flask`; without Flask only
//! ocp-notebook is measured).
//!
//! What "delivered" means is the same for both: the subscriber holds the complete model. For Flask
//! that is the event itself (it carries the model); for ocp-notebook it is the event, plus the
//! `GET` of the model when the model was too big to come inline.
//!
//! Cases: POST -> delivered at 1 subscriber for the fixtures and a generated ~40 MB model
//! (median of several runs); the bracket to 500 subscribers (p50 / p99 / max); server memory per
//! idle subscriber (RSS slope from 0 to 500 idle streams). Every loop is bounded in count and time.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

const OURS: &str = env!("CARGO_BIN_EXE_ocp-notebook");
const SUBSCRIBERS: usize = 500;
const PATIENCE: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ours,
    Flask,
}

/// Where a server answers, all the client side needs.
#[derive(Clone)]
struct Target {
    kind: Kind,
    base: String,
}

/// A server process under test.
struct Server {
    target: Target,
    child: Child,
}

impl Server {
    fn ours() -> Server {
        let mut child = Command::new(OURS)
            .args(["--port", "0", "--log", "warn"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("ocp-notebook starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().trim_end_matches('/').to_string();
        Server {
            target: Target {
                kind: Kind::Ours,
                base,
            },
            child,
        }
    }

    fn flask() -> Option<Server> {
        let ok = Command::new("python3")
            .args(["-c", "import flask"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("Flask is not installed (pip install flask): measuring ocp-notebook alone");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let app = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/flask_ref/app.py");
        let child = Command::new("python3")
            .args([app, &port.to_string()])
            .env("SSE_KEEPALIVE_S", "15")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let target = Target {
                    kind: Kind::Flask,
                    base,
                };
                return Some(Server { target, child });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    fn name(&self) -> &'static str {
        match self.target.kind {
            Kind::Ours => "ocp-notebook",
            Kind::Flask => "Flask reference",
        }
    }

    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        fields
            .get(11)
            .and_then(|u| u.parse::<u64>().ok())
            .unwrap_or(0)
            + fields
                .get(12)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(SUBSCRIBERS * 2)
        .no_gzip()
        .build()
        .unwrap()
}

/// A subscriber: reads SSE blocks, scanning each byte once (events can be 40 MB).
struct Subscriber {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
    scanned: usize,
}

impl Subscriber {
    async fn open(http: &reqwest::Client, server: &Target, viewer: &str) -> Subscriber {
        let response = http
            .get(format!("{}/api/viewer/{viewer}/events", server.base))
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("subscribe");
        let mut subscriber = Subscriber {
            stream: response.bytes_stream().boxed(),
            buffer: Vec::new(),
            scanned: 0,
        };
        subscriber.block().await; // `: connected` (and `retry`): subscribed
        subscriber
    }

    async fn block(&mut self) -> Vec<u8> {
        loop {
            let from = self.scanned.saturating_sub(1);
            if let Some(end) = self.buffer[from..].windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..from + end + 2).collect();
                self.scanned = 0;
                return block;
            }
            self.scanned = self.buffer.len();
            let chunk = self
                .stream
                .next()
                .await
                .expect("stream open")
                .expect("stream read");
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// Waits for the next message and, for ocp-notebook, fetches the model if it was not inline.
    /// Returns when the event arrived and the bytes of model held.
    async fn delivered(&mut self, http: &reqwest::Client, server: &Target) -> (Instant, usize) {
        loop {
            let block = self.block().await;
            let event_at = Instant::now();
            if !block.windows(6).any(|w| w == b"data: ") {
                continue; // a comment
            }
            // Flask's event carries the model; so does ours when it is small (the stored model is
            // the last field of the event, after a small head: no JSON parse of the model needed).
            if server.kind == Kind::Flask
                || memmem(&block[..block.len().min(8192)], b",\"model\":{")
            {
                return (event_at, block.len());
            }
            let data: Vec<&[u8]> = block
                .split(|b| *b == b'\n')
                .filter_map(|l| l.strip_prefix(b"data: "))
                .collect();
            let event: Value = serde_json::from_slice(&data.join(&b'\n')).expect("event JSON");
            let url = format!("{}{}", server.base, event["url"].as_str().expect("url"));
            let model = http.get(url).send().await.unwrap().bytes().await.unwrap();
            return (event_at, model.len());
        }
    }
}

fn memmem(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn post(http: &reqwest::Client, server: &Target, viewer: &str, body: &bytes::Bytes) {
    let response = http
        .post(format!("{}/api/model?viewer={viewer}", server.base))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.unwrap();
}

/// Clock ticks per second of /proc times (USER_HZ, 100 on Linux).
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// POST -> event and POST -> model in hand at one subscriber, medians of `runs`, in ms.
async fn latency(server: &Target, viewer: &str, body: &bytes::Bytes, runs: usize) -> (f64, f64) {
    let http = client();
    let mut subscriber = Subscriber::open(&http, server, viewer).await;
    let (mut to_event, mut to_model) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let receive = async {
            let (event_at, bytes) =
                tokio::time::timeout(PATIENCE, subscriber.delivered(&http, server))
                    .await
                    .expect("delivered");
            (event_at, bytes, Instant::now())
        };
        let (_, (event_at, bytes, done_at)) =
            tokio::join!(post(&http, server, viewer, body), receive);
        assert!(bytes > body.len() / 2, "the whole model arrived");
        to_event.push((event_at - start).as_secs_f64() * 1000.0);
        to_model.push((done_at - start).as_secs_f64() * 1000.0);
    }
    (median(to_event), median(to_model))
}

/// What one fan-out measured.
struct FanOut {
    /// Delivery times in ms from the POST, sorted.
    times: Vec<f64>,
    /// Server RSS per idle subscriber.
    idle_kb: f64,
    /// Server CPU time (user + system) spent on the fan-out.
    cpu_ms: f64,
}

/// The bracket to many subscribers.
async fn fan_out(server: &Server, body: &bytes::Bytes) -> FanOut {
    let http = client();
    let target = &server.target;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss = server.rss_kb();
    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        subscribers.push(Subscriber::open(&http, target, "fanout").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per_subscriber = (server.rss_kb().saturating_sub(idle_rss)) as f64 / SUBSCRIBERS as f64;

    let cpu_before = server.cpu_ticks();
    let start = Instant::now();
    let deliveries = subscribers.into_iter().map(|mut s| {
        let http = http.clone();
        let target = target.clone();
        tokio::spawn(async move {
            tokio::time::timeout(PATIENCE, s.delivered(&http, &target))
                .await
                .expect("delivered");
            start.elapsed().as_secs_f64() * 1000.0
        })
    });
    let deliveries: Vec<_> = deliveries.collect();
    post(&http, target, "fanout", body).await;
    let mut times = Vec::new();
    for delivery in deliveries {
        times.push(delivery.await.unwrap());
    }
    let cpu_ms = (server.cpu_ticks() - cpu_before) as f64 * 1000.0 / ticks_per_second();
    times.sort_by(f64::total_cmp);
    FanOut {
        times,
        idle_kb: per_subscriber,
        cpu_ms,
    }
}

fn fixture(name: &str) -> bytes::Bytes {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap().into()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let big = bytes::Bytes::from(ocp_notebook::model::synthetic::sphere_message(1_250_000));
    let cases: Vec<(String, bytes::Bytes, usize)> = vec![
        ("box (3.8 KB)".into(), fixture("box"), 20),
        ("bracket (182 KB)".into(), fixture("bracket"), 20),
        ("assembly (116 KB)".into(), fixture("assembly"), 20),
        (
            format!("generated sphere ({:.1} MB)", big.len() as f64 / 1e6),
            big,
            5,
        ),
    ];
    let mut servers = vec![Server::ours()];
    servers.extend(Server::flask());

    println!("\nPOST -> event received, and -> model in hand, at 1 subscriber (median ms)\n");
    println!("| model | ocp-notebook: event | ocp-notebook: model | Flask: event = model | event ratio | model ratio |");
    println!("|---|---|---|---|---|---|");
    for (case, (name, body, runs)) in cases.iter().enumerate() {
        let ours = latency(&servers[0].target, &format!("latency{case}-0"), body, *runs).await;
        let flask = match servers.get(1) {
            Some(flask) => {
                Some(latency(&flask.target, &format!("latency{case}-1"), body, *runs).await)
            }
            None => None,
        };
        let (flask_cell, ratios) = match flask {
            Some((_, model)) => (
                format!("{model:.1}"),
                format!("{:.1}x | {:.1}x", model / ours.0, model / ours.1),
            ),
            None => ("-".into(), "- | -".into()),
        };
        println!(
            "| {name} | {:.1} | {:.1} | {flask_cell} | {ratios} |",
            ours.0, ours.1
        );
    }

    println!(
        "\nbracket to {SUBSCRIBERS} subscribers (ms from POST) and memory per idle subscriber\n"
    );
    println!("| server | p50 | p99 | max | server CPU ms | KB per idle subscriber |");
    println!("|---|---|---|---|---|---|");
    let bracket = fixture("bracket");
    for server in &servers {
        let run = fan_out(server, &bracket).await;
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1} |",
            server.name(),
            percentile(&run.times, 0.5),
            percentile(&run.times, 0.99),
            run.times[run.times.len() - 1],
            run.cpu_ms,
            run.idle_kb
        );
    }
}
