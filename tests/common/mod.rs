//! Helpers for the integration tests: a real server on 127.0.0.1 (in-process, or the binary), an
//! HTTP client, and a small Server-Sent Events reader.
#![allow(dead_code)] // each test binary uses its own subset

pub mod processes;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ocp_notebook::server::{self, RunningServer};
use ocp_notebook::Settings;
use serde_json::Value;

/// How long any single wait in a test may take before the test fails (never hangs).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Where a test server keeps its state. The contract tests (`tests/api.rs`, `tests/events.rs`)
/// run every test on each store, so the two cannot drift apart.
#[derive(Clone)]
pub enum Store {
    Memory,
    /// A `redis-server` of the test's own, on a free port.
    Redis(Arc<Redis>),
}

pub struct Redis {
    pub port: u16,
    pub process: std::sync::Mutex<Option<processes::Process>>,
}

impl Redis {
    /// Stops the redis-server (an outage); [`Redis::restart`] brings it back on the same port.
    pub fn stop(&self) {
        self.process.lock().unwrap().take();
    }

    pub fn restart(&self) {
        *self.process.lock().unwrap() = Some(processes::redis(self.port));
    }
}

impl Store {
    /// A Redis store on a fresh `redis-server`; `None` (with a note) where none is installed or
    /// the crate was built without its `redis` feature. On CI (`CI` set) either fails the test:
    /// `tests/run` installs redis-server and builds with every feature.
    pub fn redis() -> Option<Store> {
        if !cfg!(feature = "redis") {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the contract tests with --all-features (tests/run does)"
            );
            eprintln!("built without the redis feature: the Redis half of this test is skipped");
            return None;
        }
        if processes::find_tool("redis-server").is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install redis-server for the contract tests"
            );
            eprintln!("redis-server is not installed: the Redis half of this test is skipped");
            return None;
        }
        let port = processes::free_port();
        let process = processes::redis(port);
        Some(Store::Redis(Arc::new(Redis {
            port,
            process: std::sync::Mutex::new(Some(process)),
        })))
    }

    /// A server on this store with default settings.
    pub fn start(&self) -> TestServer {
        self.with(Settings::default())
    }

    /// A server on this store with `settings`.
    pub fn with(&self, settings: Settings) -> TestServer {
        match self {
            Store::Memory => TestServer::with(settings),
            Store::Redis(redis) => {
                let mut server = TestServer::with(Settings {
                    store: format!("redis://127.0.0.1:{}", redis.port),
                    store_prefix: format!("test-{}:", uuid::Uuid::new_v4().simple()),
                    ..settings
                });
                server.redis = Some(redis.clone());
                server
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Store::Memory => "memory",
            Store::Redis(_) => "redis",
        }
    }
}

/// Runs each named `async fn NAME(store: Store)` as two tests, `memory::NAME` and `redis::NAME`.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Store::Memory).await
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = $crate::common::Store::redis() {
                        super::$name(store).await
                    }
                }
            )*
        }
    };
}

/// A real server on a free loopback port, stopped when dropped.
pub struct TestServer {
    running: Option<RunningServer>,
    pub base: String,
    /// The Redis the server uses, kept running until the server stops.
    redis: Option<Arc<Redis>>,
    /// What it was started with (for [`TestServer::twin`]).
    settings: Option<Settings>,
}

impl TestServer {
    pub fn start() -> Self {
        Self::with(Settings::default())
    }

    pub fn with(settings: Settings) -> Self {
        let running = server::spawn(Settings {
            port: 0,
            ..settings.clone()
        })
        .expect("server starts");
        let base = running
            .url()
            .split('?')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        TestServer {
            running: Some(running),
            base,
            redis: None,
            settings: Some(settings),
        }
    }

    /// Another instance on the same shared store (same Redis, same prefix), as behind a load
    /// balancer; on the memory store, which one process owns, this same server.
    pub fn twin(&self) -> TestServer {
        match (&self.redis, &self.settings) {
            (Some(redis), Some(settings)) => {
                let mut twin = TestServer::with(settings.clone());
                twin.redis = Some(redis.clone());
                twin
            }
            _ => TestServer::at(&self.base),
        }
    }

    /// A server started elsewhere (another process), reached at `base`.
    pub fn at(base: &str) -> Self {
        TestServer {
            running: None,
            base: base.trim_end_matches('/').to_string(),
            redis: None,
            settings: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// POSTs `body` as JSON to `path`; returns status and JSON answer.
pub async fn post(server: &TestServer, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = client()
        .post(server.url(path))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, json)
}

pub async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, json)
}

/// One SSE message as EventSource would dispatch it.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub data: Value,
}

impl SseEvent {
    pub fn kind(&self) -> &str {
        self.data["type"].as_str().unwrap_or_default()
    }
}

/// Reads an event stream the way EventSource does (fields, comments, multi-line data).
pub struct SseReader {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
    pub comments: usize,
    pub retry: Option<u64>,
}

impl SseReader {
    pub async fn open(server: &TestServer, viewer: &str, last_event_id: Option<&str>) -> Self {
        Self::open_path(
            server,
            &format!("/api/viewer/{viewer}/events"),
            last_event_id,
        )
        .await
    }

    /// Opens the event stream at `path` (a viewer's, or the shared `/api/events?viewer=...`).
    pub async fn open_path(server: &TestServer, path: &str, last_event_id: Option<&str>) -> Self {
        let response = Self::request_path(server, path, last_event_id).await;
        assert_eq!(response.status(), 200, "event stream {path}");
        Self::from_response(response).await
    }

    /// Reads an event stream already answered (status checked by the caller).
    pub async fn from_response(response: reqwest::Response) -> Self {
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        let mut reader = SseReader {
            stream: response.bytes_stream().boxed(),
            buffer: Vec::new(),
            comments: 0,
            retry: None,
        };
        // The server writes `retry` and a `: connected` comment first: after it, we are subscribed.
        let first = reader.read_block().await.expect("the stream opens");
        reader.retry = first
            .lines()
            .find_map(|l| l.strip_prefix("retry: "))
            .and_then(|v| v.parse().ok());
        reader
    }

    pub async fn request(
        server: &TestServer,
        viewer: &str,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        Self::request_path(
            server,
            &format!("/api/viewer/{viewer}/events"),
            last_event_id,
        )
        .await
    }

    pub async fn request_path(
        server: &TestServer,
        path: &str,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        let mut request = client()
            .get(server.url(path))
            .header("Accept", "text/event-stream")
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        request.send().await.unwrap()
    }

    /// The next message, skipping comments; fails the test after [`PATIENCE`].
    pub async fn next(&mut self) -> SseEvent {
        tokio::time::timeout(PATIENCE, self.next_message())
            .await
            .expect("an event arrives in time")
            .expect("the stream is still open")
    }

    /// The next message, or `None` when the server ends the stream.
    pub async fn next_message(&mut self) -> Option<SseEvent> {
        loop {
            let block = self.read_block().await?;
            let mut id = None;
            let mut data: Vec<&str> = Vec::new();
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                } else if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push(v);
                } else if let Some(v) = line.strip_prefix("retry: ") {
                    self.retry = v.parse().ok();
                }
            }
            if !data.is_empty() {
                let data = serde_json::from_str(&data.join("\n")).expect("event data is JSON");
                return Some(SseEvent { id, data });
            }
        }
    }

    /// Waits until the stream ends (the server closed it).
    pub async fn expect_end(&mut self) {
        let end = tokio::time::timeout(PATIENCE, async {
            while self.next_message().await.is_some() {}
        })
        .await;
        assert!(end.is_ok(), "the stream ends");
    }

    /// Reads up to the next blank line (one SSE block).
    async fn read_block(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return Some(String::from_utf8(block).expect("UTF-8 stream"));
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                _ => return None,
            }
        }
    }
}

/// The Python of the project's test environment, `target/venv` (made here on first use: the
/// Python package with its test and CAD extras, build123d and ocp_vscode, about 1 GB, a few
/// minutes). `OCP_NOTEBOOK_PYTHON` names another interpreter that has them.
pub fn test_python() -> std::path::PathBuf {
    if let Some(python) = std::env::var_os("OCP_NOTEBOOK_PYTHON") {
        return python.into();
    }
    python_env("venv", &["build123d", "ocp_vscode"])
}

/// `target/<name>`, a virtualenv with the bridge from this clone, its test and CAD extras and
/// `packages` (see `tests/python_env.py`), made on first use and brought up to date when
/// `pyproject.toml` or `packages` change.
pub fn python_env(name: &str, packages: &[&str]) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target").join(name);
    let python = venv.join("bin/python");
    let ready = venv.join(".ready");
    let wanted = format!(
        "{}\n{}",
        packages.join(" "),
        std::fs::read_to_string(root.join("pyproject.toml")).unwrap_or_default()
    );
    if std::fs::read_to_string(&ready).is_ok_and(|made| made == wanted) {
        return python;
    }
    let run = |program: &std::path::Path, args: &[&str]| {
        let status = std::process::Command::new(program)
            .args(args)
            .current_dir(root)
            .status()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", program.display()));
        assert!(status.success(), "{} {args:?} failed", program.display());
    };
    if !python.exists() {
        run("python3".as_ref(), &["-m", "venv", venv.to_str().unwrap()]);
    }
    let mut install = vec!["tests/python_env.py"];
    install.extend_from_slice(packages);
    run(&python, &install);
    std::fs::write(&ready, wanted).unwrap();
    python
}

/// Sends `request` as raw bytes to the server at `base` (`http://host:port`), written whole
/// before anything is read, as most clients do; answers what came back before the server closed
/// or `wait` passed. Fails only when the request could not be written (a reset connection).
pub fn raw_exchange(base: &str, request: &[u8], wait: Duration) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(base.trim_start_matches("http://"))?;
    socket.set_read_timeout(Some(wait))?;
    socket.write_all(request)?;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
