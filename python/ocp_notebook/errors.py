"""What can go wrong, worded for the person reading the cell's output."""

import json


class OcpNotebookError(Exception):
    """Any failure of the bridge."""


class ServerUnreachable(OcpNotebookError):
    """No server answers at the URL in use."""


class ServerStartError(OcpNotebookError):
    """The `ocp-notebook` binary could not be started."""


class ServerError(OcpNotebookError):
    """The server refused a request: `status`, its error `code`, `message` and JSON `path`."""

    def __init__(self, status, code, message, path=None):
        self.status, self.code, self.message, self.path = status, code, message, path
        where = f" at {path}" if path else ""
        super().__init__(f"the server refused the request ({status} {code}): {message}{where}")


class InvalidModel(ServerError):
    """The model is not one the viewer can draw; `path` says where (a JSON path)."""

    def __init__(self, status, code, message, path):
        super().__init__(status, code, message, path)
        self.args = (f"the model is invalid at {path}: {message}",)


class ViewerClosed(ServerError):
    """The server does not know the viewer (closed, collected, or the server restarted)."""


class NoPage(ServerError):
    """No page shows the viewer, so nothing can take a screenshot."""


# The server's error codes this bridge tells apart (every code is listed in the repository's
# tests/fixtures/wire.json, generated from the server's src/wire.rs; the tests check these
# against it).
MODEL_CODES = ("invalid", "malformed_json")
VIEWER_GONE_CODES = ("viewer_not_found", "viewer_deleted")
NO_PAGE_CODE = "no_page_answered"


def from_answer(status, body):
    """The server's `{"error": {code, message, path}}` answer as the matching exception."""
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code", "unknown")
    message = error.get("message") or body[:300].decode("utf-8", "replace")
    path = error.get("path")
    if code in MODEL_CODES and path and path.startswith("$"):
        return InvalidModel(status, code, message, path)
    if code in VIEWER_GONE_CODES:
        return ViewerClosed(status, code, message, path)
    if code == NO_PAGE_CODE:
        return NoPage(
            status, code,
            "no page is showing this viewer, so there is nothing to photograph; "
            "display the viewer (or open its URL) first",
        )
    return ServerError(status, code, message, path)
