"""Blocking HTTP to the server (standard library only), with its JSON errors as exceptions.

Uploads stream their body in chunks, so a big model is never copied into one more buffer, and
report progress for long ones.
"""

import http.client
import json
import sys
import time
import urllib.parse

from .errors import ServerUnreachable, from_answer

CHUNK = 1 << 20
# Uploads bigger than this report their progress when they take long (a line on stderr).
PROGRESS_FROM = 8 << 20


class Client:
    """One server: its base URL and the token every request carries, if any."""

    def __init__(self, base, token=None, timeout=120):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        parsed = urllib.parse.urlsplit(self.base)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ServerUnreachable(f"{base!r} is not an http:// URL of an ocp-notebook server")
        self._parsed = parsed

    def get_json(self, path):
        return json.loads(self.request("GET", path))

    def post_json(self, path, body=b"{}", progress=None):
        return json.loads(self.request("POST", path, body, progress=progress))

    def request(self, method, path, body=None, timeout=None, progress=None):
        """Sends one request; answers the body of a 2xx, raises the server's error otherwise."""
        parsed = self._parsed
        connection_type = (
            http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(parsed.hostname, parsed.port, timeout=timeout or self.timeout)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(body))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            connection.putrequest(method, parsed.path.rstrip("/") + path)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            if body is not None:
                _send(connection, body, progress)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise ServerUnreachable(
                f"the ocp_notebook server at {self.base} cannot be reached ({error}); if it was "
                "stopped, start it again or unset OCP_NOTEBOOK_URL to let the notebook start its own"
            ) from None
        finally:
            connection.close()
        if response.status >= 400:
            raise from_answer(response.status, answer)
        return answer


def _send(connection, body, progress):
    """Writes `body` in chunks, telling `progress(sent, total)` (or stderr, for big bodies)."""
    total = len(body)
    view = memoryview(body)
    if progress is None and total >= PROGRESS_FROM:
        progress = _stderr_progress()
    for start in range(0, total, CHUNK):
        connection.send(view[start:start + CHUNK])
        if progress:
            progress(min(start + CHUNK, total), total)


def _stderr_progress():
    """Progress on stderr (one line that rewrites itself), once an upload has taken a second."""
    started = time.monotonic()
    shown = [0.0]

    def report(sent, total):
        now = time.monotonic() - started
        done = sent >= total
        if now < 1.0 or (now - shown[0] < 0.25 and not done) or (done and not shown[0]):
            return
        shown[0] = now
        sys.stderr.write(f"\ruploading {sent / 1e6:.1f} / {total / 1e6:.1f} MB ({now:.1f} s)")
        sys.stderr.write("\n" if done else "")
        sys.stderr.flush()

    return report
