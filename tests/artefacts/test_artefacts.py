"""What users install, tested from the artefacts alone, on clean paths, with the tools a user
would not have hidden by stand-ins that fail (npm always; cargo and rustc for the wheel).

The README's Install section is run line by line: `release/build` makes the crate, the sdist and
the wheel in target/dist/; `pip install` puts the wheel into a fresh venv; `cargo install`
builds the unpacked crate. Then each is used as its user would: the installed server serves the
viewer; the crate, unpacked in a temporary folder, documents itself as docs.rs would and runs the
Rust quickstart in a real evcxr kernel (full and light mode); the wheel's venv, not activated,
runs the Python quickstart in a real ipykernel, and the pages draw in headless Chromium.

Run by `cargo test --test artefacts` (tests/artefacts.rs) in the project's test Python.
`OCP_NOTEBOOK_DIST_MADE=1` skips `release/build` and tests target/dist/ as it is.
"""

import html
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "target" / "dist"
# Release builds of the artefacts share one target folder, apart from the tests' own.
CARGO_TARGET = DIST / "target"
VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
# Where the crate carries the renderer (release/build lays it out as npm does).
BUNDLE = "web/vendor/three-cad-viewer/dist/three-cad-viewer.esm.min.js"
LIMIT_CRATES_IO = 10 * 1024 * 1024


def install_lines():
    """The commands the README's "Install" section shows, in order (comments dropped)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        lines += [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


def readme_lines(start):
    found = [line for line in install_lines() if line.startswith(start)]
    assert found, f"the README's Install section shows no `{start}` line"
    return found


def stand_ins(folder, tools):
    """A folder of programs named `tools` that say they are not installed and fail."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        path = folder / tool
        path.write_text(f'#!/bin/sh\necho "{tool}: not installed (hidden by the test)" >&2\nexit 127\n')
        path.chmod(0o755)
    return folder


def environment(hide, tmp, path_first=(), **values):
    """This process's environment with `hide` hidden, `path_first` first on PATH, no variable
    that would point the bridge at another server, binary or Python package, and `values` set."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCP_NOTEBOOK_") and k not in dropped}
    shims = stand_ins(tmp / ("hide-" + "-".join(hide)), hide)
    env["PATH"] = os.pathsep.join([str(shims), *map(str, path_first), env["PATH"]])
    env.update({k: str(v) for k, v in values.items()})
    return env


def run(command, env, cwd=ROOT, timeout=1800):
    """Runs a command (a README line is run by bash, as typed), failing with its output."""
    shell = isinstance(command, str)
    done = subprocess.run(
        ["bash", "-c", command] if shell else command, env=env, cwd=cwd, timeout=timeout,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout[-6000:]}"
    return done.stdout


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


class Server:
    """An `ocp-notebook` binary on a free loopback port."""

    def __init__(self, binary, env, patience=60):
        self.process = subprocess.Popen(
            [str(binary), "--port", "0", "--log", "off"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        waiting = selectors.DefaultSelector()
        waiting.register(self.process.stdout, selectors.EVENT_READ)
        ready = waiting.select(patience)
        self.url = self.process.stdout.readline().strip().split("?")[0].rstrip("/") if ready else ""
        if not self.url.startswith("http://127.0.0.1:"):
            self.close()
            pytest.fail(f"{binary} printed no URL within {patience} s: {self.url!r}")

    def close(self):
        self.process.kill()
        self.process.wait(timeout=30)


# ---- the artefacts, made and installed as the README says


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    """target/dist/, made by the README's `release/build` line (npm is needed there, once)."""
    if not os.environ.get("OCP_NOTEBOOK_DIST_MADE"):
        for line in readme_lines("release/build"):
            print(run(line, environment([], tmp_path_factory.mktemp("build")))[-1500:])
    return DIST


@pytest.fixture(scope="session")
def crate(dist):
    path = dist / f"ocp_notebook-{VERSION}.crate"
    assert path.is_file(), f"release/build made no {path.name}"
    return path


@pytest.fixture(scope="session")
def wheel(dist):
    wheels = sorted(dist.glob(f"ocp_notebook-{VERSION}-*.whl"))
    assert len(wheels) == 1, f"release/build should make one wheel: {wheels}"
    return wheels[0]


@pytest.fixture(scope="session")
def unpacked(crate, tmp_path_factory):
    """The crate unpacked on a clean path, far from the clone."""
    folder = tmp_path_factory.mktemp("crate")
    with tarfile.open(crate) as archive:
        archive.extractall(folder, filter="data")
    return with_new_times(folder) / f"ocp_notebook-{VERSION}"


@pytest.fixture(scope="session")
def installed(dist, tmp_path_factory):
    """`ocp-notebook` from the README's `cargo install` line, into a temporary root, npm hidden."""
    tmp = tmp_path_factory.mktemp("cargo-install")
    env = environment(["npm", "npx"], tmp, CARGO_INSTALL_ROOT=tmp / "root", CARGO_TARGET_DIR=CARGO_TARGET)
    for line in readme_lines("cargo install"):
        run(line, env)
    binary = tmp / "root" / "bin" / "ocp-notebook"
    assert binary.is_file(), f"cargo install made no {binary}"
    return binary


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory):
    """A fresh venv with the README's `pip install` line run in it (as if activated), with
    cargo, rustc and npm hidden: the wheel must need none of them."""
    tmp = tmp_path_factory.mktemp("wheel")
    venv = tmp / "venv"
    run(["python3", "-m", "venv", str(venv)], os.environ.copy())
    env = environment(["cargo", "rustc", "npm", "npx"], tmp, path_first=[venv / "bin"], VIRTUAL_ENV=venv)
    for line in readme_lines("pip install"):
        run(line, env)
    return venv


def with_new_times(folder):
    """`folder`, every file in it touched. Archives and copies keep old file times, and cargo
    judges a path crate fresh by times (its build unit does not depend on the folder): without
    this, a crate unpacked or copied anew could be taken for one built before in the shared
    target folder."""
    for path in folder.rglob("*"):
        path.touch()
    return folder


def notebook_away_from_the_clone(name, tmp):
    """A copy of notebooks/NAME in `tmp`: its kernel starts there, where nothing of the clone
    can be imported or found."""
    copy = tmp / "notebooks" / name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "notebooks" / name, copy)
    return copy


def not_activated(venv, tmp):
    """How many kernels run: the venv's python by full path, its bin/ not on PATH, and any
    other `ocp-notebook` on PATH or in cargo's folder failing, so only the wheel's can work."""
    hide = ["cargo", "rustc", "npm", "npx", "ocp-notebook"]
    env = environment(hide, tmp, CARGO_HOME=tmp / "no-cargo")
    assert str(venv / "bin") not in env["PATH"].split(os.pathsep)
    return env


# ---- the crate


def test_the_crate_carries_the_renderer_and_fits_crates_io(crate):
    with tarfile.open(crate) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for wanted in [
        BUNDLE, "web/vendor/three-cad-viewer/dist/three-cad-viewer.css",
        "web/vendor/three-cad-viewer/LICENSE", "web/vendor/three/LICENSE",
        "web/vendor/package-lock.json", "LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md",
        "templates/viewer.html.j2",
    ]:
        assert wanted in names, f"the crate lacks {wanted}"
    assert not [n for n in names if "node_modules" in n], "the crate carries node_modules"
    size = crate.stat().st_size
    print(f"\n  crate: {crate.name}, {size / 1024:.0f} KiB ({len(names)} files)")
    assert size < LIMIT_CRATES_IO


def listing(folder):
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_the_unpacked_crate_documents_itself_offline_as_docs_rs_does(unpacked, tmp_path):
    env = environment(["npm", "npx"], tmp_path, DOCS_RS=1, CARGO_TARGET_DIR=CARGO_TARGET)
    before = listing(unpacked)
    run(["cargo", "doc", "--offline", "--locked", "--no-deps"], env, cwd=unpacked)
    index = CARGO_TARGET / "doc" / "ocp_notebook" / "index.html"
    assert "Layout" in index.read_text(), "the crate's documentation has no Layout section"
    assert listing(unpacked) == before, "the build wrote into the crate's folder"


def test_a_package_whose_renderer_is_not_the_pinned_one_says_so(unpacked, tmp_path):
    """A package carries its renderer or fails: it never reaches for npm, nor takes a vendored
    renderer made from another lockfile."""
    stale = tmp_path / "crate"
    with_new_times(shutil.copytree(unpacked, stale))
    lock = stale / "web/vendor/package-lock.json"
    lock.write_text(lock.read_text().replace("three-cad-viewer", "three-cad-viewer-older", 1))
    env = environment(["npm", "npx"], tmp_path, CARGO_TARGET_DIR=CARGO_TARGET)
    done = subprocess.run(
        ["cargo", "check", "--offline", "--locked", "--lib"], env=env, cwd=stale,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
    )
    assert done.returncode != 0, "a package with a stale web/vendor/ built"
    assert "packaged without release/build" in done.stdout, done.stdout[-3000:]


def test_no_third_party_code_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "web/vendor", "web/node_modules", "web/**/*.min.js"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert tracked == [], f"committed third-party files: {tracked}"


def test_cargo_install_gives_a_server_that_serves_the_viewer(installed, tmp_path):
    env = environment(["npm", "npx"], tmp_path)
    assert run([str(installed), "--version"], env).strip() == f"ocp-notebook {VERSION}"
    server = Server(installed, env)
    try:
        assert json.loads(get(server.url + "/health"))["version"] == VERSION
        page = html.unescape(get(server.url + "/viewer/artefacts").decode())
        assert f'<meta name="generator" content="ocp_notebook {VERSION}">' in page
        modules = re.findall(r'"\.\./(static/[\w.-]+\?v=[0-9a-f]+)"', page)
        assert len(modules) >= 5, f"the page links too few files: {page}"
        for module in modules:
            assert get(f"{server.url}/{module}"), f"{module} is empty"
        renderer = get(server.url + "/static/three-cad-viewer.js")
        assert renderer == (ROOT / BUNDLE).read_bytes()
        licences = get(server.url + "/static/third-party-licenses.txt").decode()
        assert "three-cad-viewer" in licences and "three.js" in licences
        assert licences.count("Permission is hereby granted") == 2, licences
        assert "Swagger UI" in licences and "Apache License" in licences, licences
        # The API docs page: Swagger UI came along in the package, and the document with it.
        docs = html.unescape(get(server.url + "/api/docs").decode())
        for asset in re.findall(r'"\.\./(static/[\w.-]+\?v=[0-9a-f]+)"', docs):
            assert get(f"{server.url}/{asset}"), f"{asset} is empty"
        assert "swagger-ui.js" in docs, docs
        document = json.loads(get(server.url + "/api/openapi.json"))
        assert document["openapi"].startswith("3.1"), document["openapi"]
    finally:
        server.close()


def test_the_rust_quickstart_runs_on_the_unpacked_crate_in_evcxr(unpacked, installed, tmp_path):
    """Full mode (the server compiled into the kernel from the unpacked crate) and light mode
    (the bridge alone, against the `cargo install`ed server), npm hidden; pages drawn in
    Chromium by the runner."""
    env = environment(["npm", "npx"], tmp_path, OCP_NOTEBOOK_BIN=installed)
    out = run(
        [sys.executable, str(ROOT / "tests/notebook_runner.py"), "--crate", str(unpacked),
         str(notebook_away_from_the_clone("rust_quickstart.ipynb", tmp_path))],
        env, timeout=3600,
    )
    print(out)
    assert out.count("the page shows") == 2, out


# ---- the wheel


def test_the_sdist_carries_the_crate_the_renderer_and_the_bridge(dist):
    sdist = dist / f"ocp_notebook-{VERSION}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for wanted in ["pyproject.toml", "Cargo.toml", "build.rs", BUNDLE, "python/ocp_notebook/__init__.py"]:
        assert wanted in names, f"the sdist lacks {wanted}: {sorted(names)}"
    print(f"\n  sdist: {sdist.name}, {sdist.stat().st_size / 1024:.0f} KiB")


def test_the_wheel_holds_the_bridge_and_the_server(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert f"ocp_notebook-{VERSION}.data/scripts/ocp-notebook" in names, sorted(names)
    assert "ocp_notebook/__init__.py" in names and "ocp_notebook/__main__.py" in names
    print(f"\n  wheel: {wheel.name}, {wheel.stat().st_size / 1024 / 1024:.1f} MiB")


def test_one_version_everywhere(venv, tmp_path):
    env = not_activated(venv, tmp_path)
    python = str(venv / "bin" / "python")
    found = json.loads(run([python, "-c", (
        "import json, importlib.metadata as m, ocp_notebook\n"
        "from ocp_notebook import server\n"
        "print(json.dumps({'metadata': m.version('ocp_notebook'), 'module': ocp_notebook.__version__,"
        " 'file': ocp_notebook.__file__, 'binary': server.binary()}))"
    )], env, cwd=tmp_path))
    assert found["metadata"] == found["module"] == VERSION
    assert Path(found["file"]).resolve().is_relative_to(venv.resolve()), found
    assert found["binary"] == str((venv / "bin" / "ocp-notebook").resolve())
    assert run([python, "-m", "ocp_notebook", "--version"], env, cwd=tmp_path).strip() == f"ocp-notebook {VERSION}"
    server = Server(found["binary"], env)
    try:
        assert json.loads(get(server.url + "/health"))["version"] == VERSION
        assert f"ocp_notebook {VERSION}" in get(server.url + "/").decode()
    finally:
        server.close()


def test_the_python_quickstart_runs_from_the_wheel_in_a_venv_that_is_not_activated(venv, tmp_path):
    """The bridge finds the server its wheel installed: no OCP_NOTEBOOK_BIN, no cargo, no npm,
    no venv bin/ on PATH. The runner (nbclient) runs in the venv, so its kernel does too."""
    # The runner's own tools (the test extra, JupyterLab and Notebook 7 among them), not the bridge's.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    tools = [*extras["test"], "ocp_vscode"]
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *tools], os.environ.copy())
    env = not_activated(venv, tmp_path)
    out = run(
        [str(venv / "bin" / "python"), str(ROOT / "tests/notebook_runner.py"),
         str(notebook_away_from_the_clone("python_quickstart.ipynb", tmp_path))],
        env, timeout=3600,
    )
    print(out)
    assert "the page shows" in out, out


def test_every_readme_install_line_is_run_here():
    runners = ("release/build", "pip install", "cargo install")
    for line in install_lines():
        assert line.startswith(runners), f"the README's Install line `{line}` is not run by these tests"
    for start in runners:
        readme_lines(start)
