"""The package's version: Cargo.toml's, the one number the server, its pages and this bridge
report.

maturin writes it into the installed wheel's metadata. A clone used in place (the project's
own test environments put `python/` on the path) has no metadata, and reads Cargo.toml beside
the package instead.
"""

import re
from importlib import metadata
from pathlib import Path


def _version():
    try:
        return metadata.version("ocp_notebook")
    except metadata.PackageNotFoundError:
        cargo = Path(__file__).resolve().parents[2] / "Cargo.toml"
        found = re.search(r'^version = "([^"]+)"', cargo.read_text(), re.M) if cargo.is_file() else None
        return found.group(1) if found else "0+unknown"


VERSION = _version()
