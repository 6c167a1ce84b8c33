"""Runs the notebooks in notebooks/ with real kernels and checks what a reader would see.

What each cell must show is in its metadata, `ocp_notebook_test` (invisible to readers):
`{"viewer": true}` (shows exactly one viewer's iframe), `{"viewers": N}` (shows N iframes side
by side, each on a viewer holding a model), `{"parts": [...]}` (the server stores a model with
exactly these leaf parts), `{"text": [...]}` (the cell's text output holds each string),
`{"status": true}`, `{"screenshot": true}`, `{"scene": true}` (the output holds the scene
itself, as a script that draws it in an `<iframe srcdoc>`, and a PNG of the page, and no HTML);
the notebook's own metadata names the colour the final scene must show. A notebook with a scene
cell is then read as others will read it, with its kernel and server stopped, each opened in
headless Chromium:

- `jupyter nbconvert --to html`, from file:// with every network request blocked
  (web/test/offline.mjs): the scene in it draws the model;
- `--to markdown`: the image is a PNG file beside the Markdown, which links it;
- for Python notebooks (whose kernel shows the PNG as an output of its own), `--sanitize-html`:
  the cell shows the model as an image, and no scene;
- for Python notebooks, JupyterLab and Notebook 7 of a second Jupyter server with its own notary
  secret, as a notebook someone sent you (web/test/frontend.mjs): untrusted, the cell shows the
  image; after `jupyter trust` on that server, the scene draws and no image shows.

Rust notebooks run twice: in full mode (the server inside the kernel, the `:dep` line on this
clone or on the crate given with --crate), then in light mode (`default-features = false` added to the `:dep` line) against a server started here and
named by `OCP_NOTEBOOK_URL` and `OCP_NOTEBOOK_TOKEN`, as a notebook on a shared server would.

    python3 tests/notebook_runner.py                  every notebook, the README's examples, panics
    python3 tests/notebook_runner.py NOTEBOOK...      just these notebooks
    python3 tests/notebook_runner.py --crate DIR NOTEBOOK...
                                                      `:dep ocp_notebook` on the crate unpacked in DIR

Each notebook runs cell by cell with nbclient in its own kernel (evcxr for Rust, with panics made
errors). When a cell shows a viewer, its iframe URL is opened in headless Chromium
(web/test/follow.mjs), as the notebook's browser would, so the page reports status and answers
screenshots. Checked: no cell fails; the viewer's iframe is in its cell's output; every model a
cell pushed is stored on the server with the parts the cell put in it; the screenshot is a PNG;
and finally the page shows the last scene. The README's Rust and Python examples run the same way, as cells in the order they stand.
Then, with evcxr's default of catching panics, a
panicking cell must leave the kernel-side server running and findable from later cells.
Prints each cell's time (the `:dep` cell's is the
crate's compile time in the kernel). The executed notebooks are kept in target/notebooks/.
"""

import argparse
import base64
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
# Kernel per notebook language: evcxr's for Rust, this interpreter's ipykernel for Python.
KERNELS = {"rust": "rust", "python3": "python3", "python": "python3"}
# Where Rust notebooks take the crate from: this clone, or the published crate unpacked
# somewhere (--crate).
CRATE = {"path": str(ROOT)}


def fail(message):
    raise AssertionError(message)


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def leaf_names(node):
    if "parts" in node:
        return [name for part in node["parts"] for name in leaf_names(part)]
    return [node["name"]]


class Follower:
    """web/test/follow.mjs on one viewer URL."""

    def __init__(self, url):
        self.process = subprocess.Popen(
            ["node", str(ROOT / "web/test/follow.mjs"), url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        line = self.process.stdout.readline().strip()
        if line != "connected":
            fail(f"the viewer page at {url} did not connect: {line!r}")

    def expect(self, names, colour):
        self.process.stdin.write(f"expect {','.join(names)} {colour}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def wait_for_page(status_url, timeout=60):
    """Until a page follows the viewer and has reported its camera."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = json.loads(get(status_url))
        if status["subscribers"] and "position" in status["status"]:
            return
        time.sleep(0.2)
    fail(f"no page reported on the viewer within {timeout} s: {status}")


def evcxr_config(panics_are_errors=True):
    """An evcxr config dir whose init makes panics errors (or keeps evcxr's default, where a
    panic is caught and the cell's variables survive), and caches compiled crates."""
    folder = Path(tempfile.mkdtemp(prefix="evcxr-config-"))
    preserve = 0 if panics_are_errors else 1
    (folder / "init.evcxr").write_text(f":preserve_vars_on_panic {preserve}\n:cache 4000\n")
    return folder


def check_server_survives_panics():
    """With evcxr's defaults a panicking cell is caught: the kernel-side server must live on, and
    a viewer made in a later (separately compiled) cell must find that same server."""
    os.environ["EVCXR_CONFIG_DIR"] = str(evcxr_config(panics_are_errors=False))
    os.environ.pop("OCP_NOTEBOOK_URL", None)
    cells = [
        f':dep ocp_notebook = {{ path = "{CRATE["path"]}" }}',
        "use ocp_notebook::notebook::Viewer;\n"
        "let first = Viewer::builder().display(false).build()?;",
        'panic!("a cell that panics");',
        "let second = Viewer::builder().display(false).build()?;\n"
        "let ball = ocp_notebook::model::builder::Mesh::sphere(1.0, 8);\n"
        'format!("same={} parts={}", first.server_url() == second.server_url(), second.show(ball)?.parts)',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        nb, kernel_name="rust", timeout=1800, startup_timeout=120,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()
    panicked = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    if "a cell that panics" not in panicked:
        fail(f"the panicking cell did not report its panic: {nb.cells[2].outputs}")
    answer = "".join(o.get("data", {}).get("text/plain", "") for o in nb.cells[3].outputs)
    if "same=true parts=1" not in answer:
        fail(f"after a panic the server was lost or replaced: {nb.cells[3].outputs}")
    print("  after a panicking cell, a later cell's viewer found the same server and showed a model")


def run(path, mode="full"):
    nb = nbformat.read(path, as_version=4)
    kernel = KERNELS.get(nb.metadata.get("kernelspec", {}).get("name"))
    if kernel is None:
        fail(f"{path}: no kernel for {nb.metadata.get('kernelspec')}")
    if kernel == "rust":
        os.environ["EVCXR_CONFIG_DIR"] = str(evcxr_config())
        point_dep_at_crate(nb)
    # In full mode the notebook must start its own server, not find one from the environment.
    os.environ.pop("OCP_NOTEBOOK_URL", None)
    os.environ.pop("OCP_NOTEBOOK_TOKEN", None)
    server = None
    if mode == "light":
        if kernel == "rust":
            light_mode(nb)
        server = start_server()
    client = NotebookClient(
        nb, kernel_name=kernel, timeout=1800, startup_timeout=120,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    try:
        saved = check(nb, client, path)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
            os.environ.pop("OCP_NOTEBOOK_URL", None)
            os.environ.pop("OCP_NOTEBOOK_TOKEN", None)
        # The executed notebook, outputs and all, for whoever reads a failure.
        name = Path(path).name if mode == "full" else f"{Path(path).stem}-{mode}.ipynb"
        kept = ROOT / "target" / "notebooks" / name
        kept.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, kept)
        print(f"  executed notebook: {kept.relative_to(ROOT)}")
    # Read as others will, with the kernel and its server gone (the light mode's server, a
    # stand-in for a shared one, is stopped above).
    if saved and mode == "full":
        check_saved(nb, path, saved)


def point_dep_at_crate(nb):
    """The notebook's `:dep ocp_notebook` lines on the crate this run tests."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(":dep ocp_notebook")]
    if not cells:
        fail("the notebook has no `:dep ocp_notebook` line")
    for cell in cells:
        cell.source = f':dep ocp_notebook = {{ path = "{CRATE["path"]}" }}'


def light_mode(nb):
    """The notebook with `default-features = false` in its `:dep ocp_notebook` line."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(":dep ocp_notebook"):
            cell.source = cell.source.replace(" }", ", default-features = false }", 1)
            return
    fail("the notebook has no `:dep ocp_notebook` line")


def start_server():
    """The built `ocp-notebook` on a free port with a token, named to the kernel through
    `OCP_NOTEBOOK_URL` and `OCP_NOTEBOOK_TOKEN`."""
    token = uuid.uuid4().hex
    server = subprocess.Popen(
        [os.environ["OCP_NOTEBOOK_BIN"], "--port", "0", "--token", token],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    url = server.stdout.readline().strip().split("?")[0].rstrip("/")
    if not url.startswith("http://127.0.0.1:"):
        fail(f"the server did not print its URL: {url!r}")
    os.environ["OCP_NOTEBOOK_URL"] = url
    os.environ["OCP_NOTEBOOK_TOKEN"] = token
    return server


def check(nb, client, path):
    follower = None
    server = viewer_status_url = None
    scene = []
    offline = []
    colour = nb.metadata.get("ocp_notebook_test", {}).get("colour", "#4682b4")
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            expect = cell.metadata.get("ocp_notebook_test", {})
            if expect.get("status") or expect.get("screenshot"):
                # A person runs such a cell after looking at the viewer: let the page draw and
                # report first (Python cells run in milliseconds).
                wait_for_page(viewer_status_url)
            start = time.time()
            client.execute_cell(cell, index)
            took = time.time() - start
            print(f"  cell {index:2} {took:7.1f} s  {cell.source.splitlines()[0][:70]}", flush=True)
            outputs = cell.get("outputs", [])
            for output in outputs:
                if output.output_type == "error":
                    fail(f"cell {index} failed: {output.ename}: {output.evalue}")
                if output.get("name") == "stderr" and "panicked" in output.get("text", ""):
                    fail(f"cell {index} panicked: {output.text}")
            bundles = [o.get("data", {}) for o in outputs if "data" in o]
            html = "".join(b.get("text/html", "") for b in bundles)
            script = "".join(b.get("application/javascript", "") for b in bundles)
            text = "".join(b.get("text/plain", "") for b in bundles)
            frames = [f.replace("&amp;", "&") for f in re.findall(r'<iframe src="([^"]+)"', html)]
            if expect.get("viewer"):
                if len(frames) != 1:
                    fail(f"cell {index} should show one viewer iframe: {bundles}")
                url = frames[0]
                if follower is not None:
                    follower.close()
                server, page = url.split("/viewer/")
                viewer_status_url = f"{server}/api/viewer/{page.split('?')[0]}/status"
                if "ocp_notebook viewer" not in text:
                    fail(f"cell {index} has no text/plain summary for saved notebooks")
                follower = Follower(url)
            if "viewers" in expect:
                if len(frames) != expect["viewers"]:
                    fail(f"cell {index} shows {len(frames)} iframes, not {expect['viewers']}: {html}")
                for frame in frames:
                    base, page = frame.split("/viewer/")
                    status = json.loads(get(f"{base}/api/viewer/{page.split('?')[0]}/status"))
                    if status["model_id"] is None:
                        fail(f"cell {index}: viewer {page} shows no model")
            for wanted in expect.get("text", []):
                if wanted not in text:
                    fail(f"cell {index} does not show {wanted!r}: {text!r}")
            if "parts" in expect:
                model_id = re.search(r"model ([0-9a-f]{32})", text)
                if not model_id:
                    fail(f"cell {index} does not say which model it stored: {text!r}")
                stored = json.loads(get(f"{server}/api/model/{model_id.group(1)}"))
                names = leaf_names(stored["data"]["shapes"])
                if names != expect["parts"]:
                    fail(f"cell {index}: the server holds {names}, expected {expect['parts']}")
                scene = names
            if expect.get("scene"):
                if '"srcdoc"' not in script or "DecompressionStream" not in script:
                    fail(f"cell {index} does not hold the scene: {script[:300]!r}")
                if html:
                    fail(f"cell {index} holds HTML, which a sanitizer strips: {html[:300]!r}")
                if not any("image/png" in b for b in bundles):
                    fail(f"cell {index} has no PNG of the page for untrusted notebooks")
                offline.append(index)
            if expect.get("screenshot"):
                png = next((b["image/png"] for b in bundles if "image/png" in b), None)
                if png is None:
                    fail(f"cell {index} shows no image: {bundles}")
                data = base64.b64decode(png)
                if not data.startswith(b"\x89PNG") or len(data) < 10_000:
                    fail(f"cell {index}: not a PNG of a scene ({len(data)} bytes)")
            if expect.get("status"):
                status = json.loads(get(viewer_status_url))
                if status["subscribers"] < 1 or len(status["status"].get("position", [])) != 3:
                    fail(f"cell {index}: no page reported the camera: {status}")
                if "position" not in text:
                    fail(f"cell {index} does not show the camera: {text!r}")
        if follower is None:
            fail(f"{path} never showed a viewer")
        if scene:
            result = follower.expect(scene, colour)
            if not result["ok"] or result["errors"] or result["colour_share"] < 0.003:
                fail(f"the final scene is not what the page shows: {result}")
            print(f"  the page shows {', '.join(scene)} ({result['colour_share']:.1%} of {colour})")
        follower.close()
    if offline:
        return {"cell": offline[-1], "scene": scene, "colour": colour, "server": server}
    return None


def check_saved(nb, path, saved):
    """The saved notebook, read with its ocp_notebook server stopped, as others read it."""
    deadline = time.time() + 20
    while True:
        try:
            get(f"{saved['server']}/health")
        except OSError:
            break
        if time.time() > deadline:
            fail(f"the server at {saved['server']} still answers: these checks need it stopped")
        time.sleep(0.2)
    print(f"  with the kernel and its server ({saved['server']}) stopped:")
    marker = nb.cells[saved["cell"]].source.strip().splitlines()[-1]
    check_offline(nb, path, saved["scene"], saved["colour"])
    check_markdown(nb, path)
    if kernel_name(nb) == "python3":
        check_sanitized(nb, path, marker, saved["colour"])
        check_frontends(nb, path, marker, saved["colour"])


def readme_notebook(language):
    """The README's code blocks in `language`, in order, as the cells of a notebook (as a
    reader pastes them): the `:dep` line points at the crate under test. Expected: no cell fails, a cell
    making a viewer shows it, and a screenshot is a PNG."""
    text = (ROOT / "README.md").read_text()
    cells = []
    for block in re.findall(rf"```{language}\n(.*?)```", text, re.S):
        source = block.strip()
        cell = nbformat.v4.new_code_cell(source)
        if re.search(r"Viewer::new\(\)|Viewer\(\)|use_ocp_vscode\(\)", source):
            cell.metadata["ocp_notebook_test"] = {"viewer": True}
        elif "screenshot()" in source:
            cell.metadata["ocp_notebook_test"] = {"screenshot": True}
        cells.append(cell)
    if not cells:
        fail(f"the README has no {language} examples")
    kernel = {"rust": "rust", "python": "python3"}[language]
    path = ROOT / "target" / "notebooks" / f"readme_{language}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": kernel, "language": language, "display_name": language}},
    )
    nbformat.write(nb, path)
    return path


def check_offline(nb, path, scene, colour):
    """The notebook as `jupyter nbconvert --to html` writes it, opened with no server and no
    network: the scene a cell holds draws the model."""
    converted = convert(nb, path, ".html", "--to", "html")
    result, errors = node(ROOT / "web/test/offline.mjs", converted, scene[-1], colour)
    if not result.get("ok") or result.get("outside") or result.get("colour_share", 0) < 0.003:
        fail(f"the converted notebook does not draw its scene offline: {result} {errors}")
    size = converted.stat().st_size / 1e6
    print(f"  nbconvert --to html ({size:.1f} MB), opened offline: the scene draws "
          f"{scene[-1]} ({result['colour_share']:.1%} of {colour})")


def convert(nb, path, suffix, *options):
    """The executed notebook, written to a folder of its own and converted by nbconvert with
    `options`: the file it wrote (`suffix`), beside whatever else it wrote."""
    executed = Path(tempfile.mkdtemp(prefix="ocp-saved-")) / Path(path).name
    nbformat.write(nb, executed)
    subprocess.run([sys.executable, "-m", "nbconvert", *options, str(executed)], check=True, capture_output=True)
    return executed.with_suffix(suffix)


def node(*args):
    """A web/test script's one JSON line."""
    answer = subprocess.run(["node", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=400)
    lines = answer.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else {}), answer.stderr[-2000:]


def kernel_name(nb):
    return nb.metadata.get("kernelspec", {}).get("name")


def check_sanitized(nb, path, marker, colour):
    """`--sanitize-html` keeps a script's output empty: the scene cell shows its PNG, an output of
    its own (Python kernels; evcxr shows one output per cell, which such a page keeps empty)."""
    converted = convert(nb, path, ".html", "--to", "html", "--sanitize-html")
    result, errors = node(ROOT / "web/test/offline.mjs", converted, marker, colour, "image")
    if not result.get("ok") or result.get("scenes") or result.get("colour_share", 0) < 0.01:
        fail(f"nbconvert --sanitize-html does not show the scene's image: {result} {errors}")
    print(f"  nbconvert --to html --sanitize-html: the cell shows the image ({result['colour_share']:.1%} "
          f"of {colour}), no scene")


def check_markdown(nb, path):
    """A Markdown export keeps the scene cell's PNG as a file beside the text, and no script."""
    converted = convert(nb, path, ".md", "--to", "markdown")
    markdown = converted.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown)
    files = [converted.parent / name for name in images]
    if not files or not all(f.is_file() and f.read_bytes().startswith(b"\x89PNG") for f in files):
        fail(f"nbconvert --to markdown keeps no PNG files: {images}")
    if "application/javascript" in markdown or "srcdoc" in markdown:
        fail("the Markdown export carries the scene's script")
    print(f"  nbconvert --to markdown: {len(files)} PNG files beside the text")


def check_frontends(nb, path, marker, colour):
    """The saved notebook opened where someone else would open it: a second Jupyter server with
    its own notary secret (nothing of this run's Jupyter), in JupyterLab and Notebook 7. Unsigned
    there, its outputs are untrusted: the scene cell shows the image. After `jupyter trust` on that
    server, the scene draws in the cell and no image shows with it."""
    folder = Path(tempfile.mkdtemp(prefix="ocp-frontends-"))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_DATA_DIR": str(folder / "data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
    }
    shared = folder / "notebooks" / "shared.ipynb"
    shared.parent.mkdir()
    nbformat.write(nb, shared)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--ServerApp.password=",
         "--ServerApp.allow_root=True",
         f"--ServerApp.root_dir={shared.parent}", "--ServerApp.port_retries=0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        frontends = {"JupyterLab": f"{base}/lab/tree/shared.ipynb", "Notebook 7": f"{base}/notebooks/shared.ipynb"}
        for trusted in (False, True):
            if trusted:
                subprocess.run([sys.executable, "-m", "jupyter", "trust", str(shared)], env=env,
                               check=True, capture_output=True)
            for name, url in frontends.items():
                result, errors = node(ROOT / "web/test/frontend.mjs", url, marker, colour)
                if not result.get("ok"):
                    fail(f"{name} did not show the notebook: {result} {errors}")
                # What the cell's text says must be what the reader can do there.
                caption = ("it shows without a server" if trusted
                           else "trust the notebook to see the model here")
                if trusted and (result["scenes"] != 1 or result["images"] or result["scene_share"] < 0.003):
                    fail(f"{name}, trusted: the scene must draw and no image show: {result}")
                if not trusted and (result["scenes"] or result["images"] != 1 or result["image_share"] < 0.01):
                    fail(f"{name}, untrusted: the cell must show the image and no scene: {result}")
                if caption not in result["caption"]:
                    fail(f"{name}: the cell's caption should say {caption!r}: {result['caption']!r}")
                what = (f"the scene draws ({result['scene_share']:.1%} of {colour}), no image" if trusted
                        else f"the image shows ({result['image_share']:.1%} of {colour}), no scene")
                print(f"  {name}, {'trusted' if trusted else 'untrusted (another notary)'}: {what}; "
                      f"it reads {result['caption'].splitlines()[-1]!r}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            fail(f"the Jupyter server stopped: {process.stderr.read()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    fail(f"no Jupyter server on port {port} within {seconds} s")


def run_both_modes(path):
    """A notebook as written, and a Rust one in light mode too."""
    print(f"{path}:", flush=True)
    run(path)
    if nbformat.read(path, as_version=4).metadata.get("kernelspec", {}).get("name") == "rust":
        print(f"{path}, light mode:", flush=True)
        run(path, mode="light")


def main(args):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crate", help="the unpacked crate that `:dep ocp_notebook` uses")
    parser.add_argument("notebooks", nargs="*", help="just these notebooks")
    options = parser.parse_args(args)
    if options.crate:
        CRATE["path"] = str(Path(options.crate).resolve())
    if options.notebooks:
        for path in options.notebooks:
            run_both_modes(path)
        print("notebooks: all passed")
        return
    for path in sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb")):
        run_both_modes(path)
    for language in ("rust", "python"):
        print(f"the README's {language} examples, in light mode:", flush=True)
        run(readme_notebook(language), mode="light")
    print("kernel-side server across panics:", flush=True)
    check_server_survives_panics()
    print("notebooks: all passed")


if __name__ == "__main__":
    main(sys.argv[1:])
