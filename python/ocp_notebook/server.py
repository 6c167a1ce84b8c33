"""Finding the server, or starting one.

1. `OCP_NOTEBOOK_URL` names a running server (`OCP_NOTEBOOK_TOKEN`, or `?token=` in the URL as
   the server prints it, for one that wants a token).
2. Otherwise the installed `ocp-notebook` binary is started on a free loopback port with
   `--exit-with-stdin`: `OCP_NOTEBOOK_BIN`, else the one this package's wheel installed (found
   through the wheel's own record, so it works in a venv that is not activated, as kernels
   often run), else on `PATH`, else in cargo's bin folder. This process
   keeps the child's stdin open for as long as it lives, so the server exits with the kernel,
   however the kernel ends. Its URL goes into `OCP_NOTEBOOK_URL`, where the Rust bridge in the
   same process would look too.

A server started here wants a token for writes (`OCP_NOTEBOOK_TOKEN` if set, else a fresh one,
passed in its environment, which other users cannot read): on a shared machine every local user
can reach every loopback port. Pages need none to follow and report; this process's requests
carry it.
"""

import os
import secrets
import shutil
import subprocess
import threading
import urllib.parse
from pathlib import Path

from .client import Client
from .errors import ServerStartError
from .version import own_distribution

URL_VAR = "OCP_NOTEBOOK_URL"
TOKEN_VAR = "OCP_NOTEBOOK_TOKEN"
BIN_VAR = "OCP_NOTEBOOK_BIN"

# The child servers this process started; kept so their stdin stays open (and for tests).
_children = []


def connect(url=None):
    """A client for the server at `url`, else the environment's, else a new child; checked by
    asking for `/health`."""
    url = url or os.environ.get(URL_VAR) or _remember(start_child(binary()))
    token = os.environ.get(TOKEN_VAR) or _token_in(url)
    client = Client(url.split("?")[0], token)
    client.get_json("/health")
    return client


def _remember(url):
    os.environ[URL_VAR] = url
    return url


def _token_in(url):
    query = urllib.parse.urlsplit(url).query
    values = urllib.parse.parse_qs(query).get("token")
    return values[0] if values else None


def binary():
    """The `ocp-notebook` binary to start."""
    if os.environ.get(BIN_VAR):
        return os.environ[BIN_VAR]
    found = wheel_binary() or shutil.which("ocp-notebook")
    if found:
        return found
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    return str(cargo_home / "bin" / "ocp-notebook")


def wheel_binary():
    """The binary that this package's wheel installed beside it (in the environment's scripts
    folder, wherever that is), or None for a package used from a clone."""
    dist = own_distribution()
    names = {"ocp-notebook", "ocp-notebook.exe"}
    for file in (dist.files or []) if dist is not None else []:
        if file.name in names:
            path = Path(file.locate()).resolve()
            if path.is_file():
                return str(path)
    return None


def start_child(path, timeout=30):
    """Starts the server binary at `path` on a free loopback port; answers its URL."""
    try:
        token = os.environ.get(TOKEN_VAR) or secrets.token_hex(16)
        child = subprocess.Popen(
            [path, "--port", "0", "--log", "off", "--exit-with-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, TOKEN_VAR: token},
        )
    except OSError as error:
        raise ServerStartError(
            f"{path} could not be run ({error}); the ocp_notebook wheel brings it (pip install "
            f"ocp_notebook), or set {BIN_VAR} to an ocp-notebook binary (cargo install "
            f"ocp_notebook), or {URL_VAR} to a running server"
        ) from None
    first = []
    reader = threading.Thread(target=lambda: first.append(child.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = first[0].decode().strip() if first else ""
    if not line.startswith("http"):
        code = child.poll()
        child.kill()
        if code is not None:
            raise ServerStartError(
                f"{path} exited (code {code}) before printing its URL; run it by hand to see why "
                "(an ocp-notebook older than the --exit-with-stdin flag cannot be used)"
            )
        raise ServerStartError(f"{path} did not print its URL within {timeout} s (got {line!r})")
    # Drain stdout for the child's whole life, so it can never block on a full pipe.
    threading.Thread(target=child.stdout.read, daemon=True).start()
    _children.append(child)
    return line
