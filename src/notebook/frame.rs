//! Where the notebook's browser finds the viewer page, and the HTML a cell shows.
//!
//! The kernel talks to the server over loopback, but the iframe is loaded by the browser showing
//! the notebook, which may be elsewhere:
//!
//! 1. `OCP_NOTEBOOK_FRAME_URL`, a template with `{port}` and `{path}` (e.g.
//!    `https://lab.example.org/user/me/proxy/{port}/{path}`), for setups no rule detects: SSH
//!    tunnels, reverse proxies with TLS, Colab.
//! 2. Under JupyterHub (`JUPYTERHUB_SERVICE_PREFIX` set), jupyter-server-proxy's path:
//!    `{prefix}proxy/{port}/{path}`. The page's own URLs are relative, so it works there as is.
//! 3. Otherwise the server's own URL, `http://127.0.0.1:{port}/{path}`.

use crate::html::escape;

/// The environment variable holding a URL template (rule 1).
pub const FRAME_URL_VAR: &str = "OCP_NOTEBOOK_FRAME_URL";
/// Set by JupyterHub in every single-user server (rule 2).
pub const HUB_PREFIX_VAR: &str = "JUPYTERHUB_SERVICE_PREFIX";

/// How the viewer looks in its cell: the frame's size and the page's display settings (sent as
/// the page URL's query options).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameOptions {
    /// CSS width of the frame, e.g. `"100%"` or `"800px"`.
    pub width: String,
    /// Height of the frame in CSS pixels.
    pub height: u32,
    /// `light`, `dark` or `browser` (follows the reader's system).
    pub theme: Option<String>,
    pub tree_width: Option<u32>,
    /// The tree floats over the view (`true`) or sits beside it.
    pub glass: Option<bool>,
    /// Show the toolbar and tree.
    pub tools: Option<bool>,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            width: "100%".into(),
            height: 480,
            theme: None,
            tree_width: None,
            glass: None,
            tools: None,
        }
    }
}

impl FrameOptions {
    /// The page path with its query options, relative to the server root.
    pub fn page_path(&self, viewer_id: &str) -> String {
        let mut query = Vec::new();
        if let Some(theme) = &self.theme {
            query.push(format!("theme={}", encode(theme)));
        }
        if let Some(width) = self.tree_width {
            query.push(format!("tree_width={width}"));
        }
        if let Some(glass) = self.glass {
            query.push(format!("glass={glass}"));
        }
        if let Some(tools) = self.tools {
            query.push(format!("tools={tools}"));
        }
        match query.is_empty() {
            true => format!("viewer/{viewer_id}"),
            false => format!("viewer/{viewer_id}?{}", query.join("&")),
        }
    }
}

/// The URL the notebook's browser loads for `path` on the server at `server_url`, by the rules
/// above; `env` reads the environment (a parameter so that tests need not change it).
pub fn frame_url(server_url: &str, path: &str, env: impl Fn(&str) -> Option<String>) -> String {
    let port = port_of(server_url);
    if let Some(template) = env(FRAME_URL_VAR) {
        let template = template.trim();
        if !template.is_empty() {
            return template.replace("{port}", &port).replace("{path}", path);
        }
    }
    if let Some(prefix) = env(HUB_PREFIX_VAR).filter(|p| !p.is_empty()) {
        let prefix = prefix.trim_end_matches('/');
        return format!("{prefix}/proxy/{port}/{path}");
    }
    format!("{}/{path}", server_url.trim_end_matches('/'))
}

/// The port of `http://host:port[/...]`, or the scheme's default (also for a port of 0 or
/// one that is no number).
fn port_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let port = authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .filter(|port| *port != 0);
    match port {
        Some(port) => port.to_string(),
        None if scheme.eq_ignore_ascii_case("https") => "443".into(),
        None => "80".into(),
    }
}

/// The cell's HTML: the live frame, and a line under it that still says what was there when
/// the notebook is reopened without its server.
pub fn iframe_html(url: &str, viewer_id: &str, options: &FrameOptions) -> String {
    let (url, id) = (escape(url), escape(viewer_id));
    framed(
        "ocp-notebook",
        &id,
        &format!("src=\"{url}\" title=\"ocp_notebook viewer {id}\" loading=\"eager\""),
        options,
        &format!(
            "ocp_notebook viewer <code>{id}</code> &middot; <a href=\"{url}\" target=\"_blank\" \
             rel=\"noopener\">open in a tab</a> &middot; live while its server runs"
        ),
    )
}

/// A frame in a cell: the `<iframe>` with `attributes` (escaped, its source first), the
/// options' size, and a caption line under it that a saved notebook keeps readable.
fn framed(
    class: &str,
    id: &str,
    attributes: &str,
    options: &FrameOptions,
    caption: &str,
) -> String {
    format!(
        "<div class=\"{class}\" data-viewer-id=\"{id}\"><iframe {attributes} width=\"{width}\" \
         height=\"{height}\" style=\"border: 1px solid #ccc; border-radius: 4px;\"></iframe>\
         <div style=\"font: 12px sans-serif; color: #888;\">{caption}</div></div>",
        width = escape(&options.width),
        height = options.height,
    )
}

/// Percent-encodes a query value (only what a theme name could need).
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases both notebook bridges' tests read (`tests/fixtures/rules.json`).
    fn rules() -> serde_json::Value {
        serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rules.json"
        )))
        .unwrap()
    }

    #[test]
    fn page_paths_follow_the_rule_the_bridges_share() {
        for case in rules()["page_paths"].as_array().unwrap() {
            let options = &case["options"];
            let frame = FrameOptions {
                theme: options["theme"].as_str().map(str::to_string),
                tree_width: options["tree_width"].as_u64().map(|w| w as u32),
                glass: options["glass"].as_bool(),
                tools: options["tools"].as_bool(),
                ..FrameOptions::default()
            };
            let viewer = case["viewer"].as_str().unwrap();
            assert_eq!(frame.page_path(viewer), case["path"], "{case}");
        }
    }

    #[test]
    fn frame_urls_follow_the_rules_the_bridges_share() {
        for case in rules()["frame_urls"].as_array().unwrap() {
            let vars = case["env"].as_object().unwrap();
            let env = |name: &str| vars.get(name).and_then(|v| v.as_str()).map(str::to_string);
            let url = frame_url(
                case["server"].as_str().unwrap(),
                case["path"].as_str().unwrap(),
                env,
            );
            assert_eq!(url, case["url"], "{case}");
        }
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn loopback_by_default() {
        let url = frame_url("http://127.0.0.1:41234", "viewer/v1", env(&[]));
        assert_eq!(url, "http://127.0.0.1:41234/viewer/v1");
    }

    #[test]
    fn jupyterhub_goes_through_the_server_proxy() {
        let vars = [(HUB_PREFIX_VAR, "/user/ada/")];
        let url = frame_url(
            "http://127.0.0.1:41234/",
            "viewer/v1?theme=dark",
            env(&vars),
        );
        assert_eq!(url, "/user/ada/proxy/41234/viewer/v1?theme=dark");
    }

    #[test]
    fn a_template_wins_over_everything() {
        let vars = [
            (HUB_PREFIX_VAR, "/user/ada/"),
            (
                FRAME_URL_VAR,
                "https://cad.example.org:8443/p/{port}/{path}",
            ),
        ];
        let url = frame_url("http://127.0.0.1:5000", "viewer/v1", env(&vars));
        assert_eq!(url, "https://cad.example.org:8443/p/5000/viewer/v1");
        let blank = [(FRAME_URL_VAR, " ")];
        let url = frame_url("http://127.0.0.1:5000", "viewer/v1", env(&blank));
        assert_eq!(url, "http://127.0.0.1:5000/viewer/v1");
    }

    #[test]
    fn ports_of_urls_without_one() {
        assert_eq!(port_of("https://example.org/x"), "443");
        assert_eq!(port_of("http://example.org"), "80");
        assert_eq!(port_of("http://[::1]:8080/"), "8080");
    }

    #[test]
    fn page_options_become_query_options() {
        let options = FrameOptions {
            theme: Some("dark".into()),
            tree_width: Some(300),
            glass: Some(false),
            tools: Some(true),
            ..FrameOptions::default()
        };
        assert_eq!(
            options.page_path("v1"),
            "viewer/v1?theme=dark&tree_width=300&glass=false&tools=true"
        );
        assert_eq!(FrameOptions::default().page_path("v1"), "viewer/v1");
    }

    #[test]
    fn the_cell_html_escapes_what_it_shows() {
        let html = iframe_html(
            "http://x/viewer/a?b=1&c=\"><script>",
            "a",
            &FrameOptions::default(),
        );
        assert!(html.contains("src=\"http://x/viewer/a?b=1&amp;c=&quot;&gt;&lt;script&gt;\""));
        assert!(!html.contains("<script>"));
        assert!(html.contains("height=\"480\""));
    }
}
