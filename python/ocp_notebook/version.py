"""The package's version: Cargo.toml's, the one number the server, its pages and this bridge
report; and the installed wheel this copy of the package came from, if any.

maturin writes the version into the wheel's metadata. A clone used in place (the project's own
test environments put `python/` on the path) has none, and reads Cargo.toml beside the package.
"""

import re
from importlib import metadata
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def own_distribution():
    """The installed distribution whose files are this very package, or None: a clone used in
    place, an editable install, or another copy of `ocp_notebook` installed elsewhere on the
    path (whose version and binary are not this code's)."""
    try:
        dist = metadata.distribution("ocp_notebook")
        installed = Path(dist.locate_file("ocp_notebook/__init__.py")).resolve()
    except (metadata.PackageNotFoundError, OSError):
        return None
    return dist if installed == _HERE / "__init__.py" else None


def _version():
    dist = own_distribution()
    if dist is not None:
        return dist.version
    cargo = _HERE.parents[1] / "Cargo.toml"
    found = re.search(r'^version = "([^"]+)"', cargo.read_text(), re.M) if cargo.is_file() else None
    return found.group(1) if found else "0+unknown"


VERSION = _version()
