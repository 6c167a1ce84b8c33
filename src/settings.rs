//! Server settings: one struct for the CLI (`ocp-notebook serve --...`), the environment
//! (`OCP_NOTEBOOK_*`) and library users (the notebook bridge starts a server in-process).

use std::net::IpAddr;
use std::time::Duration;

use clap::{Args, FromArgMatches};
use rocket::data::ByteUnit;

use crate::hub::HubLimits;
use crate::model::Limits;

/// Everything a server needs to know. `Settings::default()` is what `ocp-notebook` runs with
/// when given no flags and no environment: loopback only, port 5000, no token.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to bind. Anything but loopback turns on a token (generated unless given).
    #[arg(long, env = "OCP_NOTEBOOK_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to bind; 0 picks a free one. The URL is the first line printed on stdout.
    #[arg(long, env = "OCP_NOTEBOOK_PORT", default_value_t = 5000)]
    pub port: u16,

    /// Token that every write must carry (`Authorization: Bearer <token>` or `?token=`).
    #[arg(long, env = "OCP_NOTEBOOK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Extra Host header names to accept (IP literals, `localhost` and `*.localhost` always are;
    /// `*` accepts any). Protects against DNS rebinding.
    #[arg(
        long = "allowed-host",
        env = "OCP_NOTEBOOK_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Extra origins (`scheme://host[:port]`) allowed to call the API from a browser (same-origin
    /// and loopback origins always are; `*` allows any).
    #[arg(
        long = "allowed-origin",
        env = "OCP_NOTEBOOK_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Who may frame the viewer pages (a CSP `frame-ancestors` source list). Defaults to pages
    /// on loopback and VS Code's notebook views, and to this server alone when bound beyond it.
    #[arg(long, env = "OCP_NOTEBOOK_FRAME_ANCESTORS")]
    pub frame_ancestors: Option<String>,

    /// Largest request body accepted (models are uploaded whole).
    #[arg(long, env = "OCP_NOTEBOOK_BODY_LIMIT", value_parser = parse_bytes, default_value = "256MiB")]
    pub body_limit: ByteUnit,

    /// Memory budget for stored models; the oldest models are evicted first beyond it.
    #[arg(long, env = "OCP_NOTEBOOK_MODEL_MEMORY", value_parser = parse_bytes, default_value = "2GiB")]
    pub model_memory: ByteUnit,

    /// Models up to this size travel inside their `model_update` event (no second request).
    #[arg(long, env = "OCP_NOTEBOOK_INLINE_LIMIT", value_parser = parse_bytes, default_value = "256KiB")]
    pub inline_limit: ByteUnit,

    /// Largest settings object: a status report or config change, one viewer's merged status or
    /// config, a model's config, the server-wide defaults (JSON bytes).
    #[arg(long, env = "OCP_NOTEBOOK_SETTINGS_LIMIT", value_parser = parse_bytes, default_value = "256KiB")]
    pub settings_limit: ByteUnit,

    /// Largest screenshot a page may upload (PNG bytes); the newest 32 are kept.
    #[arg(long, env = "OCP_NOTEBOOK_SCREENSHOT_LIMIT", value_parser = parse_bytes, default_value = "4MiB")]
    pub screenshot_limit: ByteUnit,

    /// Largest thumbnail (a viewer's last drawn frame, for `/viewers`) a page may post; one is
    /// kept per viewer.
    #[arg(long, env = "OCP_NOTEBOOK_THUMBNAIL_LIMIT", value_parser = parse_bytes, default_value = "64KiB")]
    pub thumbnail_limit: ByteUnit,

    /// Most viewers at once; a new one beyond it is refused (429) until others are deleted or
    /// collected. Viewers only pages ever used may take half of it, and are collected a minute
    /// after their last page left.
    #[arg(long, env = "OCP_NOTEBOOK_MAX_VIEWERS", default_value_t = 512)]
    pub max_viewers: usize,

    /// Most event streams (pages) this server holds open at once.
    #[arg(long, env = "OCP_NOTEBOOK_MAX_PAGES", default_value_t = 4096)]
    pub max_pages: usize,

    /// Most groups and leaves one model may have.
    #[arg(long, env = "OCP_NOTEBOOK_MAX_PARTS", default_value_t = 200_000)]
    pub max_parts: usize,

    /// Deepest nesting of groups one model may have (at most 1024, the nesting every stored
    /// model is read with).
    #[arg(long, env = "OCP_NOTEBOOK_MAX_DEPTH", default_value_t = 48,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
              .range(1..=crate::model::DEEPEST as u64))]
    pub max_depth: usize,

    /// Where the state lives: `memory` (this process), or `redis://HOST:PORT[/DB]` to share it
    /// with other instances behind a load balancer (needs the `redis` feature).
    #[arg(long, env = "OCP_NOTEBOOK_STORE", default_value = "memory")]
    pub store: String,

    /// Prefix of every key in a shared store (instances of one cluster share it).
    #[arg(
        long,
        env = "OCP_NOTEBOOK_STORE_PREFIX",
        default_value = "ocp_notebook:"
    )]
    pub store_prefix: String,

    /// Versions (pushed models) kept per viewer for its history, within --model-memory: older
    /// ones go first, the one on screen never. Parts the versions share are kept once.
    #[arg(long, env = "OCP_NOTEBOOK_HISTORY", default_value_t = 32)]
    pub history: usize,

    /// Events kept per viewer for replay to reconnecting pages (`Last-Event-ID`).
    #[arg(long, env = "OCP_NOTEBOOK_EVENT_HISTORY", default_value_t = 256)]
    pub event_history: usize,

    /// Seconds after which a viewer with no page attached and no activity is collected.
    #[arg(long, env = "OCP_NOTEBOOK_VIEWER_IDLE_SECS", default_value_t = 6 * 3600)]
    pub viewer_idle_secs: u64,

    /// Seconds a request body may stop arriving before the request gets 408.
    #[arg(long, env = "OCP_NOTEBOOK_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// Seconds between SSE keep-alive comments.
    #[arg(long, env = "OCP_NOTEBOOK_HEARTBEAT_SECS", default_value_t = 15)]
    pub heartbeat_secs: u64,

    /// Seconds `POST /api/viewer/<id>/screenshot` waits for a page to answer.
    #[arg(
        long,
        env = "OCP_NOTEBOOK_SCREENSHOT_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub screenshot_timeout_secs: u64,

    /// Log filter, written to stderr: a level (`info`, `debug`), or targets with levels
    /// (`info,ocp_notebook=debug,rocket=warn`).
    #[arg(long, env = "OCP_NOTEBOOK_LOG", default_value = "info")]
    pub log: String,

    /// Stop when standard input closes: a parent that ends (a notebook kernel running this
    /// server as its child) takes the server with it, however it ends.
    #[arg(long)]
    pub exit_with_stdin: bool,
}

impl Default for Settings {
    /// The documented defaults of the flags above, ignoring the environment: a library user
    /// (the notebook bridge) should not pick up a shell's `OCP_NOTEBOOK_PORT` by accident.
    fn default() -> Self {
        let command = Settings::augment_args(clap::Command::new("ocp-notebook"))
            .mut_args(|arg| arg.env(None::<&str>));
        let matches = command.get_matches_from(["ocp-notebook"]);
        Settings::from_arg_matches(&matches).expect("the flag defaults parse")
    }
}

impl Settings {
    /// Whether the server is reachable from other machines.
    pub fn is_exposed(&self) -> bool {
        !self.host.is_loopback()
    }

    /// Makes the settings safe to serve with: a server bound beyond loopback without a token gets
    /// a random one (printed in its URL, as Jupyter does). Returns whether one was generated.
    pub fn generate_token_if_exposed(&mut self) -> bool {
        if self.token.as_deref().is_some_and(|t| !t.is_empty()) || !self.is_exposed() {
            return false;
        }
        self.token = Some(uuid::Uuid::new_v4().simple().to_string());
        true
    }

    /// What an uploaded model may hold.
    pub fn model_limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_nodes: self.max_parts,
            ..Limits::default()
        }
    }

    /// The effective `frame-ancestors` source list.
    pub fn frame_ancestors(&self) -> String {
        match &self.frame_ancestors {
            Some(list) => list.clone(),
            None if self.is_exposed() => "'self'".into(),
            None => LOOPBACK_ANCESTORS.into(),
        }
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs.max(1))
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    pub fn viewer_idle(&self) -> Duration {
        Duration::from_secs(self.viewer_idle_secs)
    }

    pub fn screenshot_timeout(&self) -> Duration {
        Duration::from_secs(self.screenshot_timeout_secs)
    }
}

/// Pages that may frame a loopback server's viewers: any port of a loopback name (a local
/// Jupyter), and VS Code's webviews (its notebooks show outputs in one). CSP has no way to name
/// an IPv6 address, so a notebook at `[::1]` needs `--frame-ancestors`.
const LOOPBACK_ANCESTORS: &str = "'self' http://localhost:* http://127.0.0.1:* \
     https://localhost:* https://127.0.0.1:* http://*.localhost:* vscode-webview:";

/// Parses a size such as `256MiB`, `1.5 GB` or `65536`.
fn parse_bytes(text: &str) -> Result<ByteUnit, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size: expected e.g. 256MiB, 2GiB or 65536"))
}

impl Settings {
    /// The hub's bounds, as the flags set them.
    pub fn hub_limits(&self) -> HubLimits {
        HubLimits {
            model_budget: self.model_memory.as_u64() as usize,
            history: self.history.max(1),
            event_history: self.event_history.max(1),
            inline_limit: self.inline_limit.as_u64() as usize,
            settings_bytes: self.settings_limit.as_u64() as usize,
            max_viewers: self.max_viewers.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_without_a_token() {
        let mut settings = Settings::default();
        assert_eq!(settings.host.to_string(), "127.0.0.1");
        assert_eq!(settings.port, 5000);
        assert_eq!(settings.body_limit, ByteUnit::Mebibyte(256));
        assert!(!settings.generate_token_if_exposed());
        assert!(settings.token.is_none());
    }

    #[test]
    fn an_exposed_server_gets_a_token_unless_it_has_one() {
        let mut exposed = Settings {
            host: "0.0.0.0".parse().unwrap(),
            ..Settings::default()
        };
        assert!(exposed.generate_token_if_exposed());
        assert_eq!(exposed.token.as_ref().map(String::len), Some(32));
        let mut chosen = Settings {
            token: Some("mine".into()),
            ..exposed.clone()
        };
        assert!(!chosen.generate_token_if_exposed());
        assert_eq!(chosen.token.as_deref(), Some("mine"));
    }

    #[test]
    fn sizes_parse_in_the_usual_units() {
        assert_eq!(parse_bytes("256MiB").unwrap(), ByteUnit::Mebibyte(256));
        assert_eq!(parse_bytes("65536").unwrap(), ByteUnit::Byte(65536));
        assert!(parse_bytes("lots").unwrap_err().contains("not a size"));
    }
}
