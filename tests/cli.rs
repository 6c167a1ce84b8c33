//! The `ocp-notebook` binary as a parent process uses it: the URL on the first stdout line, settings
//! from flags and environment, the token, clean shutdown on SIGTERM with pages attached, and
//! helpful failures.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_ocp-notebook");

/// A running binary and the URL it printed.
struct Process {
    child: Child,
    url: String,
}

impl Process {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Process {
        let mut child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .env("OCP_NOTEBOOK_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("http://127.0.0.1:"),
            "first stdout line is the URL: {line:?}"
        );
        Process {
            child,
            url: line.trim().to_string(),
        }
    }

    /// The base URL without the token query.
    fn base(&self) -> String {
        self.url
            .split('?')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string()
    }

    fn server(&self) -> TestServerRef {
        TestServerRef(self.base())
    }

    /// Waits for the process to exit on its own; kills it and fails after `PATIENCE`.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server reached by URL only (the helpers in `common` take a `TestServer`).
struct TestServerRef(String);

impl TestServerRef {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_open_streams_and_exits_cleanly() {
    let mut process = Process::start(&["serve", "--port", "0"], &[]);
    let server = process.server();
    let response = client()
        .get(server.url("/api/viewer/v/events"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    process.terminate();
    let stream_ended = tokio::time::timeout(PATIENCE, response.bytes()).await;
    assert!(stream_ended.is_ok(), "the event stream ends at shutdown");
    assert!(process.wait_exit().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_nothing_in_the_temporary_directory() {
    let temp = std::env::temp_dir().join(format!("ocp-notebook-cli-{}", std::process::id()));
    std::fs::create_dir_all(&temp).unwrap();
    let mut process = Process::start(
        &["serve", "--port", "0"],
        &[("TMPDIR", temp.to_str().unwrap())],
    );
    let page = client()
        .get(process.server().url("/viewer/t"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        200,
        "the page renders from the embedded templates"
    );
    assert!(page.text().await.unwrap().contains("<html"));
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    let left: Vec<_> = std::fs::read_dir(&temp).unwrap().collect();
    std::fs::remove_dir_all(&temp).unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_writes_but_not_reads() {
    let process = Process::start(&["--port", "0"], &[("OCP_NOTEBOOK_TOKEN", "s3cret")]);
    assert!(process.url.ends_with("/?token=s3cret"), "{}", process.url);
    let server = process.server();
    let post = |token: Option<&str>| {
        let mut request = client()
            .post(server.url("/api/model?viewer=t"))
            .header("Content-Type", "application/json")
            .body(fixture("box.json"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let missing = post(None).await.unwrap();
    assert_eq!(missing.status(), 401);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "token_required");
    assert_eq!(post(Some("wrong")).await.unwrap().status(), 403);
    let stored: serde_json::Value = post(Some("s3cret")).await.unwrap().json().await.unwrap();
    let model = client()
        .get(server.url(&format!(
            "/api/model/{}",
            stored["model_id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        model.status(),
        200,
        "reads need no token (ids are capabilities)"
    );
    let listing = client()
        .get(server.url("/api/viewers"))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 401, "listing viewer ids does");
    let with_query = client()
        .get(server.url("/api/viewers?token=s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_query.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_hosts_and_origins_are_refused() {
    let process = Process::start(&["--port", "0", "--allowed-host", "cad.example"], &[]);
    let server = process.server();
    let check = |host: &'static str, origin: Option<&'static str>| {
        let mut request = client().get(server.url("/health")).header("Host", host);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        request.send()
    };
    assert_eq!(check("evil.example", None).await.unwrap().status(), 403);
    assert_eq!(check("cad.example", None).await.unwrap().status(), 200);
    let refused = check("127.0.0.1", Some("https://evil.example"))
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let notebook = check("127.0.0.1", Some("http://localhost:8888"))
        .await
        .unwrap();
    assert_eq!(notebook.status(), 200);
    assert_eq!(
        notebook.headers()["access-control-allow-origin"],
        "http://localhost:8888"
    );
}

#[test]
fn a_busy_port_fails_with_a_helpful_message() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let output = Command::new(BIN).args(["--port", &port]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not listen on 127.0.0.1:") && stderr.contains("--port 0"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_are_explained() {
    let output = Command::new(BIN)
        .args(["--body-limit", "lots"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a size"), "{stderr}");

    // Stored models are read again with a nesting of 1024 at most: no setting may allow more.
    let output = Command::new(BIN)
        .args(["--max-depth", "5000"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--max-depth") && stderr.contains("1..=1024"),
        "{stderr}"
    );
}

#[test]
fn a_flag_before_a_command_that_would_ignore_it_is_refused_with_where_it_goes() {
    // `--exit-with-stdin` and no stdin: a server that did start would stop at once.
    let serve = ["--port", "6124", "serve", "--exit-with-stdin"];
    for args in [&serve[..], &["--token", "t", "sample"]] {
        let output = Command::new(BIN)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let flag = args[0];
        assert!(
            stderr.contains(&format!("{flag} is given before `{}`", args[2])),
            "{stderr}"
        );
        if args[2] == "serve" {
            assert!(stderr.contains("ocp-notebook serve --port"), "{stderr}");
        }
    }
}

#[test]
fn the_sample_command_writes_a_model() {
    let output = Command::new(BIN)
        .args(["sample", "--triangles", "1000"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let upload = ocp_notebook::model::parse_upload(output.stdout, &Default::default()).unwrap();
    assert_eq!(upload.summary.leaves, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_for_allowed_origins_only() {
    let process = Process::start(&["--port", "0"], &[]);
    let server = process.server();
    let preflight = |origin: &'static str| {
        client()
            .request(reqwest::Method::OPTIONS, server.url("/api/model"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:8888").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:8888"
    );
    assert!(allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_command_prints_the_document_the_server_serves() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["openapi"], "3.1.0");
    let server = Process::start(&[], &[]);
    let served: serde_json::Value = client()
        .get(format!("{}/api/openapi.json", server.base()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(printed, served);
}
