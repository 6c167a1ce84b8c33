"""Where the notebook's browser finds the viewer page, and the HTML a cell shows.

The same rules as the Rust bridge (`src/notebook/frame.rs`):

1. `OCP_NOTEBOOK_FRAME_URL`, a template with `{port}` and `{path}`, for setups no rule detects.
2. Under JupyterHub (`JUPYTERHUB_SERVICE_PREFIX`), jupyter-server-proxy: `{prefix}proxy/{port}/{path}`.
3. Otherwise the server's own URL.
"""

import html
import os
import urllib.parse

FRAME_URL_VAR = "OCP_NOTEBOOK_FRAME_URL"
HUB_PREFIX_VAR = "JUPYTERHUB_SERVICE_PREFIX"


def page_path(viewer_id, theme=None, tree_width=None, glass=None, tools=None):
    """The page's path and query options, relative to the server root."""
    query = []
    if theme is not None:
        query.append(("theme", urllib.parse.quote(str(theme), safe="")))
    if tree_width is not None:
        query.append(("tree_width", int(tree_width)))
    for name, flag in (("glass", glass), ("tools", tools)):
        if flag is not None:
            query.append((name, "true" if flag else "false"))
    path = f"viewer/{viewer_id}"
    return f"{path}?{'&'.join(f'{k}={v}' for k, v in query)}" if query else path


def frame_url(server_url, path, environ=None):
    """The URL the notebook's browser loads for `path` on the server at `server_url`."""
    environ = os.environ if environ is None else environ
    port = _port_of(server_url)
    template = environ.get(FRAME_URL_VAR, "").strip()
    if template:
        return template.replace("{port}", port).replace("{path}", path)
    prefix = environ.get(HUB_PREFIX_VAR)
    if prefix:
        return f"{prefix.rstrip('/')}/proxy/{port}/{path}"
    return f"{server_url.rstrip('/')}/{path}"


def _port_of(url):
    """The URL's port, or its scheme's default (also for a port of 0 or one that is no number)."""
    parsed = urllib.parse.urlsplit(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    return str(port or (443 if parsed.scheme == "https" else 80))


def iframe_html(url, viewer_id, width="100%", height=480):
    """The live frame, and a line under it that still says what was there when the notebook is
    reopened without its server."""
    url, viewer_id = html.escape(url), html.escape(viewer_id)
    return _framed(
        "ocp-notebook", viewer_id, f'src="{url}" title="ocp_notebook viewer {viewer_id}"', width, height,
        f"ocp_notebook viewer <code>{viewer_id}</code> "
        f'&middot; <a href="{url}" target="_blank" rel="noopener">open in a tab</a> '
        "&middot; live while its server runs",
    )


def _framed(css_class, viewer_id, attributes, width, height, caption):
    """A frame in a cell: the `<iframe>` with `attributes` (escaped, its source first), its size,
    and a caption line under it that a saved notebook keeps readable."""
    return (
        f'<div class="{css_class}" data-viewer-id="{viewer_id}"><iframe {attributes} '
        f'width="{html.escape(str(width))}" height="{int(height)}" '
        'style="border: 1px solid #ccc; border-radius: 4px;"></iframe>'
        f'<div style="font: 12px sans-serif; color: #888;">{caption}</div></div>'
    )


def grid_html(frames):
    """Frames in a grid of columns at least 360 px wide, as the Rust bridge's `notebook::grid`."""
    return (
        '<div class="ocp-notebook-grid" style="display: grid; '
        "grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); "
        f'gap: 8px;">{"".join(frames)}</div>'
    )
