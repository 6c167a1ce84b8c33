//! A cluster on loopback for the scale-out tests and benchmark: a `redis-server`, `ocp-notebook`
//! instances sharing it (`--store redis://...`), and `nginx` in front of them (round robin,
//! buffering off so event streams flow). Every process is this test's child and dies with it.
#![allow(dead_code)] // the tests and the benchmark use different parts

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::processes::{first_line, tool, wait_for_port};
#[allow(unused_imports)] // each test binary and the benchmark use their own subset
pub use crate::common::processes::{free_port, redis, Process};

/// nginx's master process, stopped with SIGTERM when dropped: SIGKILL would leave its workers
/// running (and holding the test's output open).
pub struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One `ocp-notebook` on a free port sharing the store at `redis_port` (keys under `prefix`).
pub fn instance(redis_port: u16, prefix: &str, extra: &[&str]) -> (Process, String) {
    let store = format!("redis://127.0.0.1:{redis_port}");
    let mut args = vec!["--store", &store, "--store-prefix", prefix];
    args.extend_from_slice(extra);
    server(&args)
}

/// `ocp-notebook` on a free port with `args`; answers its base URL (the first line it prints).
pub fn server(args: &[&str]) -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocp-notebook"))
        .args(["--port", "0", "--log", "warn"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("ocp-notebook starts");
    let line = first_line(&mut child);
    drop(child.stdout.take()); // the URL is all a server prints there
    assert!(line.starts_with("http"), "the server printed {line:?}");
    // The base URL, without the `?token=` a server with a token prints.
    let base = line.split('?').next().unwrap_or_default();
    (Process(child), base.trim_end_matches('/').to_string())
}

/// nginx on a free port, round robin over `upstreams` (base URLs); answers its base URL.
pub fn nginx(upstreams: &[String]) -> (Nginx, String, tempdir::Dir) {
    let dir = tempdir::Dir::new("ocp-notebook-nginx");
    let port = free_port();
    let servers: String = upstreams
        .iter()
        .map(|base| {
            let address = base.trim_start_matches("http://");
            format!("    server {address} max_fails=1 fail_timeout=1s;\n")
        })
        .collect();
    let path = dir.path.display();
    let config = format!(
        "daemon off;\nuser root;\nworker_processes 1;\npid {path}/nginx.pid;\n\
         error_log {path}/error.log warn;\nevents {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {path}/body;\n  proxy_temp_path {path}/proxy;\n\
         fastcgi_temp_path {path}/fcgi;\n  uwsgi_temp_path {path}/uwsgi;\n  scgi_temp_path {path}/scgi;\n\
         upstream cluster {{\n{servers}  }}\n\
         server {{\n    listen 127.0.0.1:{port};\n    client_max_body_size 300m;\n\
             location / {{\n      proxy_pass http://cluster;\n      proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n      proxy_set_header Host $http_host;\n\
               proxy_buffering off;\n      proxy_request_buffering off;\n      proxy_read_timeout 1h;\n\
               proxy_next_upstream error timeout;\n      proxy_connect_timeout 2s;\n    }}\n  }}\n}}\n"
    );
    let file = dir.path.join("nginx.conf");
    std::fs::write(&file, config).unwrap();
    let child = Command::new(tool("nginx"))
        .arg("-c")
        .arg(&file)
        .arg("-p")
        .arg(&dir.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    wait_for_port(port, "nginx");
    (Nginx(child), format!("http://127.0.0.1:{port}"), dir)
}

/// A folder removed when dropped.
pub mod tempdir {
    use std::path::PathBuf;

    pub struct Dir {
        pub path: PathBuf,
    }

    impl Dir {
        pub fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!("{name}-{}", uuid_like()));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }

    fn uuid_like() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{}-{nanos}", std::process::id())
    }
}
