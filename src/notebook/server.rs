//! Finding the server a notebook talks to, or starting one.
//!
//! In order:
//! 1. `OCP_NOTEBOOK_URL` names a running server (with `OCP_NOTEBOOK_TOKEN` if it wants one).
//! 2. With the `server` feature (the default), a server inside the kernel process: its own
//!    thread and runtime, port 0, logging off, no signal handlers (a kernel interrupt is SIGINT).
//! 3. Without it (light mode), the installed `ocp-notebook` binary as a child process on a free
//!    port, told to exit when its standard input closes, which happens when the kernel exits.
//!
//! A server the bridge starts wants a token for writes (`OCP_NOTEBOOK_TOKEN` if set, else a fresh
//! one): on a shared machine every local user can reach every loopback port. Pages need none to
//! follow and report; the kernel's requests carry it.
//!
//! Once started, the server's URL (with `?token=`) goes into `OCP_NOTEBOOK_URL` of this process. That is the
//! process-wide handle: evcxr compiles every cell separately, each with its own copy of every
//! static, so a `static` would start a second server in the next cell; the environment is one.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::client::Client;
use super::Error;

/// A running server's base URL (set by the user, or by the bridge once it started one).
pub const URL_VAR: &str = "OCP_NOTEBOOK_URL";
/// The token for writes, when the server wants one (the server reads the same variable).
pub const TOKEN_VAR: &str = "OCP_NOTEBOOK_TOKEN";
/// The `ocp-notebook` binary light mode starts (else the one on `PATH`, else cargo's bin dir).
pub const BIN_VAR: &str = "OCP_NOTEBOOK_BIN";

/// How to reach a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Launch {
    /// `OCP_NOTEBOOK_URL` if set, else start one (in-process with the `server` feature, else a
    /// child process).
    #[default]
    Auto,
    /// The server at this URL.
    Url(String),
    /// Start the `ocp-notebook` binary as a child even when the crate could run one in-process.
    Child,
}

/// A client for the server `launch` asks for, after checking that it answers.
pub(crate) fn connect(launch: &Launch) -> Result<Client, Error> {
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
    let base = match launch {
        Launch::Url(url) => url.clone(),
        Launch::Auto => match std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => remember(start_default()?),
        },
        Launch::Child => match std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => remember(start_child(&binary())?),
        },
    };
    let token = token.or_else(|| token_in(&base));
    let client = Client::new(strip_query(&base), token);
    client.get_json("/health")?;
    Ok(client)
}

/// Keeps the URL where every later cell (and every later `Viewer::new()`) looks first.
fn remember(url: String) -> String {
    std::env::set_var(URL_VAR, &url);
    url
}

/// `http://127.0.0.1:5000/?token=...` as printed by the server, without the query.
fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url).trim_end_matches('/')
}

/// The token of a URL as the server prints it (`...?token=abc`).
fn token_in(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_string)
}

#[cfg(feature = "server")]
fn start_default() -> Result<String, Error> {
    start_in_process()
}

#[cfg(not(feature = "server"))]
fn start_default() -> Result<String, Error> {
    start_child(&binary())
}

/// A server on a free loopback port in this process. It runs until the process exits: the
/// handle is dropped on purpose (that detaches the thread), since no cell could use it later.
#[cfg(feature = "server")]
fn start_in_process() -> Result<String, Error> {
    let settings = crate::Settings {
        port: 0,
        token: Some(token_for_new_server()),
        ..crate::Settings::default()
    };
    let running = crate::server::spawn(settings).map_err(|err| Error::Start(err.to_string()))?;
    Ok(running.url().to_string())
}

/// The token a server started here gets: `OCP_NOTEBOOK_TOKEN` if set, else a fresh random one.
fn token_for_new_server() -> String {
    std::env::var(TOKEN_VAR)
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// The binary light mode starts.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os(BIN_VAR) {
        return PathBuf::from(path);
    }
    let name = "ocp-notebook";
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    let in_cargo_home = || {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin").join(name)).filter(|path| path.is_file())
    };
    on_path
        .or_else(in_cargo_home)
        .unwrap_or_else(|| name.into())
}

/// Starts `bin` on a free loopback port with `--exit-with-stdin` and answers its URL (the first
/// line it prints). Its standard input stays open for as long as this process lives, so it
/// exits with the kernel, however the kernel ends.
pub fn start_child(bin: &std::path::Path) -> Result<String, Error> {
    // The token goes in the environment, which other users cannot read (unlike arguments).
    let mut child = Command::new(bin)
        .args(["--port", "0", "--log", "off", "--exit-with-stdin"])
        .env(TOKEN_VAR, token_for_new_server())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| {
            Error::Start(format!(
                "{} could not be run ({err}); it was looked for in {BIN_VAR}, on PATH and in \
                 cargo's bin folder. Install it (`cargo install ocp_notebook`, or \
                 `pip install ocp_notebook`, whose wheel carries it), set {BIN_VAR} to its \
                 path before starting Jupyter, or set {URL_VAR} to a running server",
                bin.display()
            ))
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tell, told) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tell.send(lines.next());
        // Keep reading so the child can never block on a full pipe.
        for _ in lines {}
    });
    let url = match told.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(Ok(line))) if line.starts_with("http") => line.trim().to_string(),
        other => {
            let exited = child.try_wait().ok().flatten();
            let _ = child.kill();
            return Err(Error::Start(match exited {
                Some(status) => format!(
                    "{} exited ({status}) before printing its URL; run it by hand to see why \
                     (an ocp-notebook older than the --exit-with-stdin flag cannot be used)",
                    bin.display()
                ),
                None => format!("{} did not print its URL ({other:?})", bin.display()),
            }));
        }
    };
    // The write end of the child's stdin lives until this process exits; the child is never
    // waited for (it is reaped by init once the kernel is gone).
    std::mem::forget(child.stdin.take());
    std::mem::forget(child);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_urls_lose_their_token_query() {
        assert_eq!(
            strip_query("http://127.0.0.1:5000/?token=abc"),
            "http://127.0.0.1:5000"
        );
        assert_eq!(strip_query("http://h:1/"), "http://h:1");
        assert_eq!(
            token_in("http://h:1/?a=b&token=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(token_in("http://h:1/"), None);
    }

    #[test]
    fn a_missing_binary_says_how_to_get_one() {
        let err = start_child(std::path::Path::new("/nonexistent/ocp-notebook")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("cargo install ocp_notebook"), "{text}");
        assert!(text.contains("/nonexistent/ocp-notebook"), "{text}");
        assert!(text.contains(URL_VAR), "{text}");
    }
}
