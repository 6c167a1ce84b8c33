"""Makes the running Python (a venv of the tests) a development environment of the bridge:
installs the package's own dependencies with its test and CAD extras, as pyproject.toml lists
them, plus the packages named as arguments, and puts the clone's `python/` on the path (a .pth
file), so the tests import the bridge being edited without building the wheel and its server.

    target/venv/bin/python tests/python_env.py build123d ocp_vscode
"""

import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
extras = project["optional-dependencies"]
packages = [*project["dependencies"], *extras["test"], *extras["cad"], *sys.argv[1:]]
# An installed copy of the package (an old editable install, a wheel) would shadow the clone's.
subprocess.run(
    [sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "ocp_notebook"],
    check=True, stderr=subprocess.DEVNULL,
)
subprocess.run(
    [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
    check=True,
)
site = Path(sysconfig.get_path("purelib"))
(site / "ocp_notebook_clone.pth").write_text(f"{ROOT / 'python'}\n")
